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
    StaffLogin,
    free_port,
    prepare,
    server,
    staff_login,
    uvicorn_process,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from bench.video_connect import ConnectFigure
    from bench.video_load import LevelFigure, Target

SECRET = "bench-video"
CLERK = "bench-clerk"
TARGET_CONNECT_P95 = 5.0


def redis_url() -> str | None:
    return os.environ.get("SERVICEPOINT_BENCH_REDIS_URL") or os.environ.get(
        "SERVICEPOINT_TEST_REDIS_URL"
    )


def _seal(quick: bool) -> bool:
    from bench import video_seal

    console.rule("Video (a): admission is sealed")
    url = fresh_database("sqlite")
    engine = prepare(url)
    staff = staff_login(engine, secret=SECRET, username=CLERK)
    total = 100 if quick else 1000
    with server(url, secret=SECRET) as base:
        result = asyncio.run(
            video_seal.measure(base, engine, secret=SECRET, staff=staff, total=total)
        )
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


def _load(quick: bool) -> bool:
    from bench import video_load

    console.rule("Video (c): waiting rooms and calls one worker holds")
    levels = [5, 10] if quick else [10, 25, 50, 100, 200, 400, 800]
    window = 3.0 if quick else 12.0
    url = fresh_database("sqlite")
    engine = prepare(url)
    staff = staff_login(engine, secret=SECRET, username=CLERK)
    with server(url, secret=SECRET) as base:
        app_figures = asyncio.run(
            video_load.ramp(_app_targets(base, engine, staff), levels, window)
        )
    engine.dispose()
    with uvicorn_process("bench.video_echo:app", port=free_port()) as relay:
        offset = [0]

        def relay_target(size: int) -> Target:
            offset[0] += size
            return video_load.relay_target(relay, offset[0] - size)

        reached = [f.size for f in app_figures]
        base_figures = asyncio.run(video_load.ramp(relay_target, reached, window))
    _print_load(app_figures, base_figures)
    holding = [f for f in app_figures if f.holds]
    return bool(holding)


def _app_targets(base: str, engine: Engine, staff: StaffLogin) -> Callable[[int], Target]:
    from bench import video_load

    def make(size: int) -> Target:
        return video_load.app_target(
            base, engine, secret=SECRET, staff=staff, clerk=CLERK, size=size
        )

    return make


def _print_load(app_figures: list[LevelFigure], base_figures: list[LevelFigure]) -> None:
    from bench.video_load import LIMIT_MS

    baseline = {f.size: f for f in base_figures}
    console.print("waiting + calls · connections · relay p50/p95 ms · trivial relay p50/p95 ms")
    for f in app_figures:
        b = baseline.get(f.size)
        base_text = f"{b.p50_ms:6.1f} / {b.p95_ms:6.1f}" if b else "   –"
        console.print(
            f"{f.size:5} + {f.size:<5} · {f.connections:6} · {f.p50_ms:6.1f} / {f.p95_ms:6.1f} "
            f"(probes {f.received}, lost {f.lost}, connections lost {f.failures}) · {base_text}"
        )
    holding = [f for f in app_figures if f.holds]
    top = holding[-1].size if holding else 0
    more = "+" if app_figures and app_figures[-1].holds else ""
    console.print(
        f"one worker holds {top}{more} waiting rooms and {top}{more} calls with relay p95 "
        f"<= {LIMIT_MS:.0f} ms ('+': the largest level tried still held)"
    )


SUITES: dict[str, Callable[[bool], bool]] = {"seal": _seal, "connect": _connect, "load": _load}


def run(quick: bool = False, only: set[str] | None = None) -> bool:
    results = [suite(quick) for name, suite in SUITES.items() if not only or name in only]
    return all(results)


if __name__ == "__main__":
    args = sys.argv[1:]
    chosen = {a for a in args if not a.startswith("-")}
    raise SystemExit(0 if run(quick="--quick" in args, only=chosen or None) else 1)
