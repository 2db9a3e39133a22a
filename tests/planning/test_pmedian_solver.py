"""The exact p-median solver against brute force, OR-Library pmed1/pmed2, and bad input."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest

from servicepoint.planning import instances
from servicepoint.planning.solver import InvalidProblem, Progress, solve_pmedian


def bench_data() -> Path:
    """The shared benchmark data (OR-Library, TSPLIB), kept beside the checkout, not in git."""
    configured = os.environ.get("SERVICEPOINT_BENCH_DATA")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2].parent / "shared" / "bench-data"


def pmed(name: str) -> instances.OrlibInstance:
    path = bench_data() / "pmed" / f"{name}.txt"
    if not path.exists():
        pytest.skip(f"OR-Library {name} is not at {path.parent} (set SERVICEPOINT_BENCH_DATA)")
    return instances.read_orlib(instances.read_text(path))


def brute_force(
    dist: np.ndarray, p: int, weights: np.ndarray, fixed: set[int], closed: set[int]
) -> float:
    """The optimum by trying every set of p sites (n ≤ 12: at most 924 sets)."""
    sites = [j for j in range(dist.shape[1]) if j not in closed]
    best = np.inf
    for chosen in itertools.combinations(sites, p):
        if fixed <= set(chosen):
            best = min(best, float(weights @ dist[:, list(chosen)].min(axis=1)))
    return best


def test_a_hand_checked_line_of_five_towns() -> None:
    # Towns at 0, 1, 2, 10, 11 on a line: with two sites, one serves {0,1,2} from 1, the other
    # {10,11} from either end: 1 + 1 + 1 = 3.
    x = np.array([0.0, 1.0, 2.0, 10.0, 11.0])
    dist = np.abs(x[:, None] - x[None, :])
    result = solve_pmedian(dist, 2)
    assert (result.objective, result.optimal, result.lower_bound) == (3.0, True, 3.0)
    assert result.facilities[0] == 1 and result.facilities[1] in (3, 4)
    # Closing town 1 moves the first site to 0 or 2: 1 + 2 + 1 = 4 (or 2 + 1 + 1).
    assert solve_pmedian(dist, 2, forced_closed=[1]).objective == 4.0
    # Fixing town 0 open with p = 2 leaves the second site for the far pair: 1 + 2 + 1 = 4.
    assert solve_pmedian(dist, 2, fixed_open=[0]).facilities[0] == 0


@pytest.mark.parametrize("seed", range(12))
def test_random_small_instances_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(4, 16)), int(rng.integers(3, 13))
    p = int(rng.integers(1, n + 1))
    dist = rng.integers(0, 60, (m, n)).astype(float)
    weights = rng.integers(0, 5, m).astype(float)  # zero weights too: they must not matter
    fixed = set(rng.choice(n, int(rng.integers(0, min(p, 3) + 1)), replace=False).tolist())
    free = [j for j in range(n) if j not in fixed]
    closed = set(rng.choice(free, min(len(free) - (p - len(fixed)), 2), replace=False).tolist())
    result = solve_pmedian(dist, p, weights, fixed_open=sorted(fixed), forced_closed=sorted(closed))
    assert result.optimal
    assert result.objective == brute_force(dist, p, weights, fixed, closed)
    assert fixed <= set(result.facilities) and not closed & set(result.facilities)
    assert len(set(result.facilities)) == p


@pytest.mark.parametrize("seed", range(4))
def test_fractional_distances_and_weights_are_proven_too(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    points = rng.uniform(0, 10, (12, 2))
    dist = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2)
    weights = rng.uniform(0.5, 3.0, 12)
    result = solve_pmedian(dist, 3, weights)
    assert result.optimal
    assert result.objective == pytest.approx(brute_force(dist, 3, weights, set(), set()), rel=1e-9)


def test_pmed1_is_5819_proven_and_the_minimum_rule_would_give_5718() -> None:
    instance = pmed("pmed1")
    result = solve_pmedian(instance.dist, instance.p)
    assert (result.objective, result.optimal) == (5819.0, True)
    # Beasley's note: keeping the smaller of a repeated edge's costs changes the instance.
    text = instances.read_text(bench_data() / "pmed" / "pmed1.txt")
    n, p, _ = instances.edge_costs(text)
    smallest: dict[tuple[int, int], int] = {}
    for line in text.splitlines()[1:]:
        if line.split():
            i, j, cost = (int(v) for v in line.split())
            key = (min(i, j) - 1, max(i, j) - 1)
            smallest[key] = min(cost, smallest.get(key, cost))
    assert solve_pmedian(instances.all_pairs(n, smallest), p).objective == 5718.0


def test_pmed2_is_4093_proven_and_progress_is_reported() -> None:
    instance = pmed("pmed2")
    seen: list[Progress] = []
    result = solve_pmedian(instance.dist, instance.p, progress=seen.append)
    assert (result.objective, result.optimal, len(result.facilities)) == (4093.0, True, 10)
    assert seen and seen[0].phase == "heuristic"
    assert all(s.lower_bound <= 4093.0 + 1e-6 for s in seen)


def test_a_time_limit_returns_the_best_found_with_a_valid_bound() -> None:
    instance = pmed("pmed2")
    result = solve_pmedian(instance.dist, instance.p, time_limit=0.0)
    assert result.objective >= 4093.0 and result.lower_bound <= 4093.0
    assert len(result.facilities) == instance.p
    quick = solve_pmedian(instance.dist, instance.p, exact=False)
    assert quick.objective >= 4093.0 and not quick.optimal


def test_degenerate_cases() -> None:
    dist = np.array([[0.0, 4.0, 9.0], [4.0, 0.0, 5.0]])
    everyone = solve_pmedian(dist, 3)
    assert (everyone.facilities, everyone.objective, everyone.optimal) == ((0, 1, 2), 0.0, True)
    nobody = solve_pmedian(dist, 1, weights=[0, 0])
    assert (nobody.objective, nobody.optimal) == (0.0, True)
    fixed = solve_pmedian(dist, 1, fixed_open=[2])
    assert (fixed.facilities, fixed.objective, fixed.optimal) == ((2,), 14.0, True)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"p": 0}, "p = 0"),
        ({"p": 4}, "p = 4"),
        ({"p": 1, "fixed_open": [0, 1]}, "gesetzt"),
        ({"p": 2, "forced_closed": [0, 1]}, "p = 2"),
        ({"p": 1, "fixed_open": [1], "forced_closed": [1]}, "zugleich"),
        ({"p": 1, "fixed_open": [3]}, "außerhalb"),
        ({"p": 1, "forced_closed": [-1]}, "außerhalb"),
        ({"p": 1, "weights": [1.0]}, "Gewicht"),
        ({"p": 1, "weights": [1.0, -1.0]}, "Gewicht"),
        ({"p": 1, "weights": [1.0, float("nan")]}, "Gewicht"),
    ],
)
def test_inconsistent_problems_are_refused(kwargs: dict[str, object], fragment: str) -> None:
    dist = np.array([[0.0, 4.0, 9.0], [4.0, 0.0, 5.0]])
    with pytest.raises(InvalidProblem) as caught:
        solve_pmedian(dist, **kwargs)  # type: ignore[arg-type]
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    "dist",
    [np.zeros((0, 3)), np.zeros(3), np.array([[0.0, -1.0]]), np.array([[0.0, np.inf]])],
)
def test_bad_matrices_are_refused(dist: np.ndarray) -> None:
    with pytest.raises(InvalidProblem):
        solve_pmedian(dist, 1)


def test_a_time_limit_holds_on_an_instance_too_large_to_prove_in_it() -> None:
    rng = np.random.default_rng(5)
    clients, sites = rng.uniform(0, 1e5, (3000, 2)), rng.uniform(0, 1e5, (400, 2))
    dist = instances.floor_euclidean(clients, sites)
    result = solve_pmedian(dist, 15, time_limit=1.0)
    assert result.seconds < 4.0  # the limit, plus one LP round or interchange at most
    assert 0 < result.lower_bound <= result.objective and len(result.facilities) == 15


def test_one_input_check_for_every_solver() -> None:
    from servicepoint.planning import center, coverage, evaluate, mip, solver

    assert mip.check is solver.check_problem
    for module in (center, coverage, evaluate):
        assert vars(module)["check"] is solver.check_problem
    dist = np.array([[1.0, 2.0], [2.0, 1.0]])
    # p = True passed the p-median's own check before (True == 1); now the shared one refuses it.
    with pytest.raises(InvalidProblem, match="p = True"):
        solve_pmedian(dist, True)
    for run in (
        lambda: solve_pmedian(dist, 1, forced_closed=[0, 1]),
        lambda: center.solve_pcenter(dist, 1, forced_closed=[0, 1]),
    ):
        with pytest.raises(InvalidProblem, match="Alle Standorte sind geschlossen"):
            run()
