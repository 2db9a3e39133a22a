"""Booking load over HTTP on loopback (uvicorn), against a trivial GET on the same server.

1. Throughput: concurrent clients book distinct slots; bookings/s as a ratio to GET /health/s
   measured in the same run (target >= 0.5). Twice: with httpx clients (what a Python
   integration would use; the client process itself needs about a core, so both rates are
   partly the client's), and with a lean keep-alive client on raw sockets, where the server is
   the bottleneck and the ratio shows what a booking costs it compared to a trivial request.
2. Race: 200 clients fight over 20 places; exactly 20 bookings must succeed, the rest get 409.
Run on SQLite, and on PostgreSQL (two worker processes) when a PostgreSQL URL is set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select, text

from bench.common import console, fresh_database, live_server, postgres_url
from servicepoint.appointment.models import Booking, SlotUsage
from servicepoint.core.db import make_engine

CLIENTS = 20
SECONDS = 3.0
ROUNDS = 3
SERVICE = "meldebescheinigung"
RACE_CLIENTS = 200
RACE_PLACES = 20
TARGET_RATIO = 0.5


async def _get_rate(base: str) -> float:
    count = 0
    deadline = time.perf_counter() + SECONDS

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            (await http.get(f"{base}/health")).raise_for_status()
            count += 1

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=CLIENTS)) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(CLIENTS)))
        return count / (time.perf_counter() - start)


async def _raw_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, body: Any = None
) -> int:
    """One HTTP/1.1 keep-alive exchange; returns the status (the body is read and dropped)."""
    data = b"" if body is None else json.dumps(body).encode()
    method = "GET" if body is None else "POST"
    head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(data)}\r\n"
    if body is not None:
        head += "Content-Type: application/json\r\n"
    writer.write(head.encode() + b"\r\n" + data)
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def _raw_rate(base: str, jobs: Iterator[tuple[str, Any]]) -> tuple[float, dict[int, int]]:
    """CLIENTS connections working through `jobs` (path, body) for SECONDS."""
    host, port = base.removeprefix("http://").split(":")
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + SECONDS

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        for path, body in jobs:
            if time.perf_counter() > deadline:
                break
            status = await _raw_request(reader, writer, path, body)
            statuses[status] = statuses.get(status, 0) + 1
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    elapsed = time.perf_counter() - start
    return sum(n for s, n in statuses.items() if s < 300) / elapsed, statuses


async def _raw_rates(base: str) -> tuple[float, float, dict[int, int]]:
    get_rate, _ = await _raw_rate(base, itertools.repeat(("/health", None)))
    async with httpx.AsyncClient(timeout=60) as http:
        slots = await _slots(http, base)  # what the httpx round left free
    jobs = ((("/api/appointments", _payload(slot, 50_000 + n))) for n, slot in enumerate(slots))
    book_rate, statuses = await _raw_rate(base, jobs)
    return get_rate, book_rate, statuses


async def _slots(http: httpx.AsyncClient, base: str, **params: Any) -> list[dict[str, Any]]:
    today = dt.date.today()
    query = {
        "service": params.pop("service", SERVICE),
        "date_from": str(today),
        "date_to": str(today + dt.timedelta(days=59)),
        **params,
    }
    resp = await http.get(f"{base}/api/appointments/slots", params=query, timeout=60)
    resp.raise_for_status()
    return list(resp.json())


def _payload(slot: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        "service_ids": [SERVICE],
        "location_id": slot["location_id"],
        "start": slot["start"],
        "name": f"Bench {n}",
        "email": f"bench{n}@example.org",
    }


async def _booking_rate(base: str) -> tuple[float, dict[int, int]]:
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=CLIENTS), timeout=30) as http:
        slots = await _slots(http, base)
        # One place per slot start, so clients never compete: this measures throughput.
        queue = iter(enumerate(slots))
        statuses: dict[int, int] = {}
        deadline = time.perf_counter() + SECONDS

        async def client() -> None:
            for n, slot in queue:
                if time.perf_counter() > deadline:
                    return
                resp = await http.post(f"{base}/api/appointments", json=_payload(slot, n))
                statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
        elapsed = time.perf_counter() - start
    return statuses.get(201, 0) / elapsed, statuses


def _prepare_race_location(url: str) -> str:
    """One location with one place per slot, far enough ahead to be untouched by the rest."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE capacity SET counters = 1, walkin_share = 0 WHERE location_id = 'sahlkamp'"
            )
        )
    engine.dispose()
    return "sahlkamp"


