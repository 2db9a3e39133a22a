"""Video consultation figures (issue 16), each beside a baseline measured in the same run.

(a) admission sealed: scripted WebSocket attempts that must receive 0 signalling frames;
(b) time to connect, "Eintreten lassen" to both peers connected, headless Chromium, p50/p95
    (target p95 <= 5 s); once on one worker, once with citizen and clerk on two worker
    processes sharing PostgreSQL and Redis (skipped without them);
(c) how many waiting rooms and calls one worker holds before the signalling relay's p95 passes
    200 ms.
`python -m bench video` (minutes); `python -m bench.video --quick` for a smoke run.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from bench.common import console, fresh_database, percentile, postgres_url
from bench.video_common import (
    free_port,
    prepare,
    server,
    staff_login,
    uvicorn_process,
)
from bench.video_load import Level

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from bench.video_connect import ConnectFigure
    from bench.video_load import LevelFigure, Target, Timing

SECRET = "bench-video"
CLERK = "bench-clerk"
TARGET_CONNECT_P95 = 5.0


def redis_url() -> str | None:
    return os.environ.get("SERVICEPOINT_BENCH_REDIS_URL") or os.environ.get(
        "SERVICEPOINT_TEST_REDIS_URL"
    )


def _machine() -> None:
    """The figures are timings on a machine that may be shared: say how busy it is."""
    one, five, _ = os.getloadavg()
    console.print(f"load average {one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} CPUs")


def _seal(quick: bool) -> bool:
    from bench import video_seal

    console.rule("Video (a): admission is sealed")
    _machine()
    url = fresh_database("sqlite")
    engine = prepare(url)
    total = 100 if quick else 1000
    with server(url, secret=SECRET) as base:
        result = asyncio.run(video_seal.measure(base, engine, secret=SECRET, total=total))
    engine.dispose()
    for kind, outcome in video_seal.outcomes(result).items():
        took = video_seal.median_ms(result, kind)
        console.print(
            f"  {kind:28} {len(result.attempts[kind]):4} attempts: {dict(outcome)}"
            + (f" · refused after p50 {took:.1f} ms" if took == took else "")
        )
    for note in result.notes:
        console.print(f"  [yellow]note:[/] {note}")
    leaked, control = result.leaked(), result.control_frames
    console.print(
        f"{result.total()} attempts · signalling frames received: {leaked} (must be 0) · "
        f"frames from a waiting citizen that reached a clerk: {result.clerk_leaks} (must be 0)"
    )
    console.print(
        f"baseline: the admitted citizen next door received {control} of the "
        f"{result.control_sent} signal/chat frames its clerk sent ({result.flood_sent} flooded "
        f"by all clerks), so the relay works · refusal p50 "
        f"{result.refusal_ms:.1f} ms vs GET /health p50 {result.health_ms:.1f} ms "
        f"(ratio {result.refusal_ms / result.health_ms:.1f}×)"
    )
    ok = (
        leaked == 0
        and result.clerk_leaks == 0
        and control >= result.control_sent * 0.9  # the last frames may still be under way
        and control > 0
        and not result.notes
    )
    console.print(f"result: {'[green]met' if ok else '[red]missed'}[/]")
    return ok


def _connect(quick: bool) -> bool:
    from bench import video_connect

    console.rule("Video (b): time to connect")
    _machine()
    if video_connect.chromium_missing():
        console.print(f"skipped: no Chromium at {video_connect.CHROMIUM}")
        return True
    runs = 3 if quick else 20
    figures = []
    with video_connect.chromium() as browser:
        url = fresh_database("sqlite")
        engine = prepare(url)
        staff = staff_login(engine, secret=SECRET, username=CLERK)
        with server(url, secret=SECRET) as base:
            figures.append(
                video_connect.measure(
                    browser, citizen_base=base, clerk_base=base, engine=engine, secret=SECRET,
                    staff=staff, runs=runs, label="one worker (SQLite, in-process signalling)",
                )
            )  # fmt: skip
        engine.dispose()
        figures += _connect_two_workers(browser, runs)
    for figure in figures:
        console.print(figure.line())
    ok = all(
        f.seconds and not f.failures and percentile(f.seconds, 0.95) <= TARGET_CONNECT_P95
        for f in figures
    )
    console.print(f"target p95 <= {TARGET_CONNECT_P95:.0f} s · result: "
                  f"{'[green]met' if ok else '[red]missed'}[/]")  # fmt: skip
    return ok


def _connect_two_workers(browser: Browser, runs: int) -> list[ConnectFigure]:
    from bench import video_connect

    pg, redis = postgres_url(), redis_url()
    if not (pg and redis):
        console.print(
            "two workers: skipped (set SERVICEPOINT_BENCH_POSTGRES_URL or "
            "SERVICEPOINT_TEST_POSTGRES_URL, and SERVICEPOINT_BENCH_REDIS_URL or "
            "SERVICEPOINT_TEST_REDIS_URL)"
        )
        return []
    url = fresh_database("postgresql")
    engine = prepare(url)
    staff = staff_login(engine, secret=SECRET, username=CLERK)
    with (
        server(url, secret=SECRET, redis_url=redis) as one,
        server(url, secret=SECRET, redis_url=redis) as two,
    ):
        figure = video_connect.measure(
            browser,
            citizen_base=one, clerk_base=two, engine=engine, secret=SECRET, staff=staff,
            runs=runs, label="two workers (PostgreSQL + Redis, citizen and clerk apart)",
        )  # fmt: skip
    engine.dispose()
    return [figure]


# Ramps of figure (c): a crowd size n -> what is connected. Calls alone, waiting rooms alone
# (five calls carry the probes), and both alike.
RAMPS: dict[str, Callable[[int], Level]] = {
    "calls": lambda n: Level(0, n),
    "waiting rooms (5 calls time the relay)": lambda n: Level(n, 5),
    "waiting rooms and calls alike": lambda n: Level(n, n),
}


def _load(quick: bool) -> bool:
    from bench.video_load import Timing

    console.rule("Video (c): waiting rooms and calls one worker holds")
    sizes = [5, 10] if quick else [10, 25, 50, 100, 200, 400, 800]
    timing = Timing(settle=1.0, window=2.0 if quick else 10.0)
    held = [_ramp(name, [level(n) for n in sizes], timing) for name, level in RAMPS.items()]
    return all(held)


def _ramp(name: str, levels: list[Level], timing: Timing) -> bool:
    """One ramp on a fresh one-worker server, then the trivial relay at the levels reached."""
    from bench import video_load
    from bench.video_load import Timing

    _machine()
    console.print(f"[bold]{name}[/]: waiting + calls · connections · relay p50/p95 ms")
    url = fresh_database("sqlite")
    engine = prepare(url)
    with server(url, secret=SECRET) as base:
        figures = asyncio.run(
            video_load.ramp(_app_targets(base, engine), levels, timing, _print_level)
        )
    engine.dispose()
    with uvicorn_process("bench.video_echo:app", port=free_port()) as relay:
        rooms = [0]

        def relay_target(waiting: int, calls: int) -> Target:
            rooms[0] += calls
            return video_load.relay_target(relay, rooms[0] - calls)

        quick = Timing(settle=1.0, window=min(timing.window, 5.0))
        reached = [f.level for f in figures]
        baseline = asyncio.run(video_load.ramp(relay_target, reached, quick))
    _print_baseline(figures, baseline)
    return any(f.holds for f in figures)


def _print_level(f: LevelFigure) -> None:
    level = f.level
    console.print(
        f"  {level.waiting:4} + {level.calls:<4} · {level.connections:5} · "
        f"{f.p50_ms:6.1f} / {f.p95_ms:6.1f} (probes {f.received}, lost {f.lost}, "
        f"connections lost {f.failures}{_why(f)}; calm {f.settled_s:.0f} s after connecting)"
        f"{'' if f.holds else ' [red]over[/]'}"
    )


def _why(f: LevelFigure) -> str:
    return f" {f.why}" if f.why else ""


def _print_baseline(figures: list[LevelFigure], baseline: list[LevelFigure]) -> None:
    from bench.video_load import LIMIT_MS

    pairs = list(zip(figures, baseline, strict=False))
    console.print(
        "  trivial relay, same crowd: "
        + " · ".join(f"{b.p50_ms:.1f} / {b.p95_ms:.1f}" for _, b in pairs)
        + " ms · ratio p95 "
        + " · ".join(f"{f.p95_ms / b.p95_ms:.1f}×" for f, b in pairs if b.p95_ms)
    )
    holding = [f.level for f in figures if f.holds]
    top = holding[-1] if holding else Level(0, 0)
    more = "+ (the largest level tried)" if figures and figures[-1].holds else ""
    console.print(
        f"  one worker holds {top.waiting} waiting rooms and {top.calls} calls{more} with "
        f"relay p95 <= {LIMIT_MS:.0f} ms"
    )


def _app_targets(base: str, engine: Engine) -> Callable[[int, int], Target]:
    from bench import video_load

    def make(waiting: int, calls: int) -> Target:
        return video_load.app_target(
            base, engine, secret=SECRET, waiting_rooms=waiting, call_count=calls
        )

    return make


SUITES: dict[str, Callable[[bool], bool]] = {"seal": _seal, "connect": _connect, "load": _load}


def run(quick: bool = False, only: set[str] | None = None) -> bool:
    results = [suite(quick) for name, suite in SUITES.items() if not only or name in only]
    return all(results)


if __name__ == "__main__":
    args = sys.argv[1:]
    chosen = {a for a in args if not a.startswith("-")}
    raise SystemExit(0 if run(quick="--quick" in args, only=chosen or None) else 1)
