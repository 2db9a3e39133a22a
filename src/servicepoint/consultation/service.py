"""Video consultations: join and guest links, the call's states, presence.

A consultation is made when its join link is first opened (one per video booking). Its state
goes booked -> waiting (the page is open: the knock) -> admitted -> ended, and staff may send an
admitted citizen back to waiting. Every change is one compare-and-set UPDATE, so of two clerks
admitting at once exactly one wins, on PostgreSQL and SQLite alike. The queue and estimates live
in consultation.lobby, notes, handover, rating, uploads and retention in consultation.followup;
both are importable from here, so routes and the hub call one module. Never commits.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from servicepoint.account.models import User
from servicepoint.appointment import service as appointment_service
from servicepoint.appointment import video
from servicepoint.appointment.errors import BookingNotFound
from servicepoint.appointment.models import Booking
from servicepoint.catalog import service as catalog_service
from servicepoint.config import Settings
from servicepoint.consultation import tokens
from servicepoint.consultation.errors import (
    BadToken,
    BookingCancelled,
    LinkExpired,
    NotPresent,
    NotVideoBooking,
    StateConflict,
    TooEarly,
)
from servicepoint.consultation.followup import (
    add_note,
    add_upload,
    handover,
    purge,
    rate,
    record_fallback,
    upload_for_staff,
    uploads_of,
)
from servicepoint.consultation.lobby import in_call, place, present_since, today, waiting_room
from servicepoint.consultation.models import Consultation
from servicepoint.consultation.rows import (
    audit,
    booking_of,
    by_code,
    count,
    find,
    get_or_create,
    mirror,
    move,
    set_columns,
    state_of,
)
from servicepoint.consultation.schemas import Joined
from servicepoint.core.clock import utcnow
from servicepoint.core.i18n import N_

__all__ = [
    "Joined",
    "add_note",
    "add_upload",
    "admit",
    "by_code",
    "end",
    "handover",
    "heartbeat",
    "in_call",
    "issue_guest_link",
    "knock",
    "leave",
    "open_guest",
    "open_join",
    "place",
    "purge",
    "rate",
    "record_fallback",
    "send_back",
    "state_of",
    "today",
    "upload_for_staff",
    "uploads_of",
    "waiting_room",
    "window",
]

_BAD_TOKEN = N_(
    "Dieser Link ist ungültig. Bitte prüfen Sie, ob Sie ihn vollständig geöffnet haben."
)
_NOT_VIDEO = N_("Dieser Link gehört nicht zu einer Videoberatung.")
_CANCELLED = N_("Dieser Termin wurde abgesagt. Der Link gilt nicht mehr.")
_EXPIRED = N_("Dieser Link ist abgelaufen: der Termin ist vorbei.")
_TOO_EARLY = N_("Der Wartebereich öffnet um %(time)s Uhr, kurz vor Ihrem Termin.")
_CHANGED = N_("Die Videoberatung hat sich inzwischen geändert. Bitte laden Sie die Seite neu.")
_GONE_AWAY = N_("Diese Person ist nicht mehr im Wartebereich.")


# --- links -------------------------------------------------------------------------------------


def window(booking: Booking, settings: Settings) -> tuple[dt.datetime, dt.datetime]:
    """When the booking's links work (the booking side's one rule, which its mails state)."""
    found = video.join_window(booking, settings=settings)
    return found.opens_at, found.closes_at


def _usable(
    booking: Booking, settings: Settings, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """The window, if a link of this booking may be used now; else 403 or 410 saying why."""
    if not video.is_video(booking):
        raise NotVideoBooking(_NOT_VIDEO)
    if booking.status == "cancelled":
        raise BookingCancelled(_CANCELLED)
    opens, closes = window(booking, settings)
    if booking.status != "booked" or now >= closes:
        raise LinkExpired(_EXPIRED)
    if now < opens:
        raise TooEarly(_TOO_EARLY, opens_at=opens)
    return opens, closes


def _booking(session: Session, code: str | None) -> Booking:
    if code is None:
        raise BadToken(_BAD_TOKEN)
    try:
        return appointment_service.get_booking(session, code=code)
    except BookingNotFound:
        raise BadToken(_BAD_TOKEN) from None


def _joined(
    session: Session, booking: Booking, consultation: Consultation, settings: Settings, **kw: Any
) -> Joined:
    found = catalog_service.services_by_ids(session, ids=booking.service_ids)
    services = [found[sid] for sid in booking.service_ids if sid in found]
    opens, closes = window(booking, settings)
    return Joined(consultation, booking, services, opens, closes, **kw)


def open_join(
    session: Session, *, token: str, settings: Settings, now: dt.datetime | None = None
) -> Joined:
    """The citizen's link: genuine, a video booking, not cancelled and inside its window; makes
    the consultation on first use."""
    now = now or utcnow()
    booking = _booking(session, tokens.code_of_join(settings.secret_key, token))
    _usable(booking, settings, now)
    return _joined(session, booking, get_or_create(session, booking, now), settings)


def open_guest(
    session: Session, *, token: str, settings: Settings, now: dt.datetime | None = None
) -> Joined:
    """A guest link staff issued (interpreter, second clerk): valid until staff issue another or
    the call ends, and only inside the booking's window."""
    now = now or utcnow()
    booking = _booking(session, tokens.code_in(token))
    consultation = find(session, booking.id)
    nonce = consultation.guest_nonce if consultation else None
    if consultation is None or not tokens.guest_matches(settings.secret_key, token, nonce):
        raise BadToken(_BAD_TOKEN)
    _usable(booking, settings, now)
    return _joined(session, booking, consultation, settings, guest=True)


