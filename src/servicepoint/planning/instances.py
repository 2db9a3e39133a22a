"""p-median instance files: OR-Library `pmed` graphs and planar point lists, read strictly.

A dirty file is rejected with the line that is wrong; nothing is dropped or guessed silently,
because a silently changed instance gives a different optimum (pmed1: 5819, or 5718 when a
repeated edge keeps its smaller cost instead of its last one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from servicepoint.core.i18n import N_
from servicepoint.errors import Unprocessable

try:  # scipy's Dijkstra is much faster; the NumPy Floyd–Warshall keeps scipy optional
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import shortest_path
except ImportError:  # pragma: no cover - exercised only without scipy
    shortest_path = None

# The solver holds a few n × n float64 matrices: 5,000 points take about 200 MB each.
MAX_POINTS = 5_000

_HEADER = N_(
    "Zeile %(line)s: die Kopfzeile muss „n m p“ sein (drei ganze Zahlen), nicht „%(text)s“."
)
_HEADER_RANGE = N_(
    "Zeile %(line)s: ungültige Kopfzeile n = %(n)s, m = %(m)s, p = %(p)s "
    "(es muss 1 ≤ p ≤ n ≤ %(max)s und m ≥ 0 gelten)."
)
_EDGE = N_(
    "Zeile %(line)s: eine Kante muss „i j Kosten“ sein (drei ganze Zahlen), nicht „%(text)s“."
)
_VERTEX = N_("Zeile %(line)s: Knoten %(vertex)s liegt nicht zwischen 1 und %(n)s.")
_LOOP = N_("Zeile %(line)s: die Kante verbindet Knoten %(vertex)s mit sich selbst.")
_COST = N_("Zeile %(line)s: negative Kosten %(cost)s.")
_COUNT = N_("Die Kopfzeile nennt %(m)s Kanten, die Datei enthält %(found)s.")
_EMPTY = N_("Die Datei ist leer.")
_DISCONNECTED = N_(
    "Der Graph ist nicht zusammenhängend: Knoten %(vertex)s ist von Knoten 1 aus nicht erreichbar."
)
_POINT = N_(
    "Zeile %(line)s: ein Punkt muss „id x y“ sein (x und y endliche Zahlen), nicht „%(text)s“."
)
_DUPLICATE = N_("Zeile %(line)s: die ID %(id)s steht schon in Zeile %(first)s.")
_NO_POINTS = N_("Die Datei enthält keine Punkte.")
_TOO_MANY = N_("Die Datei enthält %(n)s Punkte, höchstens %(max)s sind möglich.")
_UNREADABLE = N_("Die Datei %(name)s lässt sich nicht als UTF-8-Text lesen.")


class InstanceFileError(Unprocessable):
    code = "invalid_instance_file"


@dataclass(frozen=True)
class OrlibInstance:
    """An OR-Library p-median instance: vertices 1…n are clients and sites alike."""

    p: int
    dist: np.ndarray  # n × n all-pairs shortest-path lengths, float64 (integral)


@dataclass(frozen=True)
class PointsInstance:
    """Planar points, each a client (weight 1) and a candidate site."""

    ids: tuple[str, ...]
    xy: np.ndarray  # n × 2


def read_text(path: Path) -> str:
    """A file's text; a binary or mis-encoded file is a dirty file, not a crash."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InstanceFileError(_UNREADABLE, name=path.name) from exc


def _lines(text: str) -> list[tuple[int, list[str]]]:
    """(line number, fields) of the non-blank lines, `#` comments removed."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if fields:
            rows.append((number, fields))
    return rows


def _ints(fields: list[str]) -> list[int] | None:
    try:
        return [int(f) for f in fields]
    except ValueError:
        return None


def _header(rows: list[tuple[int, list[str]]]) -> tuple[int, int, int]:
    if not rows:
        raise InstanceFileError(_EMPTY)
    line, fields = rows[0]
    values = _ints(fields)
    if values is None or len(values) != 3:
        raise InstanceFileError(_HEADER, line=line, text=" ".join(fields))
    n, m, p = values
    if not (1 <= p <= n <= MAX_POINTS and m >= 0):
        raise InstanceFileError(_HEADER_RANGE, line=line, n=n, m=m, p=p, max=MAX_POINTS)
    return n, m, p


def _edge(line: int, fields: list[str], n: int) -> tuple[int, int, int]:
    values = _ints(fields)
    if values is None or len(values) != 3:
        raise InstanceFileError(_EDGE, line=line, text=" ".join(fields))
    i, j, cost = values
    for vertex in (i, j):
        if not 1 <= vertex <= n:
            raise InstanceFileError(_VERTEX, line=line, vertex=vertex, n=n)
    if i == j:
        raise InstanceFileError(_LOOP, line=line, vertex=i)
    if cost < 0:
        raise InstanceFileError(_COST, line=line, cost=cost)
    return i - 1, j - 1, cost


def edge_costs(text: str) -> tuple[int, int, dict[tuple[int, int], int]]:
    """n, p and each undirected edge's cost; a repeated edge keeps its LAST cost (Beasley's
    rule, added to OR-Library's pmedinfo in 1995), not the smallest."""
    rows = _lines(text)
    n, m, p = _header(rows)
    if len(rows) - 1 != m:
        raise InstanceFileError(_COUNT, m=m, found=len(rows) - 1)
    costs: dict[tuple[int, int], int] = {}
    for line, fields in rows[1:]:
        i, j, cost = _edge(line, fields, n)
        costs[(min(i, j), max(i, j))] = cost  # later lines overwrite: the last one wins
    return n, p, costs


