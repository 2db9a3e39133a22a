"""A published mobile ServicePoint stop for tests: a location of kind "mobile" with dated hours,
made the way the planning's publish makes it (appointment.capacity.set_dated_hours).

Test data only: the stop's name and address are made up, and it has no coordinates."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from servicepoint.appointment import capacity as capacity_service
from servicepoint.appointment.models import Capacity
from servicepoint.catalog.models import Location
from tests.appointment.conftest import NOW, PASS, REGISTRATION

STOP = "mobil-test"
STOP_NAME = "Mobiler ServicePoint – Teststraße"
# The test clock is Monday 2026-12-14; the Christmas Day visit falls on a public holiday.
VISITS: dict[dt.date, list[tuple[str, str]]] = {
    dt.date(2026, 12, 15): [("09:00", "12:00")],  # Tuesday
    dt.date(2026, 12, 17): [("13:00", "15:00")],  # Thursday
    dt.date(2026, 12, 21): [("10:00", "11:00"), ("14:00", "15:00")],  # Monday
    dt.date(2026, 12, 25): [("09:00", "12:00")],  # Christmas Day (Lower Saxony: holiday)
}
SERVICES = [PASS, REGISTRATION]


def add_stop(
    session: Session,
    *,
    location_id: str = STOP,
    visits: dict[dt.date, list[tuple[str, str]]] | None = None,
    counters: int = 1,
) -> Capacity:
    """The stop and its capacity, committed (into the test's rolled-back transaction)."""
    if session.get(Location, location_id) is None:
        session.add(
            Location(
                id=location_id,
                name=STOP_NAME,
                kind="mobile",
                street="Teststraße",
                house_number="1",
                postcode="30159",
                city="Hannover",
                opening_hours={},
                provenance={"name": {"source": "test", "by": "test", "at": NOW.isoformat()}},
            )
        )  # not flushed: publishing finds a stop its caller has just added
    cap = capacity_service.set_dated_hours(
        session,
        location_id=location_id,
        dates=VISITS if visits is None else visits,
        service_ids=SERVICES,
        counters=counters,
        walkin_share=0.0,
        now=NOW,
    )
    session.commit()
    return cap
