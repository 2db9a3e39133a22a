"""Booking counts per location: what planning's booking adjuster reads."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from servicepoint.appointment.models import Booking
from servicepoint.appointment.slots import to_utc
from servicepoint.appointment.stats import booking_counts


def _booking(code: str, location: str, day: dt.date, **extra: str) -> Booking:
    start = to_utc(day, 9 * 60)
    return Booking(
        code=code,
        location_id=location,
        start=start,
        end=start + dt.timedelta(minutes=10),
        service_ids=["meldebescheinigung-beantragen"],
        **extra,
    )


def test_counts_in_person_bookings_per_location_by_local_day(session: Session) -> None:
    monday, tuesday = dt.date(2027, 3, 1), dt.date(2027, 3, 2)
    session.add_all(
        [
            _booking("STAT0001", "aegi", monday),
            _booking("STAT0002", "aegi", tuesday),
            _booking("STAT0003", "sahlkamp", monday),
            _booking("STAT0004", "sahlkamp", monday, status="cancelled"),
            _booking("STAT0005", "aegi", tuesday + dt.timedelta(days=1)),  # after the period
        ]
    )
    session.flush()
    counts = booking_counts(session, since=monday, until=tuesday + dt.timedelta(days=1))
    assert counts == {"aegi": 2, "sahlkamp": 1}
    # Midnight local time, not UTC: a day's first booking belongs to that day.
    assert booking_counts(session, since=tuesday, until=tuesday + dt.timedelta(days=1)) == {
        "aegi": 1
    }
