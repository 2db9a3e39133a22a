"""Covering models (MCLP, LSCP): hand-checked optima, brute force on random small instances,
fixed and closed sites, time limits and bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from servicepoint.planning.coverage import CoverResult, InvalidProblem, solve_lscp, solve_mclp
from servicepoint.planning.mip import Model, solve_mip

# Towns on a line at km 0, 1, 2, 10, 11 (the p-median tests' line), distance = |x − y|.
TOWNS = np.array([0.0, 1.0, 2.0, 10.0, 11.0])
LINE = np.abs(TOWNS[:, None] - TOWNS[None, :])


def covered_weight(
    dist: np.ndarray, weights: np.ndarray, sites: tuple[int, ...], r: float
) -> float:
    return float(weights[(dist[:, list(sites)] <= r).any(axis=1)].sum())


def choices(n: int, k: int, fixed: set[int], closed: set[int]) -> list[tuple[int, ...]]:
    free = [j for j in range(n) if j not in closed]
    return [c for c in itertools.combinations(free, k) if fixed <= set(c)]


def brute_mclp(
    dist: np.ndarray, w: np.ndarray, p: int, r: float, fixed: set[int], closed: set[int]
) -> float:
    return max(covered_weight(dist, w, c, r) for c in choices(dist.shape[1], p, fixed, closed))


def brute_lscp(
    dist: np.ndarray, w: np.ndarray, r: float, share: float, fixed: set[int], closed: set[int]
) -> int | None:
    target = share * float(w.sum()) - 1e-9 * float(w.sum())
    for k in range(max(1, len(fixed)), dist.shape[1] - len(closed) + 1):
        if any(
            covered_weight(dist, w, c, r) >= target
            for c in choices(dist.shape[1], k, fixed, closed)
        ):
            return k
    return None


def assert_consistent(result: CoverResult, dist: np.ndarray, w: np.ndarray, r: float) -> None:
    """The reported figures are those of the returned sites."""
    weight = covered_weight(dist, w, result.facilities, r)
    assert result.covered_weight == pytest.approx(weight)
    assert result.covered_share == pytest.approx(weight / w.sum())
    far = (dist[:, list(result.facilities)] > r).all(axis=1) & (w > 0)
    assert result.uncovered == tuple(np.flatnonzero(far))
    assert list(result.facilities) == sorted(set(result.facilities))


def test_mclp_hand_checked_on_the_line() -> None:
    weights = np.ones(5)
    # One site, 1 km: town 1 reaches 0, 1, 2 (3 towns); towns 3 or 4 reach only two.
    one = solve_mclp(LINE, weights, 1, 1.0)
    assert (one.facilities, one.covered_weight, one.optimal, one.bound) == ((1,), 3.0, True, 3.0)
    assert one.covered_share == pytest.approx(0.6) and one.uncovered == (3, 4)
    # Five inhabitants-worth at town 3 make the far pair (6) beat the near triple (3).
    heavy = solve_mclp(LINE, [1, 1, 1, 5, 1], 1, 1.0)
    assert heavy.facilities in ((3,), (4,)) and heavy.covered_weight == 6.0
    # Two sites cover everyone: 1 and one of 3/4.
    two = solve_mclp(LINE, weights, 2, 1.0)
    assert two.covered_share == 1.0 and two.facilities[0] == 1 and two.uncovered == ()
    # Town 1 closed: 0 and 2 each reach two of the triple, 3 or 4 the pair: 2 + 2 = 4.
    closed = solve_mclp(LINE, weights, 2, 1.0, forced_closed=[1])
    assert closed.covered_weight == 4.0 and 1 not in closed.facilities
    # Town 0 fixed open with p = 2: it covers 0 and 1, the other site the pair: 4.
    fixed = solve_mclp(LINE, weights, 2, 1.0, fixed_open=[0])
    assert fixed.covered_weight == 4.0 and 0 in fixed.facilities


def test_mclp_reports_points_no_site_can_reach() -> None:
    # Only sites 0 and 1 may open: towns 3 and 4 lie 8+ km away from both.
    result = solve_mclp(LINE, np.ones(5), 1, 2.0, forced_closed=[2, 3, 4])
    assert result.uncoverable == (3, 4) and result.covered_weight == 3.0
    assert result.bound == 3.0  # never more than the reachable weight


def test_mclp_zero_weight_points_count_for_nothing() -> None:
    result = solve_mclp(LINE, [0, 0, 0, 1, 1], 1, 1.0)
    assert result.facilities in ((3,), (4,)) and result.covered_share == 1.0


@pytest.mark.parametrize("seed", range(15))
def test_mclp_random_small_instances_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(3, 14)), int(rng.integers(2, 10))
    dist = rng.integers(0, 30, (m, n)).astype(float)
    weights = rng.integers(0, 6, m).astype(float)
    weights[0] += 1.0  # some demand
    p = int(rng.integers(1, n + 1))
    r = float(rng.choice(np.unique(dist)))
    fixed = set(rng.choice(n, int(rng.integers(0, min(p, 2) + 1)), replace=False).tolist())
    free = [j for j in range(n) if j not in fixed]
    closed = set(rng.choice(free, min(len(free) - (p - len(fixed)), 2), replace=False).tolist())
    result = solve_mclp(dist, weights, p, r, fixed_open=sorted(fixed), forced_closed=sorted(closed))
    assert result.optimal
    assert result.covered_weight == brute_mclp(dist, weights, p, r, fixed, closed)
    assert len(result.facilities) == p
    assert fixed <= set(result.facilities) and not closed & set(result.facilities)
    assert_consistent(result, dist, weights, r)


def test_lscp_hand_checked_on_the_line() -> None:
    # Everyone within 1 km: the triple needs town 1, the pair town 3 or 4: two sites.
    everyone = solve_lscp(LINE, 1.0)
    assert len(everyone.facilities) == 2 and everyone.facilities[0] == 1
    assert (everyone.covered_share, everyone.optimal, everyone.bound) == (1.0, True, 2.0)
    # 60 %: town 1 alone covers three of five.
    assert solve_lscp(LINE, 1.0, share=0.6).facilities == (1,)
    # 60 % with town 1 closed: no single site reaches three towns, two are needed.
    assert len(solve_lscp(LINE, 1.0, share=0.6, forced_closed=[1]).facilities) == 2
    # 10 km reach everyone from town 1, 2 or 3 (town 0 is 11 km from town 4, town 4 from 0).
    assert solve_lscp(LINE, 10.0).facilities in ((1,), (2,), (3,))
    # Fixed sites count: town 0 fixed, then 1 km still needs the pair's site and one for
    # town 2 (town 0 reaches 0, 1 only): three in all.
    fixed = solve_lscp(LINE, 1.0, fixed_open=[0])
    assert len(fixed.facilities) == 3 and 0 in fixed.facilities and fixed.covered_share == 1.0


def test_lscp_weights_decide_the_share() -> None:
    # 80 % of the weight sits on town 4: site 3 or 4 alone covers 0.8 + 0.05.
    weights = np.array([0.05, 0.05, 0.05, 0.05, 0.8])
    result = solve_lscp(LINE, 1.0, weights=weights, share=0.85)
    assert result.facilities in ((3,), (4,)) and result.covered_share == pytest.approx(0.85)


def test_lscp_unreachable_share_is_refused_with_a_reason() -> None:
    # Sites 0–2 only, 2 km: the far pair (40 % of the towns) can never be covered.
    with pytest.raises(
        InvalidProblem, match="nur 60 % der Nachfrage im Radius, verlangt sind 95 %"
    ):
        solve_lscp(LINE, 2.0, share=0.95, forced_closed=[3, 4])
    # 60 % is reachable, and the pair is reported as uncoverable.
    result = solve_lscp(LINE, 2.0, share=0.6, forced_closed=[3, 4])
    assert len(result.facilities) == 1 and result.uncoverable == (3, 4)


@pytest.mark.parametrize("seed", range(15))
def test_lscp_random_small_instances_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    m, n = int(rng.integers(3, 14)), int(rng.integers(2, 9))
    points = rng.uniform(0, 10, (m, 2))
    sites = rng.uniform(0, 10, (n, 2))
    dist = np.linalg.norm(points[:, None, :] - sites[None, :, :], axis=2)
    weights = rng.uniform(0.0, 3.0, m)
    share = float(rng.choice([0.5, 0.8, 0.9, 1.0]))
    r = float(np.quantile(dist, rng.uniform(0.2, 0.9)))
    fixed = set(rng.choice(n, int(rng.integers(0, 2)), replace=False).tolist())
    closed = {int(j) for j in rng.choice(n, int(rng.integers(0, 2)), replace=False)} - fixed
    expected = brute_lscp(dist, weights, r, share, fixed, closed)
    if expected is None:
        with pytest.raises(InvalidProblem):
            solve_lscp(
                dist,
                r,
                weights=weights,
                share=share,
                fixed_open=sorted(fixed),
                forced_closed=sorted(closed),
            )
        return
    result = solve_lscp(
        dist,
        r,
        weights=weights,
        share=share,
        fixed_open=sorted(fixed),
        forced_closed=sorted(closed),
    )
    assert result.optimal and len(result.facilities) == expected == result.bound
    assert result.covered_share >= share - 1e-9
    assert fixed <= set(result.facilities) and not closed & set(result.facilities)
    assert_consistent(result, dist, weights, r)


def test_a_distance_a_hair_over_the_radius_from_rounding_still_counts() -> None:
    # 3 × 0.1 km = 0.30000000000000004 in floating point; it lies within 0.3 km.
    dist = np.array([[0.1 * 3], [0.0]])
    assert solve_lscp(dist, 0.3).covered_share == 1.0


def test_time_limited_runs_return_a_valid_answer() -> None:
    rng = np.random.default_rng(7)
    points, sites = rng.uniform(0, 30, (400, 2)), rng.uniform(0, 30, (80, 2))
    dist = np.linalg.norm(points[:, None, :] - sites[None, :, :], axis=2)
    weights = rng.uniform(1, 100, 400)
    mclp = solve_mclp(dist, weights, 6, 4.0, time_limit=0.0)
    assert len(mclp.facilities) == 6
    assert mclp.covered_weight - 1e-6 <= mclp.bound <= weights.sum() + 1e-6
    lscp = solve_lscp(dist, 4.0, weights=weights, share=0.9, time_limit=0.0)
    assert lscp.covered_share >= 0.9 - 1e-9 and lscp.bound <= len(lscp.facilities)


BAD = [
    (lambda: solve_mclp(np.array([[np.nan, 1.0]]), [1], 1, 1.0), "endlich"),
    (lambda: solve_mclp(np.array([[-1.0, 1.0]]), [1], 1, 1.0), "nicht negativ"),
    (lambda: solve_mclp(np.array([1.0, 2.0]), [1, 1], 1, 1.0), "zweidimensional"),
    (lambda: solve_mclp(np.zeros((0, 2)), [], 1, 1.0), "zweidimensional"),
    (lambda: solve_mclp(LINE, [1, 1, 1], 1, 1.0), "Gewicht"),
    (lambda: solve_mclp(LINE, [1, 1, 1, 1, -1], 1, 1.0), "Gewicht"),
    (lambda: solve_mclp(LINE, [1, 1, 1, 1, np.inf], 1, 1.0), "Gewicht"),
    (lambda: solve_mclp(LINE, np.ones(5), 0, 1.0), "p = 0"),
    (lambda: solve_mclp(LINE, np.ones(5), 6, 1.0), "p = 6"),
    (lambda: solve_mclp(LINE, np.ones(5), 4, 1.0, forced_closed=[0, 1]), "p = 4"),
    (lambda: solve_mclp(LINE, np.ones(5), 1, 1.0, fixed_open=[0, 1]), "p = 1"),
    (lambda: solve_mclp(LINE, np.ones(5), 1, 0.0), "Radius"),
    (lambda: solve_mclp(LINE, np.ones(5), 1, -2.0), "Radius"),
    (lambda: solve_mclp(LINE, np.ones(5), 1, math.nan), "Radius"),
    (lambda: solve_mclp(LINE, np.ones(5), 1, math.inf), "Radius"),
    (lambda: solve_mclp(LINE, np.zeros(5), 1, 1.0), "null"),
    (lambda: solve_mclp(LINE, np.ones(5), 2, 1.0, fixed_open=[5]), "fixed_open"),
    (lambda: solve_mclp(LINE, np.ones(5), 2, 1.0, forced_closed=[-1]), "forced_closed"),
    (lambda: solve_mclp(LINE, np.ones(5), 2, 1.0, fixed_open=[1], forced_closed=[1]), "zugleich"),
    (lambda: solve_mclp(LINE, np.ones(5), 2, 1.0, time_limit=-1), "Zeitlimit"),
    (lambda: solve_lscp(LINE, 1.0, share=0.0), "Anteil"),
    (lambda: solve_lscp(LINE, 1.0, share=1.5), "Anteil"),
    (lambda: solve_lscp(LINE, 1.0, share=math.nan), "Anteil"),
    (lambda: solve_lscp(LINE, 0.0), "Radius"),
    (lambda: solve_lscp(LINE, 1.0, forced_closed=range(5)), "geschlossen"),
    (lambda: solve_lscp(LINE, 1.0, weights=[1, 2]), "Gewicht"),
]


@pytest.mark.parametrize(("call", "message"), BAD)
def test_bad_input_is_a_clear_422(call: object, message: str) -> None:
    with pytest.raises(InvalidProblem, match=message) as caught:
        call()  # type: ignore[operator]
    assert caught.value.status_code == 422


def test_the_mip_runner_proves_optima_and_infeasibility() -> None:
    # max x + 2y s.t. x + y ≤ 1.5, x, y binary: y = 1, x = 0.
    model = Model(np.array([1.0, 2.0]), np.zeros(2), np.ones(2))
    model.integer[:] = True
    model.add_row(-math.inf, 1.5, np.array([0, 1]), np.ones(2))
    found = solve_mip(model, maximize=True, start=np.array([1.0, 0.0]))
    assert found.optimal and not found.infeasible and found.bound == pytest.approx(2.0)
    assert found.values is not None and list(np.round(found.values)) == [0.0, 1.0]
    # x + y ≥ 3 with two binaries cannot hold: proven infeasible, no values.
    model.add_row(3.0, math.inf, np.array([0, 1]), np.ones(2))
    none = solve_mip(model)
    assert none.infeasible and not none.optimal and none.values is None
