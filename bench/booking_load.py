"""Booking load over HTTP on loopback (uvicorn), against a trivial GET on the same server.

1. Throughput: concurrent clients book distinct slots; bookings/s as a ratio to GET /health/s
   measured in the same run (target >= 0.5).
2. Race: 200 clients fight over 20 places; exactly 20 bookings must succeed, the rest get 409.
Run on SQLite, and on PostgreSQL (two worker processes) when a PostgreSQL URL is set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import httpx
from sqlalchemy import func, select, text

from bench.common import console, fresh_database, live_server, postgres_url
from servicepoint.appointment.models import Booking, SlotUsage
from servicepoint.core.db import make_engine

CLIENTS = 20
SECONDS = 5.0
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


def _run_on(kind: str, workers: int) -> bool:
    console.rule(f"Booking load on {kind} ({workers} worker{'s' if workers > 1 else ''})")
    url = fresh_database(kind)
    location = _prepare_race_location(url)
    with live_server(url, workers=workers) as base:
        get_rate = asyncio.run(_get_rate(base))
        book_rate, statuses = asyncio.run(_booking_rate(base))
        race, starts = asyncio.run(_race(base, location))
    booked, over = _db_check(url, location, starts)
    ratio = book_rate / get_rate if get_rate else 0.0
    console.print(f"GET /health      {get_rate:8.1f} req/s  ({CLIENTS} clients, {SECONDS:.0f} s)")
    console.print(f"POST booking     {book_rate:8.1f} bookings/s  statuses {statuses}")
    console.print(f"ratio            {ratio:8.2f}  (target >= {TARGET_RATIO})")
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
