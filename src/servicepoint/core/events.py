"""Anonymous events for analytics: what happened, where and when; never who.

Every domain writes through `record`, so the analytics dashboard reads one table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Integer, String, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from servicepoint.core.clock import utcnow
from servicepoint.core.db import Base, table

# Keys that would identify a person are refused, so no domain can leak them by accident.
FORBIDDEN_KEYS = frozenset({"name", "email", "phone", "code", "address", "birth_date", "ip"})


class Event(Base):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(48), index=True)
    location_id: Mapped[str | None] = mapped_column(String(64), index=True)
    service_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def rows(
    *,
    kind: str,
    location_id: str | None = None,
    service_ids: Sequence[str] = (),
    at: dt.datetime | None = None,
    **data: Any,
) -> list[dict[str, Any]]:
    """The rows of one event: one per service (so counts per service add up), or one without."""
    bad = FORBIDDEN_KEYS.intersection(data)
    if bad:
        raise ValueError(f"events must stay anonymous; refused keys: {sorted(bad)}")
    when = at or utcnow()
    targets: list[str | None] = list(service_ids) or [None]
    return [
        {"at": when, "kind": kind, "location_id": location_id, "service_id": sid, "data": data}
        for sid in targets
    ]


def record(
    session: Session,
    *,
    kind: str,
    location_id: str | None = None,
    service_ids: Sequence[str] = (),
    at: dt.datetime | None = None,
    **data: Any,
) -> None:
    """Write one event (see `rows`) in one statement, whatever the number of services."""
    found = rows(kind=kind, location_id=location_id, service_ids=service_ids, at=at, **data)
    session.execute(insert(table(Event)), found)


def events(
    session: Session,
    *,
    kind: str | None = None,
    location_id: str | None = None,
    since: dt.datetime | None = None,
) -> Sequence[Event]:
    stmt = select(Event).order_by(Event.at)
    if kind:
        stmt = stmt.where(Event.kind == kind)
    if location_id:
        stmt = stmt.where(Event.location_id == location_id)
    if since:
        stmt = stmt.where(Event.at >= since)
    return session.scalars(stmt).all()
