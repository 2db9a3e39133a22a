"""`servicepoint plan …`: location planning from the shell (contract: API.md, "Planning")."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from rich.progress import Progress as Bar
from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

from servicepoint.errors import ServicePointError
from servicepoint.planning import instances
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
