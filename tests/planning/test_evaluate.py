"""Network metrics, the comparison of two networks and the trade-off curve: hand-checked
figures, weighted percentiles against their definition, brute force, bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from servicepoint.planning.evaluate import (
    Change,
    compare,
    evaluate,
    tradeoff,
    weighted_quantile,
)
from servicepoint.planning.mip import Stage
from servicepoint.planning.solver import InvalidProblem

TOWNS = np.array([0.0, 1.0, 2.0, 10.0, 11.0])
LINE = np.abs(TOWNS[:, None] - TOWNS[None, :])
HEAVY = np.array([1.0, 1.0, 1.0, 1.0, 6.0])  # town 4 holds 60 % of the demand


def test_metrics_hand_checked() -> None:
    # Only town 1 open: distances 1, 0, 1, 9, 10; weight 10 in all.
    metrics = evaluate(LINE, HEAVY, [1])
    assert metrics.mean_km == pytest.approx((1 + 0 + 1 + 9 + 60) / 10)
    assert metrics.p95_km == 10.0  # town 4 alone is 60 % of the weight
    assert metrics.max_km == 10.0
    assert metrics.within == {1.0: pytest.approx(0.3), 2.0: pytest.approx(0.3), 3.0: 0.3}
    assert metrics.assignment == (1, 1, 1, 1, 1)
    assert metrics.km == (1.0, 0.0, 1.0, 9.0, 10.0)
    # Farthest first; towns 0 and 2 tie at 1 km and weight 1: by row.
    assert metrics.worst == (4, 3, 0, 2, 1)
    # Towns 1 and 4 open: town 3 goes to 4, 1 km; everyone within 1 km.
    both = evaluate(LINE, HEAVY, [4, 1, 4], radii=(0.5, 1.0), worst=2)
    assert both.assignment == (1, 1, 1, 4, 4) and both.km == (1.0, 0.0, 1.0, 1.0, 0.0)
    assert both.within == {0.5: pytest.approx(0.7), 1.0: 1.0}
    assert both.mean_km == pytest.approx(0.3) and (both.p95_km, both.max_km) == (1.0, 1.0)
    assert both.worst == (0, 2)


def test_points_without_weight_keep_their_distance_but_not_the_worst_case() -> None:
    metrics = evaluate(LINE, [1, 1, 1, 0, 0], [1])
    assert metrics.km[4] == 10.0 and metrics.assignment[4] == 1  # still shown
    assert metrics.max_km == 1.0 and metrics.p95_km == 1.0 and 4 not in metrics.worst
    assert metrics.within[1.0] == 1.0 and evaluate(LINE, HEAVY, [1], worst=0).worst == ()


@pytest.mark.parametrize("seed", range(10))
def test_weighted_percentile_matches_its_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    km = rng.integers(0, 8, 30).astype(float)  # ties on purpose
    weights = rng.integers(0, 5, 30).astype(float)
    weights[0] += 1
    for q in (0.0, 0.5, 0.95, 1.0):
        # The smallest of the distances within which at least the share q of the weight lies.
        expected = min(d for d in km if weights[km <= d].sum() >= q * weights.sum())
        assert weighted_quantile(km, weights, q) == expected


def test_compare_lists_gains_and_losses_beyond_the_threshold() -> None:
    before = evaluate(LINE, HEAVY, [1])
    after = evaluate(LINE, HEAVY, [0, 4])
    # Town 1: 0 → 1 and town 2: 1 → 2 (losses), town 3: 9 → 1, town 4: 10 → 0 (gains).
    changes = compare(before, after)
    # Town 0 gains too (1 → 0): by size of the change.
    assert changes.gains == (Change(4, 10.0, 0.0), Change(3, 9.0, 1.0), Change(0, 1.0, 0.0))
    assert changes.losses == (Change(1, 0.0, 1.0), Change(2, 1.0, 2.0))
    # A change of exactly the threshold is no change.
    assert compare(before, after, threshold_km=1.0).losses == ()
    assert compare(before, before).gains == compare(before, before).losses == ()


def brute_pmedian(
    dist: np.ndarray, w: np.ndarray, k: int, closed: set[int], fixed: frozenset[int] = frozenset()
) -> float:
    sites = [j for j in range(dist.shape[1]) if j not in closed]
    return min(
        float(w @ dist[:, list(c)].min(axis=1))
        for c in itertools.combinations(sites, k)
        if fixed <= set(c)
    )


@pytest.mark.parametrize("seed", range(5))
def test_tradeoff_matches_brute_force_for_every_k(seed: int) -> None:
    rng = np.random.default_rng(seed)
    points, sites = rng.uniform(0, 10, (14, 2)), rng.uniform(0, 10, (9, 2))
    dist = np.linalg.norm(points[:, None, :] - sites[None, :, :], axis=2)
    weights = rng.uniform(0, 5, 14)
    seen: list[Stage] = []
    curve = tradeoff(
        dist, weights, ks=[4, 2, 3, 2], forced_closed=[8], fixed_open=[0], progress=seen.append
    )
    assert [q.k for q in curve] == [2, 3, 4]  # ascending, each once
    for point in curve:
        assert point.optimal and point.objective == pytest.approx(point.lower_bound)
        assert point.objective == pytest.approx(
            brute_pmedian(dist, weights, point.k, {8}, frozenset({0}))
        )
        assert 8 not in point.facilities and 0 in point.facilities
        nearest = dist[:, list(point.facilities)].min(axis=1)
        assert point.mean_km == pytest.approx(weights @ nearest / weights.sum())
        assert point.max_km == pytest.approx(nearest[weights > 0].max())
    objectives = [q.objective for q in curve]
    assert objectives == sorted(objectives, reverse=True)
    assert [(s.done, s.total) for s in seen] == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_tradeoff_without_fixed_sites_is_the_plain_optimum() -> None:
    rng = np.random.default_rng(42)
    dist = rng.integers(0, 50, (12, 8)).astype(float)
    weights = rng.integers(1, 4, 12).astype(float)
    curve = tradeoff(dist, weights, ks=range(1, 9), time_limit=30)
    for point in curve:
        assert point.objective == brute_pmedian(dist, weights, point.k, set())
        assert len(point.facilities) == point.k


BAD = [
    (lambda: evaluate(LINE, HEAVY, []), "kein Standort"),
    (lambda: evaluate(LINE, HEAVY, [5]), "open_sites"),
    (lambda: evaluate(LINE, HEAVY, [1], radii=(1.0, 0.0)), "Radius"),
    (lambda: evaluate(LINE, HEAVY, [1], radii=(math.nan,)), "Radius"),
    (lambda: evaluate(LINE, HEAVY, [1], worst=-1), "schlechtesten"),
    (lambda: evaluate(LINE, HEAVY, [1], worst=True), "schlechtesten"),
    (lambda: evaluate(LINE, np.zeros(5), [1]), "null"),
    (lambda: evaluate(LINE, HEAVY[:3], [1]), "Gewicht"),
    (lambda: evaluate(LINE * np.nan, HEAVY, [1]), "endlich"),
    (
        lambda: compare(evaluate(LINE, HEAVY, [1]), evaluate(LINE[:3], HEAVY[:3], [1])),
        "verschieden",
    ),
    (
        lambda: compare(evaluate(LINE, HEAVY, [1]), evaluate(LINE, HEAVY, [1]), threshold_km=-1),
        "Schwelle",
    ),
    (lambda: tradeoff(LINE, HEAVY, ks=[]), "k"),
    (lambda: tradeoff(LINE, HEAVY, ks=range(5, 13)), "p = 6"),
    (lambda: tradeoff(LINE, HEAVY, ks=[0, 1]), "p = 0"),
    (lambda: tradeoff(LINE, HEAVY, ks=[1], fixed_open=[0, 1]), "p = 1"),
    (lambda: tradeoff(LINE, np.zeros(5), ks=[1]), "null"),
    (lambda: tradeoff(LINE, HEAVY, ks=[1], time_limit=-5), "Zeitlimit"),
]


@pytest.mark.parametrize(("call", "message"), BAD)
def test_bad_input_is_a_clear_422(call: object, message: str) -> None:
    with pytest.raises(InvalidProblem, match=message) as caught:
        call()  # type: ignore[operator]
    assert caught.value.status_code == 422