def issue_guest_link(
    session: Session, *, code: str, settings: Settings, clerk: User | None = None
) -> str:
    """A new guest link (the path); the one issued before stops working."""
    consultation, booking = by_code(session, code=code)
    if consultation.state == "ended":
        raise StateConflict(N_("Die Videoberatung ist bereits beendet."))
    nonce = secrets.token_hex(16)
    set_columns(session, consultation, guest_nonce=nonce)
    audit(session, clerk, "video_guest_link", booking.code)
    return f"/video/gast/{tokens.guest_token(settings.secret_key, booking.code, nonce)}"


# --- presence ----------------------------------------------------------------------------------


def knock(
    session: Session, *, consultation: Consultation, connection: str, now: dt.datetime
) -> str | None:
    """The citizen's page is open (tab `connection`): a booked call starts waiting (an admitted
    one stays admitted, so a reload goes straight back into the call) and this tab holds the
    entry. Returns the tab it took over from, to be told so, or None."""
    if move(session, consultation, to="waiting", allowed=("booked",), knocked_at=now):
        count(session, booking_of(session, consultation), "knocked", now=now)
    for _ in range(5):
        previous = session.scalar(
            select(Consultation.connection).where(Consultation.id == consultation.id)
        )
        held = (
            Consultation.connection.is_(None)
            if previous is None
            else Consultation.connection == previous
        )
        taken = session.execute(
            update(Consultation)
            .where(Consultation.id == consultation.id, held)
            .values(connection=connection, seen_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0) == 1:
            mirror(consultation, {"connection": connection, "seen_at": now})
            return previous if previous not in (None, connection) else None
    raise StateConflict(_CHANGED)  # tabs taking over from each other without end


def _holder(consultation_id: int, connection: str) -> tuple[ColumnElement[bool], ...]:
    return (Consultation.id == consultation_id, Consultation.connection == connection)


def heartbeat(session: Session, *, consultation_id: int, connection: str, now: dt.datetime) -> bool:
    """A sign of life from tab `connection`; False when another tab has taken over."""
    done = session.execute(
        update(Consultation)
        .where(*_holder(consultation_id, connection))
        .values(seen_at=now)
        .execution_options(synchronize_session=False)
    )
    return getattr(done, "rowcount", 0) == 1


def leave(session: Session, *, consultation_id: int, connection: str) -> None:
    """Tab `connection` closed: if it held the entry, the entry leaves the waiting room now."""
    session.execute(
        update(Consultation)
        .where(*_holder(consultation_id, connection))
        .values(seen_at=None)
        .execution_options(synchronize_session=False)
    )


# --- staff's steps -----------------------------------------------------------------------------


def admit(
    session: Session,
    *,
    code: str,
    clerk: User,
    now: dt.datetime | None = None,
    settings: Settings | None = None,
) -> Consultation:
    """Let a waiting citizen in, if their page is still open (409 otherwise, also when another
    clerk was quicker)."""
    now = now or utcnow()
    consultation, booking = by_code(session, code=code)
    if booking.status != "booked":
        raise (
            BookingCancelled(_CANCELLED) if booking.status == "cancelled" else LinkExpired(_EXPIRED)
        )
    present = Consultation.seen_at >= present_since(settings, now)
    if not move(
        session,
        consultation,
        to="admitted",
        allowed=("waiting",),
        also=(present,),
        admitted_at=now,
        clerk_id=clerk.id,
    ):
        raise NotPresent(_GONE_AWAY) if consultation.state == "waiting" else StateConflict(_CHANGED)
    waited = now - (consultation.knocked_at or now)
    count(session, booking, "admitted", now=now, wait_seconds=max(0, int(waited.total_seconds())))
    audit(session, clerk, "video_admit", booking.code)
    return consultation


def send_back(
    session: Session, *, code: str, clerk: User, now: dt.datetime | None = None
) -> Consultation:
    """Send an admitted citizen back to the waiting room; their wait starts again."""
    now = now or utcnow()
    consultation, booking = by_code(session, code=code)
    if not move(session, consultation, to="waiting", allowed=("admitted",), knocked_at=now):
        raise StateConflict(_CHANGED)
    audit(session, clerk, "video_send_back", booking.code)
    return consultation


def end(
    session: Session, *, code: str, clerk: User | None, now: dt.datetime | None = None
) -> Consultation:
    """End the call (staff; `clerk` None: the citizen hung up). Guest links stop working."""
    now = now or utcnow()
    consultation, booking = by_code(session, code=code)
    session.refresh(consultation)  # the state we compare with decides the duration
    before, admitted_at = consultation.state, consultation.admitted_at
    if before not in ("waiting", "admitted") or not move(
        session, consultation, to="ended", allowed=(before,), ended_at=now, guest_nonce=None
    ):
        raise StateConflict(_CHANGED)
    talked = before == "admitted"
    seconds = int((now - admitted_at).total_seconds()) if talked and admitted_at else None
    count(session, booking, "ended", now=now, duration_seconds=seconds)
    audit(session, clerk, "video_end", booking.code)
    return consultation
