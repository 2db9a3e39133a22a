"""What a call leaves behind: the clerk's note, a handover (in-person appointment or online
application, e-mailed to the citizen), the citizen's rating and fallback, the documents sent
during the call, and their deletion on schedule. Importable from consultation.service.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.orm import Session

from servicepoint.account.models import User
from servicepoint.appointment import mail as outbox
from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.models import Booking
from servicepoint.casework import service as casework_service
from servicepoint.casework.errors import FormNotFound
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.models import Service
from servicepoint.config import Settings
from servicepoint.consultation import timing, uploads
from servicepoint.consultation.errors import (
    AlreadyRated,
    ConsultationNotFound,
    InvalidInput,
    NoHandover,
    NotAdmitted,
    StateConflict,
    TooManyUploads,
)
from servicepoint.consultation.models import Consultation, ConsultationUpload
from servicepoint.consultation.rows import audit, booking_of, by_code, count, move, set_columns
from servicepoint.core import i18n
from servicepoint.core.clock import utcnow
from servicepoint.core.i18n import N_

NOTE_MAX = 4000  # a short note into the case, not a transcript
UPLOADS_MAX = 20  # documents per call: enough for a case, not a file store
HANDOVERS = ("appointment", "application")
FALLBACKS = ("audio", "phone")
SENDERS = ("citizen", "guest")
_PURGED = N_("Die Daten dieser Videoberatung sind bereits gelöscht.")


def _consultation(session: Session, consultation_id: int) -> Consultation:
    found = session.get(Consultation, consultation_id, populate_existing=True)
    if found is None:
        raise ConsultationNotFound(N_("Diese Videoberatung gibt es nicht."))
    return found


# --- the clerk's note ----------------------------------------------------------------------------


def add_note(session: Session, *, code: str, text: str, clerk: User | None = None) -> Consultation:
    """Add to the call's note (staff only; personal data, purged with the booking's)."""
    consultation, booking = by_code(session, code=code)
    text = text.strip()
    if not text:
        raise InvalidInput(N_("Die Notiz ist leer."), code="empty_note")
    if consultation.purged_at is not None:
        raise StateConflict(_PURGED)
    note = f"{consultation.note}\n\n{text}" if consultation.note else text
    if len(note) > NOTE_MAX:
        raise InvalidInput(N_("Die Notiz ist zu lang (höchstens %(max)s Zeichen)."), max=NOTE_MAX)
    set_columns(session, consultation, note=note)
    audit(session, clerk, "video_note", booking.code)
    return consultation


# --- handover ------------------------------------------------------------------------------------

_HANDOVER_TEXT = {
    "appointment": N_(
        "wie in der Videoberatung besprochen, brauchen wir Sie für Ihr Anliegen persönlich. "
        "Hier können Sie einen Termin vor Ort buchen:"
    ),
    "application": N_(
        "wie in der Videoberatung besprochen, können Sie Ihr Anliegen online beantragen. "
        "Hier geht es zum Online-Antrag:"
    ),
}


def _services(session: Session, booking: Booking) -> list[Service]:
    found = catalog_service.services_by_ids(session, ids=booking.service_ids)
    return [found[sid] for sid in booking.service_ids if sid in found]


def handover_link(services: list[Service], *, to: str, settings: Settings, base_url: str) -> str:
    """Where the citizen goes on: the booking page for those of `services` offered in person,
    or the online application of the first one the city has a form for (else the catalog's
    online link); 409 when there is none."""
    base = base_url.rstrip("/")
    if to == "appointment":
        ids = [s.id for s in services if "appointment" in s.channels]
        if ids:
            return f"{base}/termine?{urlencode([('service', sid) for sid in ids])}"
        raise NoHandover(N_("Für dieses Anliegen gibt es keine Termine vor Ort."))
    for svc in services:
        try:
            casework_service.form_for(settings, svc.id)
        except FormNotFound:
            continue
        return f"{base}/antrag/{svc.id}"
    for svc in services:
        if svc.online_url:
            return svc.online_url
    raise NoHandover(N_("Für dieses Anliegen gibt es keinen Online-Antrag."))


def handover(
    session: Session,
    *,
    code: str,
    to: str,
    settings: Settings,
    base_url: str,
    clerk: User | None = None,
    service_id: str | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Hand the citizen over (`to`: "appointment" | "application") for the call's services, or
    for `service_id` when the call found another matter: e-mail them the link (when the
    booking still has an address) and return it, for the chat."""
    if to not in HANDOVERS:
        raise InvalidInput(N_("Diese Übergabe gibt es nicht."), code="invalid_handover")
    now = now or utcnow()
    consultation, booking = by_code(session, code=code)
    services = (
        [catalog_service.get_service(session, service_id=service_id)]
        if service_id
        else _services(session, booking)
    )
    link = handover_link(services, to=to, settings=settings, base_url=base_url)
    if booking.email:
        subject, body = _handover_mail(booking, to=to, link=link, settings=settings)
        outbox.queue_text_mail(
            session,
            kind=f"video_{to}",
            recipient=booking.email,
            subject=subject,
            body=body,
            send_after=now,
        )
    set_columns(session, consultation, handover=to)
    count(session, booking, "handover", now=now, to=to)
    audit(session, clerk, "video_handover", booking.code)
    return link


