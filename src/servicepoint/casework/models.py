"""Casework tables: an application (the case), its uploads and the staff's notes.

Open Zaak's shape: a case has a status, a result and an audit trail; here the rules' findings,
their version and the trace of what they read stay with the case even when the rules change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from servicepoint.core.clock import utcnow
from servicepoint.core.db import Base

OPEN = ("submitted", "in_review", "waiting")
CLOSED = ("approved", "rejected")


class Application(Base):
    """One online application, from draft to decision."""

    __tablename__ = "application"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The citizen's one key to the case: resumes the draft, shows the status. Unguessable.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    service_id: Mapped[str] = mapped_column(String(64), index=True)
    # draft | submitted | in_review | waiting (for a document) | approved | rejected
    status: Mapped[str] = mapped_column(String(12), index=True)
    proposal: Mapped[str | None] = mapped_column(String(12))  # approved | rejected
    lang: Mapped[str] = mapped_column(String(8), default="de")
    applicant: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    step: Mapped[int] = mapped_column(Integer, default=0)  # a draft's next step
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    trace: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    rules_version: Mapped[str | None] = mapped_column(String(32))
    fee_cents: Mapped[int | None] = mapped_column(Integer)  # None: the fee is not known
    payment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    due_at: Mapped[dt.datetime | None]
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))  # None: decided automatically
    decision_reason: Mapped[str | None] = mapped_column(String(2000))
    assigned_to: Mapped[str | None] = mapped_column(String(64), index=True)
    requested_upload: Mapped[str | None] = mapped_column(String(2000))  # what staff asked for
    reminded_at: Mapped[dt.datetime | None]  # the one reminder before that document's deadline
    verification_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    # What the result document states, fixed at the decision in both languages: the PDF and
    # the verification page are made from it, so a later change of the form file alters neither.
    statement: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The signed PDF, made from `statement` on first request (or by the worker), not inside the
    # decision: rendering and signing take longer than deciding.
    document: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Personal data (applicant, answers, uploads, document) goes at this moment.
    delete_after: Mapped[dt.datetime | None] = mapped_column(index=True)

    uploads: Mapped[list[CaseUpload]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="CaseUpload.id"
    )
    notes: Mapped[list[CaseNote]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="CaseNote.id"
    )


class CaseUpload(Base):
    """A document the citizen sent; the bytes live in the instance folder, not the database."""

    __tablename__ = "case_upload"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(40))  # the form's upload name, or "requested"
    filename: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship(back_populates="uploads")


class CaseNote(Base):
    """A clerk's note on a case (seen by staff only)."""

    __tablename__ = "case_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship(back_populates="notes")
