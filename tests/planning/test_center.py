"""p-center and the balanced model: hand-checked optima, brute force on random small
instances, fixed and closed sites, progress and bad input."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from servicepoint.planning.center import solve_balanced, solve_pcenter
from servicepoint.planning.coverage import InvalidProblem
from servicepoint.planning.mip import Stage, solve_mip

TOWNS = np.array([0.0, 1.0, 2.0, 10.0, 11.0])
LINE = np.abs(TOWNS[:, None] - TOWNS[None, :])


def combos(n: int, p: int, fixed: set[int], closed: set[int]) -> list[list[int]]:
    free = [j for j in range(n) if j not in closed]
    return [list(c) for c in itertools.combinations(free, p) if fixed <= set(c)]


def brute_center(
    dist: np.ndarray, w: np.ndarray, p: int, fixed: set[int], closed: set[int]
) -> float:
    rows = w > 0
    return min(
        float(dist[rows][:, c].min(axis=1).max()) for c in combos(dist.shape[1], p, fixed, closed)
    )


def brute_balanced(
    dist: np.ndarray, w: np.ndarray, p: int, limit: float, fixed: set[int], closed: set[int]
) -> float:
    rows = w > 0
    best = np.inf
    for c in combos(dist.shape[1], p, fixed, closed):
        nearest = dist[:, c].min(axis=1)
        if nearest[rows].max() <= limit * (1 + 1e-9):
            best = min(best, float(w @ nearest))
    return best


def random_instance(seed: int) -> tuple[np.ndarray, np.ndarray, int, set[int], set[int]]:
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(3, 14)), int(rng.integers(2, 10))
    if seed % 2:
        dist = rng.integers(0, 40, (m, n)).astype(float)  # many ties
    else:
        points, sites = rng.uniform(0, 10, (m, 2)), rng.uniform(0, 10, (n, 2))
        dist = np.linalg.norm(points[:, None, :] - sites[None, :, :], axis=2)
    weights = rng.integers(0, 4, m).astype(float)
    weights[0] += 1.0
    p = int(rng.integers(1, n + 1))
    fixed = set(rng.choice(n, int(rng.integers(0, min(p, 2) + 1)), replace=False).tolist())
    free = [j for j in range(n) if j not in fixed]
    closed = set(rng.choice(free, min(len(free) - (p - len(fixed)), 2), replace=False).tolist())
    return dist, weights, p, fixed, closed


def test_pcenter_hand_checked_on_the_line() -> None:
    # One site: town 2 is 9 km from town 4, every other town farther from someone.
    one = solve_pcenter(LINE, 1)
    assert (one.facilities, one.radius, one.optimal) == ((2,), 9.0, True)
    # Two sites: town 1 reaches the triple within 1 km, 3 or 4 the pair within 1 km.
    two = solve_pcenter(LINE, 2)
    assert two.radius == 1.0 and two.facilities[0] == 1 and two.optimal
    # Town 1 closed: 0 or 2 leaves someone 2 km away.
    assert solve_pcenter(LINE, 2, forced_closed=[1]).radius == 2.0
    # Town 4 fixed: the other site serves the triple, 1 km.
    fixed = solve_pcenter(LINE, 2, fixed_open=[4])
    assert fixed.radius == 1.0 and fixed.facilities == (1, 4)
    # Points without weight do not count: only the pair matters, and one site does it in 1 km.
    assert solve_pcenter(LINE, 1, weights=[0, 0, 0, 1, 1]).radius == 1.0


def test_pcenter_opens_exactly_p_sites_where_they_help_most() -> None:
    # p = 3: two sites already give 1 km; the third goes where it shortens distances most.
    result = solve_pcenter(LINE, 3, weights=[1, 1, 1, 1, 1])
    assert len(result.facilities) == 3 and result.radius == 1.0


@pytest.mark.parametrize("seed", range(20))
def test_pcenter_random_small_instances_match_brute_force(seed: int) -> None:
    dist, weights, p, fixed, closed = random_instance(seed)
    result = solve_pcenter(
        dist, p, weights=weights, fixed_open=sorted(fixed), forced_closed=sorted(closed)
    )
    assert result.optimal
    assert result.radius == pytest.approx(brute_center(dist, weights, p, fixed, closed))
    assert len(result.facilities) == p
    assert fixed <= set(result.facilities) and not closed & set(result.facilities)


def test_pcenter_needs_the_mip_when_greedy_cover_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    # Six points; at 1 km site 0 covers {0,1,3,4}, site 1 {0,1,2}, site 2 {3,4,5}. The greedy
    # cover and the farthest-first start both take site 0 first and then need three sites;
    # with p = 2 only sites 1 and 2 reach everyone within 1 km, which only the MIP finds.
    cover = np.array([[1, 1, 0], [1, 1, 0], [0, 1, 0], [1, 0, 1], [1, 0, 1], [0, 0, 1]])
    dist = np.where(cover == 1, 1.0, 5.0)
    calls: list[object] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return solve_mip(*args, **kwargs)

    monkeypatch.setattr("servicepoint.planning.center.solve_mip", counted)
    result = solve_pcenter(dist, 2)
    assert (result.radius, result.facilities, result.optimal) == (1.0, (1, 2), True)
    assert calls


def test_balanced_hand_checked() -> None:
    # One site, town 0 heavy (5): R* = 9 needs town 2 (mean 28 / 9); half again (13.5 km)
    # allows town 0 itself: 1 + 2 + 10 + 11 = 24.
    points = solve_balanced(LINE, [5, 1, 1, 1, 1], 1, slacks=(0.0, 0.5))
    assert [(q.max_km_allowed, q.facilities, q.objective) for q in points] == [
        (9.0, (2,), 28.0),
        (13.5, (0,), 24.0),
    ]
    assert points[0].max_km == 9.0 and points[1].max_km == 11.0
    assert points[0].mean_km == pytest.approx(28 / 9) and all(q.optimal for q in points)
    assert [q.slack for q in points] == [0.0, 0.5]


def test_balanced_keeps_the_limit_when_a_heavy_cluster_pulls_away() -> None:
    # The triple weighs 100 each: town 1 would cost 100 + 100 + 9 + 10 = 219 but leaves the pair
    # 10 km away, beyond R* = 9. Within 9 km only town 2 works: 200 + 100 + 8 + 9 = 317. The
    # penalty for the light pair must outweigh the 98 between the two.
    (point,) = solve_balanced(LINE, [100, 100, 100, 1, 1], 1, slacks=(0.0,))
    assert (point.facilities, point.objective, point.max_km, point.optimal) == (
        (2,),
        317.0,
        9.0,
        True,
    )


@pytest.mark.parametrize("seed", range(12))
def test_balanced_random_small_instances_match_brute_force(seed: int) -> None:
    dist, weights, p, fixed, closed = random_instance(500 + seed)
    radius = brute_center(dist, weights, p, fixed, closed)
    points = solve_balanced(
        dist, weights, p, fixed_open=sorted(fixed), forced_closed=sorted(closed)
    )
    for point, slack in zip(points, (0.0, 0.1, 0.25, 0.5), strict=True):
        limit = radius * (1 + slack)
        assert point.optimal and point.max_km_allowed == pytest.approx(limit)
        assert point.max_km <= limit + 1e-9
        expected = brute_balanced(dist, weights, p, limit, fixed, closed)
        assert point.objective == pytest.approx(expected)
        assert fixed <= set(point.facilities) and not closed & set(point.facilities)
    objectives = [q.objective for q in points]
    assert objectives == sorted(objectives, reverse=True)  # more slack never costs


@pytest.mark.parametrize("seed", range(12))
def test_balanced_with_a_heavy_cluster_and_light_outliers_matches_brute_force(seed: int) -> None:
    # A heavy cluster pulls the plain p-median towards it and leaves light outliers beyond
    # R* × (1 + slack): the limited solves must then keep the limit and still be optimal.
    rng = np.random.default_rng(900 + seed)
    m, n = int(rng.integers(6, 13)), int(rng.integers(3, 9))
    points = np.vstack([rng.normal(0, 1, (m - 3, 2)), rng.uniform(-8, 8, (3, 2))])
    sites = rng.uniform(-6, 6, (n, 2))
    dist = np.linalg.norm(points[:, None, :] - sites[None, :, :], axis=2)
    weights = np.concatenate([rng.uniform(5, 20, m - 3), rng.uniform(0.1, 1, 3)])
    p = int(rng.integers(1, min(3, n) + 1))
    radius = brute_center(dist, weights, p, set(), set())
    for point in solve_balanced(dist, weights, p):
        limit = radius * (1 + point.slack)
        assert point.optimal and point.max_km <= limit * (1 + 1e-9)
        assert point.objective == pytest.approx(
            brute_balanced(dist, weights, p, limit, set(), set())
        )


def test_balanced_reports_progress_step_by_step() -> None:
    seen: list[Stage] = []
    solve_balanced(LINE, np.ones(5), 2, slacks=(0.0, 0.2), progress=seen.append)
    # p-center, the plain p-median, one step per slack, done.
    assert [(s.done, s.total) for s in seen] == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    assert all(s.label for s in seen)


def test_balanced_shares_a_time_limit_and_always_keeps_its_limits() -> None:
    assert all(q.optimal for q in solve_balanced(LINE, np.ones(5), 2, time_limit=30))
    rng = np.random.default_rng(3)
    points, sites = rng.uniform(0, 20, (600, 2)), rng.uniform(0, 20, (40, 2))
    dist = np.linalg.norm(points[:, None, :] - sites[None, :, :], axis=2)
    weights = rng.uniform(0, 10, 600)
    for point in solve_balanced(dist, weights, 5, time_limit=0.0):
        assert point.max_km <= point.max_km_allowed * (1 + 1e-9) and len(point.facilities) == 5


BAD = [
    (lambda: solve_pcenter(LINE, 0), "p = 0"),
    (lambda: solve_pcenter(LINE, 6), "p = 6"),
    (lambda: solve_pcenter(LINE, 1, weights=np.zeros(5)), "null"),
    (lambda: solve_pcenter(LINE, 1, weights=[1, 1]), "Gewicht"),
    (lambda: solve_pcenter(np.full((2, 2), np.nan), 1), "endlich"),
    (lambda: solve_pcenter(LINE, 2, fixed_open=[0], forced_closed=[0]), "zugleich"),
    (lambda: solve_balanced(LINE, np.ones(5), 2, slacks=()), "Spielr"),
    (lambda: solve_balanced(LINE, np.ones(5), 2, slacks=(-0.1,)), "Spielr"),
    (lambda: solve_balanced(LINE, np.ones(5), 2, slacks=(float("nan"),)), "Spielr"),
    (lambda: solve_balanced(LINE, np.zeros(5), 2), "null"),
    (lambda: solve_balanced(LINE, np.ones(5), 9), "p = 9"),
    (lambda: solve_balanced(-LINE, np.ones(5), 2), "nicht negativ"),
    (lambda: solve_balanced(LINE, np.ones(5), 2, time_limit=float("nan")), "Zeitlimit"),
]


@pytest.mark.parametrize(("call", "message"), BAD)
def test_bad_input_is_a_clear_422(call: object, message: str) -> None:
    with pytest.raises(InvalidProblem, match=message) as caught:
        call()  # type: ignore[operator]
    assert caught.value.status_code == 422