async def _race(base: str, location: str) -> tuple[dict[int, int], list[str]]:
    limits = httpx.Limits(max_connections=RACE_CLIENTS)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        slots = [s for s in await _slots(http, base, location=location) if s["capacity_left"] == 1]
        targets = slots[-RACE_PLACES:]  # the far end of the horizon: no other bookings there
        clients = [targets[i % RACE_PLACES] for i in range(RACE_CLIENTS)]
        results = await asyncio.gather(
            *(
                http.post(f"{base}/api/appointments", json=_payload(slot, 10_000 + n))
                for n, slot in enumerate(clients)
            )
        )
    statuses: dict[int, int] = {}
    for resp in results:
        statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
    return statuses, [t["start"] for t in targets]


def _db_check(url: str, location: str, starts: list[str]) -> tuple[int, int]:
    """Bookings stored for the raced places, and cells anywhere above their capacity."""
    engine = make_engine(url)
    wanted = [dt.datetime.fromisoformat(s) for s in starts]
    with engine.connect() as conn:
        booked = conn.execute(
            select(func.count(Booking.id)).where(
                Booking.location_id == location, Booking.start.in_(wanted)
            )
        ).scalar_one()

        over = conn.execute(
            select(func.count()).select_from(SlotUsage).where(SlotUsage.used > SlotUsage.capacity)
        ).scalar_one()
    engine.dispose()
    return int(booked), int(over)


@dataclass
class _Round:
    get: float
    book: float
    raw_get: float
    raw_book: float
    statuses: dict[int, int]

    @property
    def ratio(self) -> float:
        return self.book / self.get if self.get else 0.0

    @property
    def raw_ratio(self) -> float:
        return self.raw_book / self.raw_get if self.raw_get else 0.0


def _round(base: str) -> _Round:
    """One round: trivial GET and booking, with httpx clients, then with the lean client."""
    get_rate = asyncio.run(_get_rate(base))
    book_rate, statuses = asyncio.run(_booking_rate(base))
    raw_get, raw_book, raw_statuses = asyncio.run(_raw_rates(base))
    for status, n in raw_statuses.items():
        statuses[status] = statuses.get(status, 0) + n
    return _Round(get_rate, book_rate, raw_get, raw_book, statuses)


def _run_on(kind: str, workers: int) -> bool:
    console.rule(f"Booking load on {kind} ({workers} worker{'s' if workers > 1 else ''})")
    url = fresh_database(kind)
    location = _prepare_race_location(url)
    with live_server(url, workers=workers) as base:
        # Alternating rounds, medians: this machine is noisy and shared with the clients.
        rounds = [_round(base) for _ in range(ROUNDS)]
        race, starts = asyncio.run(_race(base, location))
    booked, over = _db_check(url, location, starts)
    statuses: dict[int, int] = {}
    for r in rounds:
        for status, n in r.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    ratio = statistics.median(r.ratio for r in rounds)
    console.print(f"{ROUNDS} rounds, {CLIENTS} concurrent clients, {SECONDS:.0f} s per phase:")
    console.print(
        f"httpx clients    GET /health {statistics.median(r.get for r in rounds):7.1f} req/s · "
        f"POST booking {statistics.median(r.book for r in rounds):6.1f}/s · median ratio "
        f"{ratio:.2f} (rounds {', '.join(f'{r.ratio:.2f}' for r in rounds)}; "
        f"target >= {TARGET_RATIO})"
    )
    console.print(
        f"raw keep-alive   GET /health {statistics.median(r.raw_get for r in rounds):7.1f} "
        f"req/s · POST booking {statistics.median(r.raw_book for r in rounds):6.1f}/s · median "
        f"ratio {statistics.median(r.raw_ratio for r in rounds):.2f} (server-bound; rounds "
        f"{', '.join(f'{r.raw_ratio:.2f}' for r in rounds)})"
    )
    console.print(f"booking statuses {statuses}")
    console.print(
        f"race             {RACE_CLIENTS} clients for {RACE_PLACES} places: {race}; "
        f"bookings in DB {booked}; cells over capacity {over}"
    )
    race_ok = (
        race.get(201) == RACE_PLACES
        and race.get(409) == RACE_CLIENTS - RACE_PLACES
        and booked == RACE_PLACES
        and over == 0
    )
    ok = ratio >= TARGET_RATIO and race_ok and set(statuses) <= {201}
    console.print(f"result: {'[green]met' if ok else '[red]missed'}[/]")
    return ok


def run() -> bool:
    results = [_run_on("sqlite", 1)]
    if postgres_url():
        results.append(_run_on("postgresql", 2))
    else:
        console.print("PostgreSQL: skipped (set SERVICEPOINT_BENCH_POSTGRES_URL)")
    return all(results)
