"""p-median: OR-Library pmed1–40, TSPLIB rl1304 (p = 5 … 500) and a 10,000 × 1,000 scale run.

Targets (issue 17): all 40 pmed at the optimum and proven in ≤ 120 s in total (stretch 40 s);
the nine rl1304 at the published optimum, proven, each in ≤ 60 s; the scale run finished in
≤ 60 s with a proven gap ≤ 1 %. Seconds are the solver's (distances are built before, and
reported apart). Known optima: ../shared/bench-data (pmed/optima.csv from OR-Library's pmedopt,
rl1304/optima.csv from Duran-Mateluna, Alès & Elloumi, EJOR 2023).

Baseline in the same run: PySAL spopt's PMedian (PuLP + CBC), in its own virtual environment
(.venv/bench-spopt, made on first use) because it pulls in geopandas and scikit-learn, on
pmed1–10 with a time limit each; larger instances build models of 90,000+ variables, and the
issue's own measurement already has spopt at 112 s for pmed6.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.table import Table

from bench.common import ROOT, console
from servicepoint.planning import instances
from servicepoint.planning.solver import PMedianResult, solve_pmedian

TARGET_PMED_TOTAL_S = 120.0
STRETCH_PMED_TOTAL_S = 40.0
TARGET_RL_EACH_S = 60.0
TARGET_SCALE_S, TARGET_SCALE_GAP = 60.0, 0.01
SAFETY_LIMIT_S = 600.0  # no run may hang the bench; a run stopped here counts as unproven
SPOPT_INSTANCES = [f"pmed{k}" for k in range(1, 11)]
SPOPT_LIMIT_S = 60.0
SPOPT_VENV = ROOT / ".venv" / "bench-spopt"
SPOPT_VERSION = "spopt==0.7.0"


def bench_data() -> Path:
    configured = os.environ.get("SERVICEPOINT_BENCH_DATA")
    return Path(configured) if configured else ROOT.parent / "shared" / "bench-data"


@dataclass
class Row:
    name: str
    n: int
    p: int
    known: int
    result: PMedianResult
    read_seconds: float

    @property
    def hit(self) -> bool:
        return round(self.result.objective) == self.known


def _solve_orlib(path: Path, known: int) -> Row:
    t0 = time.perf_counter()
    instance = instances.read_orlib(instances.read_text(path))
    read = time.perf_counter() - t0
    result = solve_pmedian(instance.dist, instance.p, time_limit=SAFETY_LIMIT_S)
    return Row(path.stem, instance.dist.shape[0], instance.p, known, result, read)


def _optima(path: Path, key: str) -> dict[str, int]:
    with path.open(encoding="utf-8") as handle:
        return {row[key]: int(row["optimum"]) for row in csv.DictReader(handle)}


def _table(title: str, rows: list[Row], baseline: dict[str, dict[str, object]]) -> Table:
    table = Table(title=title)
    columns = ("instance", "n", "p", "known", "objective", "proven", "s")
    for column in columns + (("spopt",) if baseline else ()):
        table.add_column(column, justify="left" if column == "instance" else "right")
    for row in rows:
        mark = "" if row.hit else " [red]≠[/]"
        table.add_row(
            row.name,
            str(row.n),
            str(row.p),
            str(row.known),
            f"{row.result.objective:.0f}{mark}",
            "yes" if row.result.optimal else "[red]no[/]",
            f"{row.result.seconds:.2f}",
            *((_spopt_cell(baseline.get(row.name)),) if baseline else ()),
        )
    return table


def _spopt_cell(answer: dict[str, object] | None) -> str:
    if answer is None:
        return "–"
    if "error" in answer or answer.get("objective") is None:
        return "failed"
    proven = "✓" if answer.get("optimal") else "[red]open[/]"
    return f"{float(str(answer['objective'])):.0f} {proven} {float(str(answer['seconds'])):.1f}s"


def _spopt_summary(rows: list[Row], baseline: dict[str, dict[str, object]]) -> None:
    """Both solvers on the instances the baseline ran: proofs and time."""
    ran = [r for r in rows if r.name in baseline and "error" not in baseline[r.name]]
    if not ran:
        return
    theirs = sum(float(str(baseline[r.name]["seconds"])) for r in ran)
    proven = sum(bool(baseline[r.name].get("optimal")) for r in ran)
    ours = sum(r.result.seconds for r in ran)
    console.print(
        f"baseline spopt PMedian (PuLP + CBC, ≤ {SPOPT_LIMIT_S:.0f} s each, model building "
        f"included) on {len(ran)} instances: {proven} proven, {theirs:.1f} s; "
        f"Benders on the same: {sum(r.result.optimal for r in ran)} proven, {ours:.2f} s"
    )


def _orlib(data: Path, baseline: dict[str, dict[str, object]]) -> bool:
    optima = _optima(data / "pmed" / "optima.csv", "instance")
    rows = [_solve_orlib(data / "pmed" / f"{name}.txt", optima[name]) for name in optima]
    console.print(_table("OR-Library pmed1–40", rows, baseline))
    _spopt_summary(rows, baseline)
    total = sum(r.result.seconds for r in rows)
    reading = sum(r.read_seconds for r in rows)
    hits, proven = sum(r.hit for r in rows), sum(r.result.optimal for r in rows)
    console.print(
        f"pmed: {hits}/40 at the optimum, {proven}/40 proven, {total:.1f} s solving in total "
        f"(+ {reading:.1f} s reading and shortest paths)"
    )
    ok = hits == proven == 40 and total <= TARGET_PMED_TOTAL_S
    stretch = "met" if ok and total <= STRETCH_PMED_TOTAL_S else "missed"
    console.print(
        f"target 40/40 proven, <= {TARGET_PMED_TOTAL_S:.0f} s: {_verdict(ok)}; "
        f"stretch <= {STRETCH_PMED_TOTAL_S:.0f} s: {stretch}"
    )
    return ok


def _rl1304(data: Path) -> bool:
    folder = data / "rl1304"
    planar = instances.read_points(instances.read_text(folder / "rl1304.txt"))
    t0 = time.perf_counter()
    dist = instances.floor_euclidean(planar.xy, planar.xy)
    read = time.perf_counter() - t0
    rows = []
    for p, known in _optima(folder / "optima.csv", "p").items():
        result = solve_pmedian(dist, int(p), time_limit=SAFETY_LIMIT_S)
        rows.append(Row(f"rl1304 p={p}", dist.shape[0], int(p), known, result, read))
    console.print(_table("TSPLIB rl1304 (⌊Euclidean⌋)", rows, {}))
    ok = all(r.hit and r.result.optimal and r.result.seconds <= TARGET_RL_EACH_S for r in rows)
    worst = max(r.result.seconds for r in rows)
    console.print(
        f"rl1304: {sum(r.hit for r in rows)}/9 at the published optimum, "
        f"{sum(r.result.optimal for r in rows)}/9 proven, slowest {worst:.1f} s, "
        f"total {sum(r.result.seconds for r in rows):.1f} s; spopt: not run (1.7 M variables)"
    )
    console.print(f"target each proven in <= {TARGET_RL_EACH_S:.0f} s: {_verdict(ok)}")
    return ok


def scale_instance(seed: int = 20240617) -> tuple[np.ndarray, np.ndarray]:
    """10,000 demand points (weights 1–10) and 1,000 candidate sites, uniform in a square of
    100 km, ⌊Euclidean⌋ metres."""
    rng = np.random.default_rng(seed)
    clients = rng.uniform(0, 100_000, (10_000, 2))
    sites = rng.uniform(0, 100_000, (1_000, 2))
    weights = rng.integers(1, 11, 10_000).astype(np.float64)
    return instances.floor_euclidean(clients, sites), weights


def _scale() -> bool:
    dist, weights = scale_instance()
    result = solve_pmedian(dist, 20, weights, time_limit=TARGET_SCALE_S, gap=TARGET_SCALE_GAP)
    gap = (result.objective - result.lower_bound) / result.objective
    console.print(
        f"scale 10,000 × 1,000, p = 20: objective {result.objective:,.0f}, proven lower bound "
        f"{result.lower_bound:,.0f}, gap {100 * gap:.2f} %, {result.seconds:.1f} s"
    )
    ok = gap <= TARGET_SCALE_GAP and result.seconds <= TARGET_SCALE_S + 1.0
    console.print(f"target gap <= 1 % within {TARGET_SCALE_S:.0f} s: {_verdict(ok)}")
    return ok


def _verdict(ok: bool) -> str:
    return "[green]met[/]" if ok else "[red]missed[/]"


def _spopt_python() -> Path | None:
    """The baseline's interpreter, installing spopt on first use; None if that fails."""
    python = SPOPT_VENV / "bin" / "python"
    if not python.exists():
        console.print(f"installing {SPOPT_VERSION} into {SPOPT_VENV.relative_to(ROOT)} …")
        made = subprocess.run([sys.executable, "-m", "venv", str(SPOPT_VENV)], check=False)
        pip = [str(python), "-m", "pip", "install", "--quiet", SPOPT_VERSION]
        if made.returncode or subprocess.run(pip, check=False).returncode:
            return None
    return python


