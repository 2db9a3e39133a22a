"""Callback requests: the assistant's handover to a person when it cannot help.

A citizen leaves a phone number, a topic and a time of day; staff see the open requests and
mark them done. Personal data is kept only as long as it is needed: the number and name go
when the call is done, and the worker deletes what is left after the retention period.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from servicepoint.assistant import nlp
from servicepoint.assistant.errors import CallbackNotFound, InvalidCallback
from servicepoint.assistant.models import CallbackRequest
from servicepoint.core import events
from servicepoint.core.clock import utcnow
from servicepoint.core.i18n import N_

WINDOWS = ("any", "morning", "afternoon")
MAX_TOPIC = 500
MAX_NAME = 120
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()/.\-]+$")


def normalise_phone(raw: str) -> str:
    """A dialable number: digits, an optional leading +; 6 to 20 digits (German and foreign)."""
    text = raw.strip()
    if not text or not _PHONE_CHARS.match(text):
        raise InvalidCallback(
            N_("Bitte geben Sie eine Telefonnummer aus Ziffern an, z. B. 0511 1234567."),
            code="invalid_phone",
        )
    digits = re.sub(r"\D", "", text)
    if not 6 <= len(digits) <= 20:
        raise InvalidCallback(
            N_("Die Telefonnummer muss 6 bis 20 Ziffern haben."), code="invalid_phone"
        )
    return ("+" if text.startswith("+") else "") + digits


def request_callback(
    session: Session,
    *,
    phone: str,
    topic: str,
    window: str = "any",
    name: str = "",
    lang: str = "de",
    now: dt.datetime | None = None,
) -> CallbackRequest:
    """Store a request; the topic keeps no other personal data (e-mail addresses, phone and
    ID numbers, dates are replaced by placeholders)."""
    if window not in WINDOWS:
        raise InvalidCallback(N_("Bitte wählen Sie eine Tageszeit."), code="invalid_window")
    clean_topic = " ".join(nlp.scrub(topic).split())
    if not clean_topic:
        raise InvalidCallback(N_("Bitte schreiben Sie kurz, worum es geht."), code="topic_missing")
    if len(clean_topic) > MAX_TOPIC or len(name) > MAX_NAME:
        raise InvalidCallback(N_("Der Text ist zu lang."), code="too_long")
    now = now or utcnow()
    entry = CallbackRequest(
        created_at=now,
        phone=normalise_phone(phone),
        name=" ".join(name.split()) or None,
        topic=clean_topic,
        window=window,
        lang=lang,
        status="open",
    )
    session.add(entry)
    events.record(session, kind="callback.requested", at=now)
    return entry


def open_requests(session: Session) -> Sequence[CallbackRequest]:
    """What staff still have to call, oldest first."""
    stmt = select(CallbackRequest).where(CallbackRequest.status == "open")
    return session.scalars(stmt.order_by(CallbackRequest.created_at)).all()


def mark_done(
    session: Session, *, request_id: int, now: dt.datetime | None = None
) -> CallbackRequest:
    """The call has been made: the number and name are no longer needed and go at once."""
    entry = session.get(CallbackRequest, request_id)
    if entry is None or entry.status != "open":
        raise CallbackNotFound(N_("Diese Rückrufbitte gibt es nicht (mehr)."))
    now = now or utcnow()
    entry.status, entry.done_at, entry.purged_at = "done", now, now
    entry.phone = entry.name = None
    events.record(
        session, kind="callback.done", at=now, wait_minutes=_minutes(entry.created_at, now)
    )
    return entry


def _minutes(since: dt.datetime, now: dt.datetime) -> int:
    return max(0, int((now - since).total_seconds() // 60))


def purge(session: Session, *, retention_days: int, now: dt.datetime | None = None) -> int:
    """Requests older than the retention period lose everything personal, called or not;
    open ones are closed as expired (an event counts them as never called back)."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=retention_days)
    stale = select(CallbackRequest.id, CallbackRequest.status).where(
        CallbackRequest.created_at < cutoff, CallbackRequest.topic != ""
    )
    rows = session.execute(stale).all()
    for _id, status in rows:
        if status == "open":
            events.record(session, kind="callback.expired", at=now)
    if rows:
        session.execute(
            update(CallbackRequest)
            .where(CallbackRequest.id.in_([row_id for row_id, _ in rows]))
            .values(
                phone=None,
                name=None,
                topic="",
                purged_at=now,
                status=case(
                    (CallbackRequest.status == "open", "expired"), else_=CallbackRequest.status
                ),
            )
            .execution_options(synchronize_session=False)
        )
    return len(rows)
