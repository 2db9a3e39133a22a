"""Benders cuts of the radius formulation: tight where separated, valid everywhere, and the
same whichever of the two separation paths computes them."""

from __future__ import annotations

import numpy as np
import pytest

from servicepoint.planning.separation import Separator


def random_point(rng: np.random.Generator, n: int, p: int, support: int) -> np.ndarray:
    """A point of {Σ y = p, 0 ≤ y ≤ 1} with the given number of positive entries."""
    y = np.zeros(n)
    chosen = rng.choice(n, support, replace=False)
    y[chosen] = p / support
    return y


@pytest.mark.parametrize("seed", range(30))
def test_both_paths_give_the_same_values_and_radii(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(2, 30)), int(rng.integers(12, 60))
    p = int(rng.integers(1, n // 4 + 1))
    dist = rng.integers(0, 25, (m, n)).astype(float)  # many ties, on purpose
    sep = Separator(dist, p, np.zeros(0, dtype=np.int64))
    y = random_point(rng, n, p, int(rng.integers(p, n // 4 + 1)))
    few = sep.separate(y)  # few sites with y > 0: the support path
    full = sep._separate(sep.sorted, y[sep.order])
    assert np.allclose(few.value, full.value) and np.allclose(few.radius, full.radius)


@pytest.mark.parametrize("seed", range(30))
def test_cuts_are_tight_at_the_point_and_valid_at_every_solution(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    m, n, p = 8, 10, int(rng.integers(1, 5))
    dist = rng.integers(0, 40, (m, n)).astype(float)
    sep = Separator(dist, p, np.zeros(0, dtype=np.int64))
    y = random_point(rng, n, p, int(rng.integers(p, n + 1)))
    found = sep.separate(y)
    clients = np.arange(m)
    # The subproblem value is the fractional assignment cost, and the cut meets it at y.
    assert np.allclose(sep.values(y, clients, found.radius), found.value)
    for _ in range(40):  # at any integral solution the cut is below the true distance
        open_sites = rng.choice(n, p, replace=False)
        z = np.zeros(n)
        z[open_sites] = 1.0
        true = dist[:, open_sites].min(axis=1)
        assert np.all(sep.values(z, clients, found.radius) <= true + 1e-9)
