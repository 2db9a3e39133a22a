"""Video bookings, clerks and joined calls for the consultation tests (other test modules may
import these too). A booking is written as the appointment domain stores it, so a test can put
it at any time, also in the past, which the booking rules would refuse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.account import service as account_service
from servicepoint.account.models import User
from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.models import Booking, Capacity
from servicepoint.catalog.models import Location
from servicepoint.config import Settings
from servicepoint.consultation import service, tokens
from servicepoint.consultation.models import Consultation
from servicepoint.core import events
from servicepoint.core.clock import utcnow

VIDEO_LOCATION = "videoberatung"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


def video_location(session: Session, *, counters: int | None = None) -> str:
    """The city's video "location" with its capacity (seeded from capacity.yaml; made here
    when the seed lacks it). `counters`: how many clerks take calls at once (default: as
    seeded, or 2)."""
    if session.get(Location, VIDEO_LOCATION) is None:
        session.add(Location(id=VIDEO_LOCATION, name="Videoberatung", kind="video", provenance={}))
        session.flush()
    cap = session.get(Capacity, VIDEO_LOCATION)
    if cap is None:
        week = {day: [["09:00", "17:00"]] for day in ("mo", "tu", "we", "th", "fr")}
        cap = Capacity(
            location_id=VIDEO_LOCATION,
            hours=week,
            hours_source="test",
            counters=counters or 2,
            walkin_share=0.0,
            grid_minutes=15,
            lead_minutes=60,
            horizon_days=30,
            channel="video",
        )
        session.add(cap)
    if counters is not None:
        cap.counters = counters
        session.flush()
    return VIDEO_LOCATION


def video_booking(
    session: Session,
    *,
    start: dt.datetime | None = None,
    minutes: int = 15,
    services: Sequence[str] = ("gewerbe",),
    name: str = "Erika Mustermann",
    email: str | None = "erika@example.org",
    lang: str = "de",
    status: str = "booked",
    channel: str = "video",
    location_id: str | None = None,
) -> Booking:
    """A stored booking (default: video, starting now, 15 minutes)."""
    start = start or utcnow()
    booking = Booking(
        code=appointment_service.new_code(),
        location_id=location_id or video_location(session),
        start=start,
        end=start + dt.timedelta(minutes=minutes),
        service_ids=list(services),
        name=name,
        email=email,
        lang=lang,
        status=status,
        channel=channel,
        sequence=0,
        created_at=utcnow(),
    )
    session.add(booking)
    session.flush()
    return booking


def kinds(session: Session, kind: str) -> list[dict[str, object]]:
    """The data of the consultation events of `kind` (e.g. "ended")."""
    return [e.data for e in events.events(session, kind=f"consultation.{kind}")]


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def join_token(settings: Settings, booking: Booking) -> str:
    return tokens.join_token(settings.secret_key, booking.code)


def joined(
    session: Session, settings: Settings, booking: Booking, *, now: dt.datetime | None = None
) -> Consultation:
    """Open the booking's join link: its consultation (made on first use)."""
    found = service.open_join(
        session, token=join_token(settings, booking), settings=settings, now=now
    )
    return found.consultation


def waiting(
    session: Session,
    settings: Settings,
    booking: Booking,
    *,
    now: dt.datetime | None = None,
    connection: str = "tab-1",
) -> Consultation:
    """A citizen whose page is open in the waiting room now."""
    now = now or utcnow()
    consultation = joined(session, settings, booking, now=now)
    service.knock(session, consultation=consultation, connection=connection, now=now)
    return consultation


def clerk(session: Session, username: str = "video-clerk") -> User:
    """A staff user (made once per database transaction)."""
    found = session.scalar(select(User).where(User.username == username))
    if found is not None:
        return found
    return account_service.create_user(
        session, username=username, password="correct-horse-1", role="staff"
    )


def in_call(
    session: Session,
    settings: Settings,
    booking: Booking,
    *,
    now: dt.datetime | None = None,
    staff: User | None = None,
) -> Consultation:
    """A citizen admitted by a clerk (default: the one clerk): the call is on. A clerk takes
    one call at a time; a second call needs another `staff`."""
    now = now or utcnow()
    consultation = waiting(session, settings, booking, now=now)
    staff = staff or clerk(session)
    service.admit(session, code=booking.code, clerk=staff, now=now, settings=settings)
    return consultation
