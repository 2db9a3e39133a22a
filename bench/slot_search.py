"""Slot search: all services × all locations × 60 days, in-process (target p95 <= 20 ms).

Baseline in the same run: a trivial query through the same session (SELECT 1), so the figure
can be read as a ratio on this noisy machine.
"""

from __future__ import annotations

import datetime as dt
import gc
import time

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.common import console, fresh_database, percentile, summary_ms
from servicepoint.appointment import service as appointment_service
from servicepoint.catalog import service as catalog_service
from servicepoint.core.clock import utcnow
from servicepoint.core.db import make_engine

TARGET_P95_MS = 20.0


def run() -> bool:
    console.rule("Slot search: all services × all locations × 60 days")
    url = fresh_database("sqlite")
    engine = make_engine(url)
    timings: list[float] = []
    baseline: list[float] = []
    with Session(engine) as session:
        services = [
            s for s in catalog_service.list_services(session) if "appointment" in s.channels
        ]
        today = utcnow().date()
        for svc in services:  # warm-up, then settle the heap as the server's start-up does
            appointment_service.find_slots(
                session,
                service_ids=[svc.id],
                date_from=today,
                date_to=today + dt.timedelta(days=60),
            )
        gc.collect()
        gc.freeze()
        for _ in range(3):
            for svc in services:
                t0 = time.perf_counter()
                found = appointment_service.find_slots(
                    session,
                    service_ids=[svc.id],
                    date_from=today,
                    date_to=today + dt.timedelta(days=60),
                )
                timings.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                session.execute(text("SELECT 1")).scalar()
                baseline.append(time.perf_counter() - t0)
        console.print(f"services: {len(services)}, slots found for the last: {len(found)}")
    engine.dispose()
    p95 = percentile(timings, 0.95) * 1000
    console.print(f"slot search   {summary_ms(timings)}")
    console.print(f"baseline      {summary_ms(baseline)} (SELECT 1 on the same session)")
    ok = p95 <= TARGET_P95_MS
    console.print(f"target p95 <= {TARGET_P95_MS} ms: {'[green]met' if ok else '[red]missed'}[/]")
    return ok
