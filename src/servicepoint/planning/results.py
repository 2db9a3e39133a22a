"""A scenario's computation, without the database: the problem (points × sites in km), the
kind's model, and the result JSON — THE contract with the planner pages and exports:

    {"demand": {"basis", "year", "rate", "total_weight", "approximate_share", "missing_share",
                "issues": [{"kind", "subject", "detail"}],
                "adjusted_by": "bookings" | null, "adjust_days": days | null},  (set by
                scenarios.network_result: whether booking statistics moved the weights)
     "distance": {"method", "detour"},
     "sites": [{"id", "name", "kind", "lat", "lon", "precision", "open", "fixed_cost_cents"}],
     "points": [{"id", "name", "borough", "lat", "lon", "precision", "population", "weight",
                 "site", "km", "before_km", "geometry"}],
     "metrics": {"mean_km", "p95_km", "max_km", "within": {"1": share, …}, "covered_share"},
     "baseline": same shape as metrics (today's offices) | null when no office has a point,
     "curve": [{"k", "objective", "mean_km", "max_km", "optimal", "sites": [ids]}],
     "gains": [{"id", "name", "before_km", "after_km"}], "losses": [...],
     "solver": {"model", "optimal", "gap", "seconds"}}

Points without any coordinates stay in "points" (site, km null): never dropped silently.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from servicepoint.config import Settings
from servicepoint.core.i18n import N_
from servicepoint.planning import coverage, evaluate
from servicepoint.planning.benders import Progress
from servicepoint.planning.demand import DemandPoint, DemandSet, SiteInfo, SiteSet, planning_config
from servicepoint.planning.geo import distance_km
from servicepoint.planning.mip import Stage
from servicepoint.planning.schemas import (
    AddParams,
    BalancedParams,
    CloseParams,
    CommonParams,
    CoverParams,
    InvalidScenario,
    MclpParams,
    PMedianParams,
    TradeoffParams,
)
from servicepoint.planning.solver import solve_pmedian

ProgressFn = Callable[[int, str], None]
SOLVING = N_("Optimierung läuft")
_TOLERANCE = 1e-9  # as the covering models: a point exactly at the radius counts as within


@dataclass(frozen=True)
class Problem:
    demand: DemandSet
    sites: SiteSet
    points: tuple[DemandPoint, ...]  # rows: the demand points with coordinates
    columns: tuple[SiteInfo, ...]  # columns: the sites with coordinates
    dist: np.ndarray
    weights: np.ndarray
    method: str
    detour: float
    radii: tuple[float, ...]
    today: tuple[int, ...]  # columns of today's offices
    fixed_open: tuple[int, ...]
    forced_closed: tuple[int, ...]


@dataclass(frozen=True)
class Outcome:
    open: tuple[int, ...]  # columns
    model: str
    optimal: bool | None  # None: nothing was optimised (an evaluation)
    gap: float | None
    seconds: float
    radius: float | None = None  # the covering models' radius: covered_share is reported
    curve: tuple[dict[str, Any], ...] = field(default_factory=tuple)


def _columns(columns: Sequence[SiteInfo], ids: Sequence[str]) -> tuple[int, ...]:
    index = {site.id: j for j, site in enumerate(columns)}
    return tuple(sorted(index[i] for i in ids))  # check_sites made sure each one is there


def problem(settings: Settings, demand: DemandSet, sites: SiteSet, params: CommonParams) -> Problem:
    """Rows, columns and their distance matrix for `params` (method, detour, fixed/closed)."""
    config = planning_config(settings.city_dir)
    points, columns = demand.placed(), sites.placed()
    if not points or not columns:
        raise InvalidScenario(
            N_("Es fehlen Nachfragepunkte oder Standorte mit Koordinaten."),
            fields={"sites" if points else "basis": N_("Angabe fehlt")},
        )
    detour = params.detour if params.detour is not None else config.detour
    dist = distance_km(
        settings, points, columns, method=params.method, detour=detour, matrix_csv=params.matrix_csv
    )
    return Problem(
        demand=demand,
        sites=sites,
        points=points,
        columns=columns,
        dist=dist,
        weights=np.array([p.weight for p in points], dtype=np.float64),
        method=params.method,
        detour=detour,
        radii=config.radii_km,
        today=tuple(j for j, s in enumerate(columns) if s.kind == "office"),
        fixed_open=_columns(columns, params.fixed_open),
        forced_closed=_columns(columns, params.forced_closed),
    )


# --- the kinds' models --------------------------------------------------------------------


def _stage_progress(progress: ProgressFn) -> Callable[[Stage], None]:
    return lambda stage: progress(10 + 80 * stage.done // max(1, stage.total), SOLVING)


def _bound_progress(progress: ProgressFn, limit: float) -> Callable[[Progress], None]:
    return lambda state: progress(10 + int(80 * min(1.0, state.seconds / limit)), SOLVING)


def _site_column(problem: Problem, site_id: str) -> int:
    return next(j for j, s in enumerate(problem.columns) if s.id == site_id)


def _evaluate(problem: Problem, params: CommonParams, **_: Any) -> Outcome:
    return Outcome(problem.today, "evaluate", None, None, 0.0)


def _close(problem: Problem, params: CloseParams, **_: Any) -> Outcome:
    closed = _site_column(problem, params.site_id)
    return Outcome(tuple(j for j in problem.today if j != closed), "evaluate", None, None, 0.0)


def _add(problem: Problem, params: AddParams, **_: Any) -> Outcome:
    added = _site_column(problem, params.site_id)
    return Outcome(tuple(sorted({*problem.today, added})), "evaluate", None, None, 0.0)


def _pmedian(
    problem: Problem, params: PMedianParams, *, limit: float, progress: ProgressFn
) -> Outcome:
    found = solve_pmedian(
        problem.dist,
        params.p,
        problem.weights,
        fixed_open=problem.fixed_open,
        forced_closed=problem.forced_closed,
        time_limit=limit,
        progress=_bound_progress(progress, limit),
    )
    gap = 0.0 if found.optimal or found.objective <= 0 else 1 - found.lower_bound / found.objective
    return Outcome(found.facilities, "pmedian", found.optimal, gap, found.seconds)


def _cover(problem: Problem, params: CoverParams, *, limit: float, **_: Any) -> Outcome:
    radius = params.radius_km
    found = coverage.solve_lscp(
        problem.dist,
        radius,
        weights=problem.weights,
        share=params.share,
        fixed_open=problem.fixed_open,
        forced_closed=problem.forced_closed,
        time_limit=limit,
    )
    return Outcome(found.facilities, "lscp", found.optimal, None, found.seconds, radius)


def _mclp(problem: Problem, params: MclpParams, *, limit: float, **_: Any) -> Outcome:
    radius = params.radius_km
    found = coverage.solve_mclp(
        problem.dist,
        problem.weights,
        params.p,
        radius,
        fixed_open=problem.fixed_open,
        forced_closed=problem.forced_closed,
        time_limit=limit,
    )
    return Outcome(found.facilities, "mclp", found.optimal, None, found.seconds, radius)


def _ids(problem: Problem, columns: Sequence[int]) -> list[str]:
    return [problem.columns[j].id for j in columns]


def _curve_row(
    problem: Problem,
    k: int,
    objective: float,
    mean: float,
    worst: float,
    optimal: bool,
    sites: Sequence[int],
) -> dict[str, Any]:
    return {
        "k": k,
        "objective": round(objective, 3),
        "mean_km": round(mean, 3),
        "max_km": round(worst, 3),
        "optimal": optimal,
        "sites": _ids(problem, sites),
    }


def _tradeoff(
    problem: Problem, params: TradeoffParams, *, limit: float, progress: ProgressFn
) -> Outcome:
    k_min, k_max = params.k_min, params.k_max
    k_max = min(k_max, len(problem.columns) - len(problem.forced_closed))
    if k_max < k_min:
        raise InvalidScenario(
            N_("Für so viele Standorte gibt es nicht genug Standorte mit Koordinaten."),
            fields={"k_min": N_("Wert zu groß")},
        )
    points = evaluate.tradeoff(
        problem.dist,
        problem.weights,
        range(k_min, k_max + 1),
        fixed_open=problem.fixed_open,
        forced_closed=problem.forced_closed,
        time_limit=limit,
        progress=_stage_progress(progress),
    )
    curve = tuple(
        _curve_row(problem, t.k, t.objective, t.mean_km, t.max_km, t.optimal, t.facilities)
        for t in points
    )
    # The map shows the curve's point with as many sites as today (else the nearest k).
    shown = min(points, key=lambda t: (abs(t.k - len(problem.today)), t.k))
    seconds = sum(t.seconds for t in points)
    return Outcome(
        shown.facilities, "tradeoff", all(t.optimal for t in points), None, seconds, curve=curve
    )


def _balanced(
    problem: Problem, params: BalancedParams, *, limit: float, progress: ProgressFn
) -> Outcome:
    p = params.p
    started = time.monotonic()
    points = coverage.solve_balanced(
        problem.dist,
        problem.weights,
        p,
        fixed_open=problem.fixed_open,
        forced_closed=problem.forced_closed,
        time_limit=limit,
        progress=_stage_progress(progress),
    )
    curve = tuple(
        _curve_row(problem, p, b.objective, b.mean_km, b.max_km, b.optimal, b.facilities)
        for b in points
    )
    # Mean and worst case both count: the point best in the sum of both, each relative to
    # its best value over the curve.
    best_mean = min(b.mean_km for b in points) or 1.0
    best_max = min(b.max_km for b in points) or 1.0
    shown = min(points, key=lambda b: b.mean_km / best_mean + b.max_km / best_max)
    seconds = time.monotonic() - started
    return Outcome(shown.facilities, "balanced", shown.optimal, None, seconds, curve=curve)


_MODELS: dict[str, Callable[..., Outcome]] = {
    "evaluate": _evaluate,
    "close": _close,
    "add": _add,
    "pmedian": _pmedian,
    "cover": _cover,
    "mclp": _mclp,
    "tradeoff": _tradeoff,
    "balanced": _balanced,
}


def solve(
    problem: Problem, kind: str, params: CommonParams, *, settings: Settings, progress: ProgressFn
) -> Outcome:
    """Run the kind's model within the settings' time limit."""
    progress(10, SOLVING)
    limit = settings.planning_time_limit_seconds
    return _MODELS[kind](problem, params, limit=limit, progress=progress)


# --- the result JSON ----------------------------------------------------------------------


def _km(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def _radius_key(radius: float) -> str:
    return f"{radius:g}"


def _covered(
    problem: Problem, metrics: evaluate.NetworkMetrics, radius: float | None
) -> float | None:
    total = float(problem.weights.sum())
    if radius is None or total <= 0:
        return None
    inside = np.asarray(metrics.km) <= radius * (1 + _TOLERANCE)
    return round(float(problem.weights[inside].sum()) / total, 4)


def _metrics_json(
    problem: Problem, metrics: evaluate.NetworkMetrics, radius: float | None
) -> dict[str, Any]:
    return {
        "mean_km": _km(metrics.mean_km),
        "p95_km": _km(metrics.p95_km),
        "max_km": _km(metrics.max_km),
        "within": {_radius_key(r): round(float(s), 4) for r, s in metrics.within.items()},
        "covered_share": _covered(problem, metrics, radius),
    }


def _measure(problem: Problem, columns: Sequence[int]) -> evaluate.NetworkMetrics | None:
    if not columns:
        return None
    return evaluate.evaluate(problem.dist, problem.weights, columns, radii=problem.radii)


def _demand_json(problem: Problem) -> dict[str, Any]:
    demand = problem.demand
    issues = (*demand.issues, *problem.sites.issues)
    return {
        "basis": demand.basis,
        "year": demand.year,
        "rate": demand.rate,
        "total_weight": round(demand.total_weight, 3),
        "approximate_share": round(demand.approximate_share, 4),
        "missing_share": round(demand.missing_share, 4),
        "issues": [{"kind": i.kind, "subject": i.subject, "detail": i.detail} for i in issues],
    }


def _sites_json(problem: Problem, open_ids: set[str]) -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "name": s.name,
            "kind": s.kind,
            "lat": s.lat,
            "lon": s.lon,
            "precision": s.precision,
            "open": s.id in open_ids,
            "fixed_cost_cents": s.fixed_cost_cents,
        }
        for s in problem.sites.sites
    ]


def _point_json(
    point: DemandPoint, site: str | None, km: float | None, before_km: float | None
) -> dict[str, Any]:
    return {
        "id": point.id,
        "name": point.name,
        "borough": point.borough,
        "lat": point.lat,
        "lon": point.lon,
        "precision": point.precision,
        "population": point.population,
        "weight": round(point.weight, 3),
        "site": site,
        "km": km,
        "before_km": before_km,
        "geometry": point.geometry,
    }


def _points_json(
    problem: Problem, after: evaluate.NetworkMetrics, before: evaluate.NetworkMetrics | None
) -> list[dict[str, Any]]:
    """Every demand point; those without coordinates with site and km null."""
    row = {p.id: i for i, p in enumerate(problem.points)}
    rows = []
    for point in problem.demand.points:
        i = row.get(point.id)
        if i is None:
            rows.append(_point_json(point, None, None, None))
            continue
        site = problem.columns[after.assignment[i]].id
        before_km = _km(before.km[i]) if before is not None else None
        rows.append(_point_json(point, site, _km(after.km[i]), before_km))
    return rows


def _changes_json(problem: Problem, changes: Sequence[evaluate.Change]) -> list[dict[str, Any]]:
    return [
        {
            "id": problem.points[c.point].id,
            "name": problem.points[c.point].name,
            "before_km": _km(c.before_km),
            "after_km": _km(c.after_km),
        }
        for c in changes
    ]


def _nonfinite(value: Any, path: str = "") -> str | None:
    """Where `value` holds NaN or an infinity (a JSON column refuses them on PostgreSQL, and
    SQLite would store numbers no page can show); None when every number is finite."""
    if isinstance(value, float):
        return None if math.isfinite(value) else path or "."
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _nonfinite(item, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


def checked_finite(result: dict[str, Any]) -> dict[str, Any]:
    """`result` as it is, or 422 naming the first value that is no finite number."""
    where = _nonfinite(result)
    if where is not None:
        raise InvalidScenario(
            N_(
                "Das Ergebnis enthält keine endliche Zahl (%(where)s); bitte die Gewichte der "
                "Nachfrage prüfen."
            ),
            where=where[:120],
            fields={"basis": N_("Werte zu groß")},
        )
    return result


def result_json(problem: Problem, outcome: Outcome) -> dict[str, Any]:
    """The stored result (module docstring): the open network, today's, and what changes;
    never NaN or an infinity (422 instead)."""
    after = _measure(problem, outcome.open)
    if after is None:
        raise InvalidScenario(
            N_("In diesem Szenario bliebe kein Standort mit Koordinaten offen."),
            fields={"site_id": N_("nicht erlaubter Wert")},
        )
    before = _measure(problem, problem.today)
    changes = evaluate.compare(before, after) if before is not None else None
    return checked_finite(
        {
            "demand": _demand_json(problem),
            "distance": {"method": problem.method, "detour": problem.detour},
            "sites": _sites_json(problem, set(_ids(problem, outcome.open))),
            "points": _points_json(problem, after, before),
            "metrics": _metrics_json(problem, after, outcome.radius),
            "baseline": _metrics_json(problem, before, outcome.radius)
            if before is not None
            else None,
            "curve": list(outcome.curve),
            "gains": _changes_json(problem, changes.gains) if changes else [],
            "losses": _changes_json(problem, changes.losses) if changes else [],
            "solver": {
                "model": outcome.model,
                "optimal": outcome.optimal,
                "gap": None if outcome.gap is None else round(outcome.gap, 6),
                "seconds": round(outcome.seconds, 3),
            },
        }
    )
