"""The consultation's row: finding or making it, and the one way its state changes
(compare-and-set). Shared by consultation.service and consultation.followup; never commits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from servicepoint.account import service as account_service
from servicepoint.account.models import User
from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.models import Booking
from servicepoint.consultation import timing
from servicepoint.consultation.errors import ConsultationNotFound
from servicepoint.consultation.models import Consultation
from servicepoint.core import events
from servicepoint.core.i18n import N_

_NO_CALL = N_("Zu diesem Termin gibt es noch keine Videoberatung.")


def find(session: Session, booking_id: int) -> Consultation | None:
    return session.scalar(select(Consultation).where(Consultation.booking_id == booking_id))


def get_or_create(session: Session, booking: Booking, now: dt.datetime) -> Consultation:
    """The booking's consultation, made if missing. Two tabs opening the link at once both
    insert; the unique booking_id lets one win and the other reads the winner's row."""
    found = find(session, booking.id)
    if found is not None:
        return found
    row = Consultation(
        booking_id=booking.id, state="booked", booking_start=booking.start, created_at=now
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        found = find(session, booking.id)
        if found is None:  # not the duplicate we expected
            raise
        return found
    return row


def by_code(session: Session, *, code: str) -> tuple[Consultation, Booking]:
    """The consultation of booking `code` (staff's handle on it); 404 if never opened."""
    booking = appointment_service.get_booking(session, code=code)
    consultation = find(session, booking.id)
    if consultation is None:
        raise ConsultationNotFound(_NO_CALL)
    return consultation, booking


def state_of(session: Session, *, code: str) -> str:
    """The call's state as the database holds it; "booked" while the link was never opened
    (for the booking's current time), "ended" once the booking is cancelled."""
    booking = appointment_service.get_booking(session, code=code)
    session.refresh(booking)
    if booking.status == "cancelled":
        return "ended"
    found = find(session, booking.id)
    if found is None:
        return "booked"
    session.refresh(found)
    return found.state if timing.is_current(found, booking) else "booked"


# What a moved booking's old call leaves behind: nothing but the note and the documents (the
# case's, purged on their schedule).
FRESH: dict[str, Any] = {
    "state": "booked",
    "knocked_at": None,
    "admitted_at": None,
    "ended_at": None,
    "connection": None,
    "seen_at": None,
    "clerk_id": None,
    "guest_nonce": None,
    "rating": None,
    "fallback": None,
    "handover": None,
}


def current(
    session: Session, consultation: Consultation, booking: Booking, now: dt.datetime
) -> Consultation:
    """The consultation for the booking's current time: the call of an earlier time of a moved
    booking starts afresh (`booked`), once, however many tabs open the link at once."""
    if timing.is_current(consultation, booking):
        return consultation
    made_for = Consultation.booking_start == consultation.booking_start
    session.execute(
        update(Consultation)
        .where(Consultation.id == consultation.id, made_for)
        .values(**FRESH, booking_start=booking.start, created_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(consultation)
    return consultation


def set_columns(session: Session, consultation: Consultation, **values: Any) -> None:
    """Write columns at once (no lost update through a stale object) and mirror them."""
    session.execute(
        update(Consultation)
        .where(Consultation.id == consultation.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    mirror(consultation, values)


def mirror(consultation: Consultation, values: dict[str, Any]) -> None:
    # As if loaded: the object says what the row holds, and no second UPDATE is flushed.
    for key, value in values.items():
        set_committed_value(consultation, key, value)


def move(
    session: Session,
    consultation: Consultation,
    *,
    to: str,
    allowed: tuple[str, ...],
    also: tuple[ColumnElement[bool], ...] = (),
    **values: Any,
) -> bool:
    """Compare-and-set: state `to` (and `values`) only if the row is still in one of `allowed`
    (and meets `also`); False, with the object showing the database's state, otherwise."""
    session.flush()  # our own pending changes first: the UPDATE bypasses the unit of work
    moved = session.execute(
        update(Consultation)
        .where(Consultation.id == consultation.id, Consultation.state.in_(allowed), *also)
        .values(state=to, **values)
        .execution_options(synchronize_session=False)
    )
    if getattr(moved, "rowcount", 0) != 1:
        session.refresh(consultation)
        return False
    mirror(consultation, {"state": to, **values})
    return True


def count(session: Session, booking: Booking, kind: str, *, now: dt.datetime, **data: Any) -> None:
    """One anonymous event of the call (which services, where, how long); never who."""
    events.record(
        session,
        kind=f"consultation.{kind}",
        location_id=booking.location_id,
        service_ids=booking.service_ids,
        at=now,
        **data,
    )


def audit(session: Session, clerk: User | None, action: str, code: str) -> None:
    if clerk is not None:
        account_service.audit(session, username=clerk.username, action=action, target=code)


def booking_of(session: Session, consultation: Consultation) -> Booking:
    found = appointment_service.bookings_by_ids(session, ids=[consultation.booking_id])
    # The foreign key cascades: no consultation without its booking.
    return found[consultation.booking_id]