def _handover_mail(booking: Booking, *, to: str, link: str, settings: Settings) -> tuple[str, str]:
    """Subject and plain text, in the booking's language."""

    def t(text: str) -> str:
        return i18n.translate(booking.lang, text)

    greeting = t(N_("Guten Tag %(name)s,")) % {"name": booking.name} if booking.name else ""
    lines = [greeting or t(N_("Guten Tag,")), "", t(_HANDOVER_TEXT[to]), link, ""]
    lines.append(settings.site_name)
    return t(N_("Ihre Videoberatung: so geht es weiter")), "\n".join(lines)


# --- the citizen's rating and fallback -----------------------------------------------------------


def rate(
    session: Session, *, consultation_id: int, rating: int, now: dt.datetime | None = None
) -> None:
    """One rating (1 to 5) after the call ended; a second is refused (409)."""
    if not 1 <= rating <= 5:
        raise InvalidInput(N_("Bitte bewerten Sie mit 1 bis 5 Sternen."), code="invalid_rating")
    now = now or utcnow()
    consultation = _consultation(session, consultation_id)
    rated = session.execute(
        update(Consultation)
        .where(
            Consultation.id == consultation_id,
            Consultation.state == "ended",
            Consultation.rating.is_(None),
            Consultation.purged_at.is_(None),
        )
        .values(rating=rating)
        .execution_options(synchronize_session=False)
    )
    if getattr(rated, "rowcount", 0) != 1:
        if consultation.state != "ended":
            raise StateConflict(N_("Bewerten können Sie, sobald das Gespräch beendet ist."))
        raise AlreadyRated(N_("Vielen Dank, Sie haben dieses Gespräch bereits bewertet."))
    session.refresh(consultation)
    count(session, booking_of(session, consultation), "rated", now=now, rating=rating)


def record_fallback(
    session: Session, *, consultation_id: int, mode: str, now: dt.datetime | None = None
) -> None:
    """The citizen's page fell back to audio only, or to the service phone (counted once per
    mode and call)."""
    if mode not in FALLBACKS:
        raise InvalidInput(N_("Diese Ausweichmöglichkeit gibt es nicht."), code="invalid_fallback")
    now = now or utcnow()
    consultation = _consultation(session, consultation_id)
    changed = session.execute(
        update(Consultation)
        .where(
            Consultation.id == consultation_id,
            or_(Consultation.fallback.is_(None), Consultation.fallback != mode),
        )
        .values(fallback=mode)
        .execution_options(synchronize_session=False)
    )
    if getattr(changed, "rowcount", 0) == 1:
        session.refresh(consultation)
        count(session, booking_of(session, consultation), "fallback", now=now, mode=mode)


# --- documents -----------------------------------------------------------------------------------


