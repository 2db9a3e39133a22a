"""Assistant tables: short-lived conversation state and the editors' list of questions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from servicepoint.core.clock import utcnow
from servicepoint.core.db import Base


class Conversation(Base):
    """Context for follow-ups; deleted by the worker a day after the last message."""

    __tablename__ = "assistant_conversation"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class LoggedQuestion(Base):
    """A question answered with low confidence or rated unhelpful, without personal data."""

    __tablename__ = "assistant_question"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    lang: Mapped[str] = mapped_column(String(2))
    text: Mapped[str] = mapped_column(Text)
    group_key: Mapped[str] = mapped_column(String(300), index=True)
    reason: Mapped[str] = mapped_column(String(24))  # low_confidence | out_of_scope | unhelpful
    guess_service_id: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    handled_at: Mapped[dt.datetime | None]
    handled_service_id: Mapped[str | None] = mapped_column(String(64))
    # taught | elsewhere (another authority's matter) | ignored
    handled_as: Mapped[str | None] = mapped_column(String(16))


class CallbackRequest(Base):
    """A citizen asks to be called back (the assistant's handover). The phone number and
    name are removed once staff have called, or after the retention period at the latest."""

    __tablename__ = "callback_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(120))
    topic: Mapped[str] = mapped_column(Text)  # scrubbed of other personal data
    window: Mapped[str] = mapped_column(String(16))  # any | morning | afternoon
    lang: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | done
    done_at: Mapped[dt.datetime | None]
    purged_at: Mapped[dt.datetime | None]
