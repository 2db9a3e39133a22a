"""Appointment tables: capacity, slot usage, bookings, walk-in tickets, e-mail outbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from servicepoint.core.clock import utcnow
from servicepoint.core.db import Base


class Capacity(Base):
    """How a location takes appointments: hours, counters, grid and the share kept for walk-ins."""

    __tablename__ = "capacity"

    location_id: Mapped[str] = mapped_column(
        ForeignKey("location.id", ondelete="CASCADE"), primary_key=True
    )
    # {"mo": [["08:00", "12:00"]], ...}: when appointments and walk-ins are served.
    hours: Mapped[dict[str, list[list[str]]]] = mapped_column(JSON)
    hours_source: Mapped[str] = mapped_column(String(300))
    counters: Mapped[int] = mapped_column(Integer, default=3)
    walkin_share: Mapped[float] = mapped_column(Float, default=0.3)
    grid_minutes: Mapped[int] = mapped_column(Integer, default=10)
    lead_minutes: Mapped[int] = mapped_column(Integer, default=60)
    horizon_days: Mapped[int] = mapped_column(Integer, default=60)
    # Service ids bookable here; None = every service with the location's channel.
    service_ids: Mapped[list[str] | None] = mapped_column(JSON)
    # "in_person" (an office's counters) or "video" (staff time reserved for video
    # consultations; its location is the city's video "location", kind "video").
    channel: Mapped[str] = mapped_column(
        String(12), default="in_person", server_default="in_person"
    )
    # Dated hours, {"2027-01-12": [["09:00", "12:00"]]}: on these days they replace the weekly
    # hours (a mobile ServicePoint's stop is open only on the days its plan visits it).
    dates: Mapped[dict[str, list[list[str]]] | None] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Closure(Base):
    """An ad-hoc closed day (public holidays come from `holidays` and need no row)."""

    __tablename__ = "closure"
    __table_args__ = (UniqueConstraint("location_id", "day", name="uq_closure_location_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("location.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    reason: Mapped[str] = mapped_column(String(200))


class SlotUsage(Base):
    """One grid cell of one location. The CHECK and conditional updates keep used <= capacity."""

    __tablename__ = "slot_usage"
    __table_args__ = (CheckConstraint("used >= 0 AND used <= capacity", name="used_within"),)

    location_id: Mapped[str] = mapped_column(
        ForeignKey("location.id", ondelete="CASCADE"), primary_key=True
    )
    start: Mapped[dt.datetime] = mapped_column(primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)
    capacity: Mapped[int] = mapped_column(Integer)


class Booking(Base):
    __tablename__ = "booking"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("location.id"), index=True)
    start: Mapped[dt.datetime] = mapped_column(index=True)
    end: Mapped[dt.datetime]
    service_ids: Mapped[list[str]] = mapped_column(JSON)
    # Personal data: removed by the retention job a set number of days after the appointment.
    name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    lang: Mapped[str] = mapped_column(String(2), default="de")
    status: Mapped[str] = mapped_column(String(16), default="booked", index=True)
    channel: Mapped[str] = mapped_column(
        String(12), default="in_person", server_default="in_person"
    )
    # The calendar file's SEQUENCE (RFC 5545): each move or cancellation counts it up, so
    # calendar clients replace the event of the same UID instead of keeping the old one.
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[dt.datetime | None]
    purged_at: Mapped[dt.datetime | None]


class Ticket(Base):
    """A waiting number: a walk-in, or an appointment whose citizen has arrived."""

    __tablename__ = "ticket"
    __table_args__ = (
        UniqueConstraint("location_id", "day", "label", name="uq_ticket_location_day_label"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("location.id"), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(12))  # walkin | appointment
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking.id", ondelete="SET NULL"), index=True
    )
    service_id: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    due_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(12), default="waiting", index=True)
    counter: Mapped[int | None] = mapped_column(Integer)
    called_at: Mapped[dt.datetime | None]
    done_at: Mapped[dt.datetime | None]


class OutboxMail(Base):
    """E-mail waiting to be sent by `servicepoint worker`."""

    __tablename__ = "outbox_mail"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))  # confirmation | reminder | cancellation
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    ics: Mapped[str | None] = mapped_column(Text)
    send_after: Mapped[dt.datetime] = mapped_column(index=True)
    sent_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    booking: Mapped[Booking | None] = relationship()