def read_orlib(text: str) -> OrlibInstance:
    """An OR-Library pmed instance with its all-pairs shortest-path distances."""
    n, p, costs = edge_costs(text)
    dist = all_pairs(n, costs)
    unreachable = np.flatnonzero(~np.isfinite(dist[0]))
    if unreachable.size:
        raise InstanceFileError(_DISCONNECTED, vertex=int(unreachable[0]) + 1)
    return OrlibInstance(p, dist)


def all_pairs(n: int, costs: dict[tuple[int, int], int]) -> np.ndarray:
    """Shortest-path lengths (inf where unreachable); scipy's Dijkstra, else Floyd–Warshall."""
    if costs:
        ends = np.array(list(costs), dtype=np.int64)
        weights = np.array(list(costs.values()), dtype=np.float64)
    else:
        ends, weights = np.zeros((0, 2), dtype=np.int64), np.zeros(0)
    if shortest_path is not None:
        # csgraph drops explicit zeros as "no edge": a zero-cost edge gets a tiny stand-in and is
        # rounded back, which is exact because all costs are integers.
        graph = csr_matrix((np.maximum(weights, 1e-9), (ends[:, 0], ends[:, 1])), shape=(n, n))
        paths: np.ndarray = shortest_path(graph, method="D", directed=False)
        return np.round(paths)
    return floyd_warshall(n, ends, weights)


def floyd_warshall(n: int, ends: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """All-pairs shortest paths in O(n³) NumPy steps (n ≤ 900 in OR-Library: a few seconds)."""
    dist = np.full((n, n), np.inf)
    np.fill_diagonal(dist, 0.0)
    dist[ends[:, 0], ends[:, 1]] = weights
    dist[ends[:, 1], ends[:, 0]] = weights
    for k in range(n):
        np.minimum(dist, dist[:, k, None] + dist[None, k, :], out=dist)
    return dist


def _point(line: int, fields: list[str]) -> tuple[str, float, float]:
    try:
        x, y = float(fields[1]), float(fields[2])
    except (ValueError, IndexError):
        x = y = math.nan
    if len(fields) != 3 or not (math.isfinite(x) and math.isfinite(y)):
        raise InstanceFileError(_POINT, line=line, text=" ".join(fields))
    return fields[0], x, y


def read_points(text: str) -> PointsInstance:
    """Planar points `id x y`, one a line, `#` starts a comment; ids must be unique."""
    rows = _lines(text)
    if not rows:
        raise InstanceFileError(_NO_POINTS)
    if len(rows) > MAX_POINTS:
        raise InstanceFileError(_TOO_MANY, n=len(rows), max=MAX_POINTS)
    first: dict[str, int] = {}
    points = []
    for line, fields in rows:
        point = _point(line, fields)
        if point[0] in first:
            raise InstanceFileError(_DUPLICATE, line=line, id=point[0], first=first[point[0]])
        first[point[0]] = line
        points.append(point)
    xy = np.array([(x, y) for _, x, y in points], dtype=np.float64)
    return PointsInstance(tuple(pid for pid, _, _ in points), xy)


def floor_euclidean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """⌊Euclidean distance⌋ between the rows of a and b (the rounding of the published rl1304
    optima); exact for integer coordinates, where a float sqrt alone could land one off."""
    squared: np.ndarray = (a[:, None, 0] - b[None, :, 0]) ** 2 + (
        a[:, None, 1] - b[None, :, 1]
    ) ** 2
    root: np.ndarray = np.floor(np.sqrt(squared))
    integral = np.all(a == np.round(a)) and np.all(b == np.round(b))
    if integral:
        root -= (root * root > squared).astype(np.float64)
        root += ((root + 1) * (root + 1) <= squared).astype(np.float64)
    return root


def point_ids(instance: PointsInstance) -> list[int] | list[str]:
    """The ids as the file gives them: integers when every id is one, else text."""
    numbers = _ints(list(instance.ids))
    return numbers if numbers is not None else list(instance.ids)
