"""p-median instance files: the OR-Library last-cost rule, planar points, dirty files."""

from __future__ import annotations

import numpy as np
import pytest

from servicepoint.errors import Unprocessable
from servicepoint.planning import instances
from servicepoint.planning.instances import InstanceFileError


def test_a_repeated_edge_counts_with_its_last_cost_not_its_smallest() -> None:
    # Edge 1–2 first costs 1, then 9: the path over vertex 3 (2 + 2) is now the shortest.
    text = "3 3 1\n1 2 1\n2 3 2\n1 2 9\n 1 3 2 \n"
    with pytest.raises(InstanceFileError):  # four edge lines, the header says three
        instances.read_orlib(text)
    n, p, costs = instances.edge_costs("3 4 1\n1 2 1\n2 3 2\n2 1 9\n1 3 2\n")
    assert (n, p, costs[(0, 1)]) == (3, 1, 9)
    dist = instances.read_orlib("3 4 1\n1 2 1\n2 3 2\n2 1 9\n1 3 2\n").dist
    assert dist[0, 1] == dist[1, 0] == 4


def test_shortest_paths_with_and_without_scipy_agree() -> None:
    rng = np.random.default_rng(7)
    costs = {}
    for i in range(1, 30):
        costs[(i - 1, i)] = int(rng.integers(0, 20))  # a path keeps it connected; 0 is a cost too
    for _ in range(60):
        i, j = sorted(rng.choice(30, 2, replace=False).tolist())
        costs[(i, j)] = int(rng.integers(1, 50))
    ends = np.array(list(costs), dtype=np.int64)
    weights = np.array(list(costs.values()), dtype=np.float64)
    assert np.array_equal(
        instances.all_pairs(30, costs), instances.floyd_warshall(30, ends, weights)
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "leer"),
        ("# nur ein Kommentar\n", "leer"),
        ("3 1\n1 2 3\n", "Zeile 1"),
        ("3 x 1\n", "Zeile 1"),
        ("3 1 4\n1 2 3\n", "p = 4"),
        ("3 2 1\n1 2 3\n", "2 Kanten"),
        ("3 1 1\n1 2\n", "Zeile 2"),
        ("3 1 1\n1 2 3.5\n", "Zeile 2"),
        ("3 1 1\n1 4 3\n", "Knoten 4"),
        ("3 1 1\n0 2 3\n", "Knoten 0"),
        ("3 1 1\n2 2 3\n", "sich selbst"),
        ("3 1 1\n1 2 -3\n", "negative"),
        ("3 1 1\n1 2 3\n", "nicht zusammenhängend: Knoten 3"),
    ],
)
def test_dirty_orlib_files_are_rejected_with_the_line(text: str, fragment: str) -> None:
    with pytest.raises(InstanceFileError) as caught:
        instances.read_orlib(text)
    assert fragment in str(caught.value)
    assert isinstance(caught.value, Unprocessable)  # a page upload answers 422, never 500


def test_points_with_comments_and_floored_distances() -> None:
    text = "# id x y\n a 0 0\nb 3 4 # a comment\n\nc 1 1\n"
    planar = instances.read_points(text)
    assert planar.ids == ("a", "b", "c")
    dist = instances.floor_euclidean(planar.xy, planar.xy)
    assert dist[0, 1] == 5 and dist[0, 2] == 1 and dist[1, 2] == 3  # √13 = 3.6 → 3
    assert instances.point_ids(planar) == ["a", "b", "c"]
    assert instances.point_ids(instances.read_points("1 0 0\n2 1 1\n")) == [1, 2]


def test_floored_distances_are_exact_next_to_perfect_squares() -> None:
    a = np.array([[0.0, 0.0]])
    b = np.array([[99_999.0, 0.0], [70_000.0, 70_000.0], [3.0, 4.0]])
    dist = instances.floor_euclidean(a, b)
    assert dist.tolist() == [[99_999.0, 98_994.0, 5.0]]  # 70000·√2 = 98994.9…


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "keine Punkte"),
        ("1 0\n", "Zeile 1"),
        ("1 0 0 0\n", "Zeile 1"),
        ("1 0 zero\n", "Zeile 1"),
        ("1 0 0\n2 nan 1\n", "Zeile 2"),
        ("1 0 0\n2 inf 1\n", "Zeile 2"),
        ("1 0 0\n2 1 1\n1 5 5\n", "Zeile 3: die ID 1 steht schon in Zeile 1"),
    ],
)
def test_dirty_point_files_are_rejected_with_the_line(text: str, fragment: str) -> None:
    with pytest.raises(InstanceFileError) as caught:
        instances.read_points(text)
    assert fragment in str(caught.value)


def test_too_many_points_are_refused_before_any_matrix_is_built() -> None:
    text = "".join(f"{i} {i} 0\n" for i in range(instances.MAX_POINTS + 1))
    with pytest.raises(InstanceFileError, match="höchstens"):
        instances.read_points(text)
