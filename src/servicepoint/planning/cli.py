"""`servicepoint plan …`: location planning from the shell (contract: API.md, "Planning")."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as Bar
from sqlalchemy.orm import Session, sessionmaker

from servicepoint.cli_support import session_scope
from servicepoint.config import Settings
from servicepoint.core.db import make_engine, make_sessionmaker
from servicepoint.errors import ServicePointError
from servicepoint.planning import instances, jobs, scenarios
from servicepoint.planning.models import Scenario
from servicepoint.planning.solver import PMedianResult, Progress, solve_pmedian

plan_app = typer.Typer(help="Location planning.", no_args_is_help=True)
# Progress and errors go to stderr, so that stdout carries nothing but the result.
err = Console(stderr=True)
out = Console()

_PHASES = {"heuristic": "Heuristik", "lp": "LP-Relaxierung", "tree": "Branch and Cut"}


def _load(
    orlib: Path | None, points: Path | None, p: int | None
) -> tuple[np.ndarray, int, list[int] | list[str]]:
    """(distances, p, the file's ids of the sites) from exactly one of the two files."""
    if (orlib is None) == (points is None):
        raise typer.BadParameter("give exactly one of --orlib FILE or --points FILE")
    if orlib is not None:
        instance = instances.read_orlib(instances.read_text(orlib))
        ids = list(range(1, instance.dist.shape[0] + 1))
        return instance.dist, p if p is not None else instance.p, ids
    assert points is not None
    if p is None:
        raise typer.BadParameter("--points needs --p")
    planar = instances.read_points(instances.read_text(points))
    return instances.floor_euclidean(planar.xy, planar.xy), p, instances.point_ids(planar)


def _describe(state: Progress) -> str:
    gap = state.upper_bound - state.lower_bound
    share = 100.0 * gap / state.upper_bound if state.upper_bound > 0 else 0.0
    return (
        f"{_PHASES.get(state.phase, state.phase)}: untere Schranke {state.lower_bound:,.0f}, "
        f"beste Lösung {state.upper_bound:,.0f} (Lücke {share:.3f} %)"
    )


@contextmanager
def _progress(show: bool) -> Iterator[Callable[[Progress], None] | None]:
    """A live Rich line on stderr while the solver runs, or nothing."""
    if not show:
        yield None
        return
    with Bar(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("Daten gelesen, Heuristik läuft", total=None)
        yield lambda state: bar.update(task, description=_describe(state))


def _print_human(result: PMedianResult, ids: list[int] | list[str], seconds: float) -> None:
    proof = "bewiesen optimal" if result.optimal else f"untere Schranke {result.lower_bound:,.0f}"
    out.print(f"Zielwert {result.objective:,.0f} ({proof}), {seconds:.2f} s")
    out.print("Standorte: " + " ".join(str(ids[f]) for f in result.facilities))


@plan_app.command("pmedian")
def pmedian(
    orlib: Path | None = typer.Option(
        None, "--orlib", help="OR-Library pmed file (n m p, then edges i j cost)"
    ),
    points: Path | None = typer.Option(None, "--points", help="planar points, one `id x y` a line"),
    p: int | None = typer.Option(
        None, "--p", help="number of sites to open (an --orlib file names its own)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    time_limit: float | None = typer.Option(
        None, "--time-limit", min=0.0, help="seconds; then the best found, unproven"
    ),
) -> None:
    """Solve a p-median exactly (Benders branch and cut); prints objective, sites, proof, time."""
    started = time.monotonic()
    try:
        dist, count, ids = _load(orlib, points, p)
        with _progress(not as_json or sys.stderr.isatty()) as progress:
            result = solve_pmedian(dist, count, time_limit=time_limit, progress=progress)
    except OSError as exc:
        err.print(f"[red]Fehler:[/] {exc.filename}: {exc.strerror}")
        raise typer.Exit(2) from exc
    except ServicePointError as exc:
        err.print(f"[red]Fehler:[/] {exc}")
        raise typer.Exit(2) from exc
    seconds = round(time.monotonic() - started, 3)
    if not as_json:
        _print_human(result, ids, seconds)
        return
    answer = {
        "objective": round(result.objective),
        "facilities": [ids[f] for f in result.facilities],
        "optimal": result.optimal,
        "seconds": seconds,
    }
    sys.stdout.write(json.dumps(answer) + "\n")


# --- scenarios: today's network, a scenario run now, the queued jobs -----------------------

KINDS_HELP = "evaluate, tradeoff, close, add, cover, balanced, pmedian, mclp"
ADJUST_HELP = "none or bookings: booking statistics move the weights between offices' catchments"
ADJUST_DAYS_HELP = "with --adjust bookings: the last so many days (7-730, default 365)"


def _params(**given: object) -> dict[str, object]:
    """The options the user gave (None: left to the scenario's defaults)."""
    return {key: value for key, value in given.items() if value not in (None, [])}


def _matrix(path: Path | None) -> str | None:
    return instances.read_text(path) if path is not None else None


def _fail(exc: ServicePointError) -> NoReturn:
    err.print(f"[red]Fehler:[/] {exc}")
    for name, problem in exc.fields.items():
        text = problem if isinstance(problem, str) else problem[0] % dict(problem[1])
        err.print(f"  {name}: {text}")
    raise typer.Exit(2) from exc


@contextmanager
def _bar(show: bool) -> Iterator[Callable[[int, str], None] | None]:
    """A Rich progress bar on stderr, fed by the job's progress(percent, note)."""
    if not show:
        yield None
        return
    with Bar(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("Szenario startet", total=100)
        yield lambda percent, note: bar.update(task, completed=percent, description=note)


def _print_metrics(result: dict[str, Any]) -> None:
    metrics, demand = result["metrics"], result["demand"]
    out.print(
        f"Mittel {metrics['mean_km']:.2f} km, 95 % {metrics['p95_km']:.2f} km, "
        f"Maximum {metrics['max_km']:.2f} km"
    )
    within = ", ".join(f"{r} km: {100 * s:.1f} %" for r, s in metrics["within"].items())
    out.print(f"Anteil der Nachfrage innerhalb {within}")
    out.print(
        f"Nachfrage auf ungefähren Punkten: {100 * demand['approximate_share']:.1f} %, "
        f"ohne Punkt: {100 * demand['missing_share']:.1f} %; {len(demand['issues'])} Datenhinweise"
    )


def _print_result(result: dict[str, Any], worst: int = 10) -> None:
    _print_metrics(result)
    opened = [s["name"] for s in result["sites"] if s["open"]]
    out.print(f"Offene Standorte ({len(opened)}): " + ", ".join(opened))
    placed = [p for p in result["points"] if p["km"] is not None]
    out.print("Am schlechtesten versorgt:")
    for point in sorted(placed, key=lambda p: -p["km"])[:worst]:
        mark = " (ungefähr)" if point["precision"] == "approximate" else ""
        out.print(f"  {point['name']}{mark}: {point['km']:.2f} km")
    for row in result["curve"]:
        proof = "optimal" if row["optimal"] else "nicht bewiesen"
        out.print(
            f"  k={row['k']}: Mittel {row['mean_km']:.2f} km, Max {row['max_km']:.2f} km ({proof})"
        )


def _emit(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        _print_result(result)


@plan_app.command("evaluate")
def evaluate_network(
    as_json: bool = typer.Option(False, "--json", help="print the result JSON"),
    basis: str = typer.Option("stadtteile", "--basis", help="stadtteile or grid"),
    year: str = typer.Option("current", "--year", help="current or 2034"),
    method: str = typer.Option("great_circle", "--method", help="great_circle, osrm or matrix"),
    matrix: Path | None = typer.Option(None, "--matrix", help="CSV: point_id,site_id,km"),
    detour: float | None = typer.Option(None, "--detour", help="default: planning.yaml"),
    adjust: str | None = typer.Option(None, "--adjust", help=ADJUST_HELP),
    adjust_days: int | None = typer.Option(None, "--adjust-days", help=ADJUST_DAYS_HELP),
) -> None:
    """Today's network: mean, 95th percentile and max distance, shares within 1/2/3 km."""
    settings = Settings()
    params = _params(
        basis=basis, year=year, method=method, matrix_csv=_matrix(matrix), detour=detour,
        adjust=adjust, adjust_days=adjust_days,
    )  # fmt: skip
    try:
        with session_scope(settings) as session:
            result = scenarios.network_result(
                session, settings=settings, kind="evaluate", params=params
            )
    except ServicePointError as exc:
        _fail(exc)
    _emit(result, as_json)


def _create_running(
    factory: sessionmaker[Session],
    settings: Settings,
    name: str,
    kind: str,
    params: dict[str, object],
) -> int:
    """A saved scenario, claimed for this process in the same transaction (no worker takes it)."""
    with factory.begin() as session:
        scenario = scenarios.create_scenario(
            session, name=name, kind=kind, params=params, user="cli", settings=settings
        )
        jobs.take(session, Scenario, scenario.id)
        return scenario.id


@plan_app.command("scenario")
def run_scenario_now(
    kind: str = typer.Argument(..., help=KINDS_HELP),
    name: str = typer.Option(..., "--name", help="the scenario's name"),
    p: int | None = typer.Option(None, "--p", help="sites to open (pmedian, mclp, balanced)"),
    k_min: int | None = typer.Option(None, "--k-min", help="tradeoff: smallest k (5)"),
    k_max: int | None = typer.Option(None, "--k-max", help="tradeoff: largest k (12)"),
    radius: float | None = typer.Option(None, "--radius", help="km (cover, mclp)"),
    share: float | None = typer.Option(None, "--share", help="cover: share to reach (0.95)"),
    site: str | None = typer.Option(None, "--site", help="close/add: the site's id"),
    basis: str | None = typer.Option(None, "--basis", help="stadtteile or grid"),
    year: str | None = typer.Option(None, "--year", help="current or 2034"),
    rate: float | None = typer.Option(None, "--rate", help="visits per inhabitant and year"),
    detour: float | None = typer.Option(None, "--detour", help="default: planning.yaml"),
    method: str | None = typer.Option(None, "--method", help="great_circle, osrm or matrix"),
    matrix: Path | None = typer.Option(None, "--matrix", help="CSV: point_id,site_id,km"),
    fixed_open: list[str] = typer.Option([], "--fixed-open", help="site id kept open"),
    forced_closed: list[str] = typer.Option([], "--forced-closed", help="site id closed"),
    adjust: str | None = typer.Option(None, "--adjust", help=ADJUST_HELP),
    adjust_days: int | None = typer.Option(None, "--adjust-days", help=ADJUST_DAYS_HELP),
    as_json: bool = typer.Option(False, "--json", help="print id, status and result as JSON"),
) -> None:
    """Run a scenario now (Rich progress) and save it under its name."""
    settings = Settings()
    try:
        params = _params(
            p=p, k_min=k_min, k_max=k_max, radius_km=radius, share=share, site_id=site,
            basis=basis, year=year, rate=rate, detour=detour, method=method,
            matrix_csv=_matrix(matrix), fixed_open=fixed_open, forced_closed=forced_closed,
            adjust=adjust, adjust_days=adjust_days,
        )  # fmt: skip
    except OSError as exc:
        err.print(f"[red]Fehler:[/] {exc.filename}: {exc.strerror}")
        raise typer.Exit(2) from exc
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine)
    try:
        try:
            scenario_id = _create_running(factory, settings, name, kind, params)
        except ServicePointError as exc:
            _fail(exc)
        with _bar(not as_json or sys.stderr.isatty()) as echo:
            jobs.run_claimed(factory, settings, jobs.registry()["scenario"], scenario_id, echo=echo)
        with factory() as session:
            scenario = scenarios.get_scenario(session, scenario_id=scenario_id)
    finally:
        engine.dispose()
    _report(scenario, as_json)


def _report(scenario: Scenario, as_json: bool) -> None:
    if scenario.status != "done" or scenario.result is None:
        err.print(f"[red]Fehler:[/] Szenario {scenario.id}: {jobs.failure_text(scenario.error)}")
        raise typer.Exit(1)
    if as_json:
        answer = {"id": scenario.id, "status": scenario.status, "result": scenario.result}
        sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
        return
    out.print(f"Szenario {scenario.id} „{scenario.name}“ gespeichert.")
    _print_result(scenario.result)


@plan_app.command("jobs")
def run_jobs(
    limit: int = typer.Option(10, "--limit", min=1, max=100, help="at most this many jobs"),
) -> None:
    """Run the queued planning jobs (scenarios, mobile plans) once, then exit."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        ran = jobs.run_pending(make_sessionmaker(engine), settings, limit=limit)
    finally:
        engine.dispose()
    out.print(f"{ran} Planungsaufträge bearbeitet")
