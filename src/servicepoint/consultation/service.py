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

from sqlalchemy import ColumnElement, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from servicepoint.account.models import User
from servicepoint.appointment import service as appointment_service
from servicepoint.appointment import video
from servicepoint.appointment.errors import BookingNotFound
from servicepoint.appointment.models import Booking
from servicepoint.catalog import service as catalog_service
from servicepoint.config import Settings
from servicepoint.consultation import timing, tokens
from servicepoint.consultation.errors import (
    BadToken,
    BookingCancelled,
    Busy,
    LinkExpired,
    NotInCall,
    NotPresent,
    NotVideoBooking,
    StateConflict,
    TooEarly,
)
from servicepoint.consultation.followup import (
    add_note,
    add_upload,
    end_forgotten,
    handover,
    purge,
    rate,
    record_fallback,
    upload_for_staff,
    uploads_of,
)
from servicepoint.consultation.lobby import (
    CANCELLED,
    in_call,
    place,
    present_since,
    today,
    waiting_room,
)
from servicepoint.consultation.models import Consultation
from servicepoint.consultation.rows import (
    audit,
    booking_of,
    by_code,
    count,
    current,
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
    "end_forgotten",
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
_CANCELLED = CANCELLED
_EXPIRED = N_("Dieser Link ist abgelaufen: der Termin ist vorbei.")
_TOO_EARLY = N_("Der Wartebereich öffnet um %(time)s Uhr, kurz vor Ihrem Termin.")
_CHANGED = N_("Die Videoberatung hat sich inzwischen geändert. Bitte laden Sie die Seite neu.")
_GONE_AWAY = N_("Diese Person ist nicht mehr im Wartebereich.")
_BUSY = N_(
    "Sie sind noch in einem Gespräch. Beenden Sie es oder schicken Sie die Person zurück, "
    "bevor Sie die nächste Person eintreten lassen."
)
_NOT_STARTED = N_(
    "Das Gespräch hat noch nicht begonnen. Sie bleiben im Wartebereich, bis Sie die Seite "
    "schließen."
)


# --- links -------------------------------------------------------------------------------------


def window(booking: Booking, settings: Settings) -> tuple[dt.datetime, dt.datetime]:
    """When the booking's links work (the booking side's one rule, which its mails state)."""
    found = video.join_window(booking, settings=settings)
    return found.opens_at, found.closes_at


def _check(booking: Booking, settings: Settings, now: dt.datetime) -> None:
    """403 or 410 if no link of this booking may be used now, whatever its call's state."""
    if not video.is_video(booking):
        raise NotVideoBooking(_NOT_VIDEO)
    if booking.status == "cancelled":
        raise BookingCancelled(_CANCELLED)
    opens, _ = window(booking, settings)
    if booking.status != "booked":
        raise LinkExpired(_EXPIRED)
    if now < opens:
        raise TooEarly(_TOO_EARLY, opens_at=opens)


def _until(
    consultation: Consultation | None, booking: Booking, settings: Settings, now: dt.datetime
) -> dt.datetime:
    """Until when the link works in the call's state now (a late call outlives the window,
    see consultation.timing); 410 if that is past."""
    until = timing.usable_until(consultation, booking, settings)
    if now >= until:
        raise LinkExpired(_EXPIRED)
    return until


def _booking(session: Session, code: str | None) -> Booking:
    if code is None:
        raise BadToken(_BAD_TOKEN)
    try:
        return appointment_service.get_booking(session, code=code)
    except BookingNotFound:
        raise BadToken(_BAD_TOKEN) from None


def _joined(
    session: Session,
    booking: Booking,
    consultation: Consultation,
    settings: Settings,
    until: dt.datetime,
    **kw: Any,
) -> Joined:
    found = catalog_service.services_by_ids(session, ids=booking.service_ids)
    services = [found[sid] for sid in booking.service_ids if sid in found]
    opens, _ = window(booking, settings)
    return Joined(consultation, booking, services, opens, until, **kw)


def open_join(
    session: Session, *, token: str, settings: Settings, now: dt.datetime | None = None
) -> Joined:
    """The citizen's link: genuine, a video booking, not cancelled and inside its window (or
    its call still going on, see consultation.timing); makes the consultation on first use,
    and afresh for a moved booking. `closes_at`: until when this page may stay (waiting for
    a late clerk: until the day ends)."""
    now = now or utcnow()
    booking = _booking(session, video.code_of_join(settings.secret_key, token))
    _check(booking, settings, now)
    found = find(session, booking.id)
    if found is not None:
        found = current(session, found, booking, now)
    until = _until(found, booking, settings, now)
    consultation = found or get_or_create(session, booking, now)
    if consultation.state in ("booked", "waiting"):  # opening it knocks: a wait may run late
        until = max(until, timing.day_end(booking))
    return _joined(session, booking, consultation, settings, until)


def open_guest(
    session: Session, *, token: str, settings: Settings, now: dt.datetime | None = None
) -> Joined:
    """A guest link staff issued (interpreter, second clerk): valid until staff issue another or
    the call ends, and only while the citizen's link works."""
    now = now or utcnow()
    cid = tokens.guest_id(token)
    consultation = session.get(Consultation, cid, populate_existing=True) if cid else None
    nonce = consultation.guest_nonce if consultation else None
    if consultation is None or not tokens.guest_matches(settings.secret_key, token, nonce):
        raise BadToken(_BAD_TOKEN)
    booking = booking_of(session, consultation)
    if not timing.is_current(consultation, booking):  # issued for the booking's old time
        raise BadToken(_BAD_TOKEN)
    _check(booking, settings, now)
    until = _until(consultation, booking, settings, now)
    return _joined(session, booking, consultation, settings, until, guest=True)


def issue_guest_link(
    session: Session, *, code: str, settings: Settings, clerk: User | None = None
) -> str:
    """A new guest link (the path); the one issued before stops working. It names the
    consultation, not the booking: the booking code would give the guest the citizen's seat."""
    consultation, booking = by_code(session, code=code)
    if consultation.state == "ended":
        raise StateConflict(N_("Die Videoberatung ist bereits beendet."))
    nonce = secrets.token_hex(16)
    set_columns(session, consultation, guest_nonce=nonce)
    audit(session, clerk, "video_guest_link", booking.code)
    return f"/video/gast/{tokens.guest_token(settings.secret_key, consultation.id, nonce)}"


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
    clerk was quicker); 409 `busy` while this clerk is in another call."""
    now = now or utcnow()
    consultation, booking = by_code(session, code=code)
    if booking.status != "booked":
        raise (
            BookingCancelled(_CANCELLED) if booking.status == "cancelled" else LinkExpired(_EXPIRED)
        )
    present = Consultation.seen_at >= present_since(settings, now)
    if not _admitted(session, consultation, clerk, present, now):
        raise NotPresent(_GONE_AWAY) if consultation.state == "waiting" else StateConflict(_CHANGED)
    waited = now - (consultation.knocked_at or now)
    count(session, booking, "admitted", now=now, wait_seconds=max(0, int(waited.total_seconds())))
    audit(session, clerk, "video_admit", booking.code)
    return consultation


def _admitted(
    session: Session,
    consultation: Consultation,
    clerk: User,
    present: ColumnElement[bool],
    now: dt.datetime,
) -> bool:
    """The admission's compare-and-set, only while the clerk holds no other call: the NOT
    EXISTS refuses the usual case, the partial unique index (models) the race of two tabs."""
    other = aliased(Consultation)
    free = ~exists().where(other.clerk_id == clerk.id, other.state == "admitted")
    try:
        with session.begin_nested():
            moved = move(
                session,
                consultation,
                to="admitted",
                allowed=("waiting",),
                also=(present, free),
                admitted_at=now,
                clerk_id=clerk.id,
            )
    except IntegrityError:
        moved = False
    if not moved and _busy(session, clerk):
        raise Busy(_BUSY)
    return moved


def _busy(session: Session, clerk: User) -> bool:
    held = select(Consultation.id).where(
        Consultation.clerk_id == clerk.id, Consultation.state == "admitted"
    )
    return session.scalar(held.limit(1)) is not None


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
    """End the call (staff; `clerk` None: the citizen hung up). Guest links stop working.
    The citizen ends only a call that began: from the waiting room 409 `not_in_call` (the
    page then just leaves the waiting room), so a stale page cannot end it for good."""
    now = now or utcnow()
    consultation, booking = by_code(session, code=code)
    session.refresh(consultation)  # the state we compare with decides the duration
    before, admitted_at = consultation.state, consultation.admitted_at
    if clerk is None and before == "waiting":
        raise NotInCall(_NOT_STARTED)
    if before not in ("waiting", "admitted") or not move(
        session, consultation, to="ended", allowed=(before,), ended_at=now, guest_nonce=None
    ):
        raise StateConflict(_CHANGED)
    talked = before == "admitted"
    seconds = int((now - admitted_at).total_seconds()) if talked and admitted_at else None
    count(session, booking, "ended", now=now, duration_seconds=seconds)
    audit(session, clerk, "video_end", booking.code)
    return consultation
