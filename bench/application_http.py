"""POST /api/applications over HTTP beside GET /health, in the same run (bench/applications.py).

A uvicorn server on loopback (its own process, bot protection off: no proof-of-work challenge
and no rate limit, as for every load bench) and CLIENTS concurrent httpx clients. Rounds
alternate the trivial endpoint and the applications; medians and the ratio are quoted, since
this machine is shared and noisy. The applications are the batch's own, those the API can
take whole (a form that needs uploads goes through the draft pages instead) and not planted
as incomplete; each POST stores a new case.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.application_mix import Application
from bench.common import console, live_server

CLIENTS = 8
SECONDS = 3.0
ROUNDS = 3


async def _rate(base: str, jobs: Iterator[dict[str, Any] | None]) -> tuple[float, dict[int, int]]:
    """Requests answered below 300 per second: GET /health for None, else a POST; and the
    statuses seen (0: no answer)."""
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + SECONDS
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:

        async def client() -> None:
            for body in jobs:
                if time.perf_counter() > deadline:
                    return
                try:
                    if body is None:
                        resp = await http.get("/health")
                    else:
                        resp = await http.post("/api/applications", json=body)
                    status = resp.status_code
                except httpx.HTTPError:
                    status = 0  # no answer at all (reported as status 0)
                statuses[status] = statuses.get(status, 0) + 1

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
        elapsed = time.perf_counter() - start
    return sum(n for s, n in statuses.items() if s < 300) / elapsed, statuses


def _bodies(batch: list[Application]) -> list[dict[str, Any]]:
    return [
        {"service_id": a.service_id, "applicant": a.applicant, "data": a.data}
        for a in batch
        if not a.uploads and a.expected != "invalid"
    ]


def run(url: str, state: Path, batch: list[Application]) -> bool:
    """Rounds of both rates on a live server; True when every POST was stored (201)."""
    bodies = _bodies(batch)
    jobs = itertools.cycle(bodies)
    health: list[float] = []
    posts: list[float] = []
    statuses: dict[int, int] = {}
    env = {"SERVICEPOINT_STATE_DIR": str(state)}
    with live_server(url, env=env) as base:
        for _ in range(ROUNDS):
            get_rate, _ = asyncio.run(_rate(base, itertools.repeat(None)))
            post_rate, seen = asyncio.run(_rate(base, jobs))
            health.append(get_rate)
            posts.append(post_rate)
            for status, n in seen.items():
                statuses[status] = statuses.get(status, 0) + n
    ratios = [p / h for p, h in zip(posts, health, strict=True) if h]
    console.print(
        f"HTTP, {CLIENTS} concurrent httpx clients, {ROUNDS} rounds of {SECONDS:.0f} s each, "
        f"1 uvicorn worker on SQLite, {len(bodies)} distinct bodies (no uploads, not incomplete; "
        "the PDFs of approved ones are made later, by the worker or the first GET):"
    )
    console.print(
        f"  GET /health {statistics.median(health):7.1f} req/s · POST /api/applications "
        f"{statistics.median(posts):6.1f}/s · median ratio {statistics.median(ratios):.3f} "
        f"(rounds {', '.join(f'{r:.3f}' for r in ratios)}); statuses {statuses}"
    )
    return set(statuses) <= {201}