def add_upload(
    session: Session,
    *,
    consultation_id: int,
    source: bytes | uploads.Readable,
    filename: str,
    settings: Settings,
    sender: str = "citizen",
    now: dt.datetime | None = None,
) -> ConsultationUpload:
    """A document sent to the clerk during the call (only while admitted): 413/415/422 from the
    shared checks store nothing, 409 when not in the call or too many."""
    if sender not in SENDERS:
        raise InvalidInput(N_("Unbekannter Absender."), code="invalid_sender")
    consultation = _consultation(session, consultation_id)
    if consultation.state != "admitted":
        raise NotAdmitted(N_("Dokumente können Sie nur während des Gesprächs senden."))
    sent = session.scalar(
        select(ConsultationUpload.id)
        .where(ConsultationUpload.consultation_id == consultation_id)
        .offset(UPLOADS_MAX - 1)
        .limit(1)
    )
    if sent is not None:
        raise TooManyUploads(
            N_("Es wurden schon %(max)s Dokumente gesendet. Mehr sind nicht möglich."),
            max=UPLOADS_MAX,
        )
    stored = uploads.store(source, filename=filename, settings=settings)
    row = ConsultationUpload(
        consultation_id=consultation_id,
        storage_key=stored.storage_key,
        filename=stored.filename,
        content_type=stored.content_type,
        size=stored.size,
        sender=sender,
        uploaded_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def uploads_of(session: Session, *, consultation_id: int) -> list[ConsultationUpload]:
    """The documents of a call, oldest first (for the console after a reload)."""
    stmt = select(ConsultationUpload).where(ConsultationUpload.consultation_id == consultation_id)
    return list(session.scalars(stmt.order_by(ConsultationUpload.id)))


def upload_for_staff(
    session: Session,
    *,
    code: str,
    upload_id: int,
    settings: Settings,
    clerk: User | None = None,
) -> tuple[ConsultationUpload, bytes]:
    """A document of the call of booking `code`, for download by staff (audited)."""
    consultation, booking = by_code(session, code=code)
    row = session.get(ConsultationUpload, upload_id)
    if row is None or row.consultation_id != consultation.id:
        raise ConsultationNotFound(N_("Die Datei wurde nicht gefunden."), code="upload_not_found")
    data = uploads.read(row.storage_key, settings)
    audit(session, clerk, "video_upload_download", booking.code)
    return row, data


# --- calls nobody ended, and retention -----------------------------------------------------------


def end_forgotten(session: Session, *, settings: Settings, now: dt.datetime) -> int:
    """End the calls nobody ended (worker): an admitted call past its time (timing.call_until:
    the clerk closed the browser), a wait past the appointment's day, and any call of a
    cancelled booking. Each gets its `ended` event (a call: the duration until it counted as
    over). Idempotent; returns the calls ended."""
    open_calls = select(Consultation).where(Consultation.state.in_(("waiting", "admitted")))
    rows = list(session.scalars(open_calls))
    bookings = appointment_service.bookings_by_ids(session, ids=[c.booking_id for c in rows])
    ended = 0
    for consultation in rows:
        booking = bookings.get(consultation.booking_id)
        if booking is None or not timing.is_current(consultation, booking):
            continue  # a moved booking's old call starts afresh when its link is opened
        at = _over_at(consultation, booking, settings)
        if at is None or now < at:
            continue
        ended_at = min(now, at)
        before, admitted_at = consultation.state, consultation.admitted_at
        if move(
            session,
            consultation,
            to="ended",
            allowed=(before,),
            ended_at=ended_at,
            guest_nonce=None,
        ):
            talked = before == "admitted" and admitted_at is not None
            seconds = (
                max(0, int((ended_at - admitted_at).total_seconds()))
                if talked and admitted_at
                else None
            )
            count(session, booking, "ended", now=ended_at, duration_seconds=seconds)
            ended += 1
    return ended


def _over_at(
    consultation: Consultation, booking: Booking, settings: Settings
) -> dt.datetime | None:
    """When an unfinished call counts as over; None: not (yet) forgotten."""
    if booking.status == "cancelled":
        return booking.cancelled_at or consultation.created_at
    if consultation.state == "admitted":
        return timing.call_until(booking, consultation.admitted_at, settings)
    return timing.day_end(booking)


def purge(session: Session, *, settings: Settings, now: dt.datetime) -> int:
    """Delete the documents `video_upload_retention_days` after the call ended (after the
    booked end if it never ended), never later than the booking's personal data, and, with
    that (booking_retention_days after the booked end), the note and rating.
    Files go with the sweep after (uploads.sweep). Idempotent; returns the rows changed."""
    days = min(settings.video_upload_retention_days, settings.booking_retention_days)
    files_cutoff = now - dt.timedelta(days=days)
    data_cutoff = now - dt.timedelta(days=settings.booking_retention_days)
    return _purge_uploads(session, files_cutoff) + _purge_personal(session, data_cutoff, now)


def _with_bookings(
    session: Session, *where: ColumnElement[bool]
) -> list[tuple[Consultation, Booking]]:
    """Consultations beside their bookings (read through the appointment service)."""
    rows = list(session.scalars(select(Consultation).where(*where)))
    found = appointment_service.bookings_by_ids(session, ids=[c.booking_id for c in rows])
    return [(c, found[c.booking_id]) for c in rows if c.booking_id in found]


def _purge_uploads(session: Session, cutoff: dt.datetime) -> int:
    """Calls that ended before `cutoff`, or never ended and were booked to end before it."""
    with_files = Consultation.id.in_(select(ConsultationUpload.consultation_id))
    old = [
        c.id
        for c, b in _with_bookings(session, with_files)
        if (c.ended_at if c.ended_at is not None else b.end) < cutoff
    ]
    if not old:
        return 0
    gone = session.execute(
        delete(ConsultationUpload)
        .where(ConsultationUpload.consultation_id.in_(old))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(gone, "rowcount", 0) or 0)


def _purge_personal(session: Session, cutoff: dt.datetime, now: dt.datetime) -> int:
    due = [
        c.id for c, b in _with_bookings(session, Consultation.purged_at.is_(None)) if b.end < cutoff
    ]
    if not due:
        return 0
    done = session.execute(
        update(Consultation)
        .where(Consultation.id.in_(due), Consultation.purged_at.is_(None))
        .values(note=None, rating=None, connection=None, guest_nonce=None, purged_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(done, "rowcount", 0) or 0)