def _spopt(data: Path) -> dict[str, dict[str, object]]:
    python = _spopt_python()
    if python is None:
        console.print("[yellow]spopt could not be installed: no baseline in this run[/]")
        return {}
    answers: dict[str, dict[str, object]] = {}
    runner = Path(__file__).with_name("pmedian_spopt.py")
    with tempfile.TemporaryDirectory(prefix="sp-pmedian-") as folder:
        for name in SPOPT_INSTANCES:
            instance = instances.read_orlib(instances.read_text(data / "pmed" / f"{name}.txt"))
            matrix = Path(folder) / f"{name}.npy"
            np.save(matrix, instance.dist)
            command = [str(python), str(runner), str(matrix), str(instance.p), str(SPOPT_LIMIT_S)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            try:
                answers[name] = json.loads(done.stdout.strip().splitlines()[-1])
            except (IndexError, json.JSONDecodeError):
                answers[name] = {"error": done.stderr[-300:]}
    return answers


def run() -> bool:
    console.rule("p-median: OR-Library pmed1–40, TSPLIB rl1304, 10,000 × 1,000")
    data = bench_data()
    if not (data / "pmed" / "optima.csv").exists():
        console.print(f"[red]no benchmark data at {data} (set SERVICEPOINT_BENCH_DATA)[/]")
        return False
    baseline = {} if os.environ.get("SERVICEPOINT_BENCH_NO_SPOPT") else _spopt(data)
    results = [_orlib(data, baseline), _rl1304(data), _scale()]
    return all(results)
