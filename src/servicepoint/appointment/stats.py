"""Counts of bookings for planning and figures: numbers only, never who booked."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepoint.appointment.models import Booking
from servicepoint.appointment.slots import to_utc


def booking_counts(session: Session, *, since: dt.date, until: dt.date) -> dict[str, int]:
    """In-person bookings per location with a start on the local days [since, until), cancelled
    ones left out. Purged bookings still count: purging drops the person, not the booking."""
    stmt = (
        select(Booking.location_id, func.count())
        .where(Booking.start >= to_utc(since, 0), Booking.start < to_utc(until, 0))
        .where(Booking.status != "cancelled", Booking.channel == "in_person")
        .group_by(Booking.location_id)
    )
    return {location_id: int(count) for location_id, count in session.execute(stmt)}
