"""Catalog tables: services (with citizen terms) and locations (with where each value came from)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from servicepoint.core.clock import utcnow
from servicepoint.core.db import Base


class Service(Base):
    __tablename__ = "service"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    slug: Mapped[str] = mapped_column(String(96), unique=True)
    leika: Mapped[str | None] = mapped_column(String(14))
    name_de: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    channels: Mapped[list[str]] = mapped_column(JSON)
    online_url: Mapped[str | None] = mapped_column(String(500))
    # Where the service comes from: "file" (a data file; `servicepoint seed` owns it and removes
    # it with its file) or "form" (the admin form; the seed never touches it).
    source: Mapped[str] = mapped_column(String(8), default="file", server_default="file")
    # The validated data-file record; its shape is catalog.datafile.ServiceFile.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    terms: Mapped[list[ServiceTerm]] = relationship(
        back_populates="service", cascade="all, delete-orphan", order_by="ServiceTerm.id"
    )


class ServiceTerm(Base):
    """A word or example question citizens use for a service (from the data file or an editor)."""

    __tablename__ = "service_term"
    __table_args__ = (
        UniqueConstraint("service_id", "lang", "kind", "text", name="uq_service_term"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("service.id", ondelete="CASCADE"), index=True
    )
    lang: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(16))  # keyword | example
    text: Mapped[str] = mapped_column(String(500))
    origin: Mapped[str] = mapped_column(String(16), default="seed")  # seed | editor
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    service: Mapped[Service] = relationship(back_populates="terms")


class Location(Base):
    __tablename__ = "location"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="buergeramt")
    street: Mapped[str | None] = mapped_column(String(300))
    house_number: Mapped[str | None] = mapped_column(String(20))
    building: Mapped[str | None] = mapped_column(String(300))
    postcode: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(100))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # {"mo": [["08:00", "12:00"]], ...}; None = unknown, {} = closed every day.
    opening_hours: Mapped[dict[str, list[list[str]]] | None] = mapped_column(JSON)
    # 24 and 31 December: "closed", "morning" (until 12:00) or "regular"; None = unknown.
    dec24: Mapped[str | None] = mapped_column(String(16))
    dec31: Mapped[str | None] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    # Service ids offered here; None = every in-person service of the Bürgerämter.
    service_ids: Mapped[list[str] | None] = mapped_column(JSON)
    # {"street": {"source": "...", "by": "seed|import|<user>", "at": "ISO"}} per field.
    provenance: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
