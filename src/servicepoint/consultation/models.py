"""Video consultation tables: one consultation per video booking, and the documents sent in it.

The booking (appointment domain) holds the time, the services and the citizen's name and
e-mail; the consultation holds what happens in the call. Its personal data (the clerk's note,
the uploaded files) has a retention period like the booking's (see service.purge).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from servicepoint.core.clock import utcnow
from servicepoint.core.db import Base


class Consultation(Base):
    """The call of one video booking; made when the citizen first opens the join link."""

    __tablename__ = "consultation"
    # One call at a time per clerk, whatever races: a second admission by the same clerk fails
    # on this index (service.admit turns that into 409 busy).
    __table_args__ = (
        Index(
            "uq_consultation_clerk_in_call",
            "clerk_id",
            unique=True,
            sqlite_where=text("state = 'admitted'"),
            postgresql_where=text("state = 'admitted'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("booking.id", ondelete="CASCADE"), unique=True
    )
    # booked -> waiting (knocked) -> admitted -> ended; staff may send admitted back to waiting.
    state: Mapped[str] = mapped_column(String(12), default="booked", index=True)
    # The booking's start this call was made for: a moved booking (same code, same link) gets a
    # fresh call at its new time, not the old one's state (service.open_join resets it).
    booking_start: Mapped[dt.datetime | None]
    knocked_at: Mapped[dt.datetime | None]
    admitted_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    # Presence: the tab holding the entry and its last sign of life. A second tab with the same
    # link takes over (new connection id); an entry not seen for video_presence_seconds drops out.
    connection: Mapped[str | None] = mapped_column(String(32))
    seen_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # Rotated when staff issue a new guest link or the call ends: older guest links stop working.
    guest_nonce: Mapped[str | None] = mapped_column(String(32))
    # Personal data, purged with the booking's retention.
    note: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(Integer)
    fallback: Mapped[str | None] = mapped_column(String(12))  # audio | phone
    handover: Mapped[str | None] = mapped_column(String(16))  # appointment | application
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    purged_at: Mapped[dt.datetime | None]

    uploads: Mapped[list[ConsultationUpload]] = relationship(
        back_populates="consultation", cascade="all, delete-orphan", passive_deletes=True
    )


class ConsultationUpload(Base):
    """A document the citizen sent to the clerk during the call (PDF, JPEG, PNG)."""

    __tablename__ = "consultation_upload"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    storage_key: Mapped[str] = mapped_column(String(32), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(16), default="citizen")  # citizen | guest
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

    consultation: Mapped[Consultation] = relationship(back_populates="uploads")
