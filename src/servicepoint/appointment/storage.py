"""How a booking takes and gives back its places, and how it is stored.

Each grid cell is a `slot_usage` row; a booking claims its cells with conditional updates
(`used < capacity`) inside the request's transaction, in ascending order. A lost race updates
no row and becomes 409 `slot_taken`.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, Table, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from servicepoint.appointment.errors import SlotTaken
from servicepoint.appointment.models import Booking, OutboxMail, SlotUsage
from servicepoint.core import events
from servicepoint.core.db import table
from servicepoint.core.i18n import N_


# -- claiming cells ---------------------------------------------------------------------------
def take_one(session: Session, *, location_id: str, cell: dt.datetime, capacity: int) -> bool:
    """One statement per cell: create it with one place taken, or take a place if one is
    left. The conflict clause locks the existing row, so racing clients queue up on it."""
    stmt = _claim_statement(session.get_bind().dialect.name)
    values = {"location_id": location_id, "start": cell, "used": 1, "capacity": capacity}
    # RETURNING, not rowcount: drivers disagree on rowcount for INSERT … ON CONFLICT.
    return session.connection().execute(stmt, values).scalar_one_or_none() is not None


@functools.cache
def _claim_statement(dialect: str) -> Any:
    """Built once per dialect: a booking's hot path should not rebuild statements."""
    usage = table(SlotUsage)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(usage)
        .on_conflict_do_update(
            index_elements=["location_id", "start"],
            set_={"used": usage.c.used + 1},
            where=usage.c.used < usage.c.capacity,
        )
        .returning(usage.c.used)
    )


def claim(
    session: Session, *, location_id: str, cells: Sequence[dt.datetime], capacity: int
) -> None:
    """Take one place in every cell, in ascending order (no deadlocks); all or nothing: a
    failure raises, and the request's rollback returns the places already taken."""
    for cell in sorted(cells):
        if capacity < 1 or not take_one(
            session, location_id=location_id, cell=cell, capacity=capacity
        ):
            raise SlotTaken(
                N_("Dieser Termin ist gerade vergeben worden. Bitte wählen Sie einen anderen.")
            )


def release(session: Session, *, location_id: str, cells: Sequence[dt.datetime]) -> None:
    for cell in sorted(cells):
        session.execute(
            update(SlotUsage)
            .where(
                SlotUsage.location_id == location_id, SlotUsage.start == cell, SlotUsage.used > 0
            )
            .values(used=SlotUsage.used - 1)
            .execution_options(synchronize_session=False)
        )


def move_places(
    session: Session,
    *,
    old: tuple[str, Sequence[dt.datetime]],
    new: tuple[str, Sequence[dt.datetime]],
    capacity: int,
) -> None:
    """Free the old cells and take the new ones in one ascending pass: two bookings moving
    into each other's times would otherwise each hold a cell the other waits for (deadlock)."""
    freed = {(old[0], cell) for cell in old[1]}
    taken = {(new[0], cell) for cell in new[1]}
    for location_id, cell in sorted(freed ^ taken):  # cells in both keep their place
        if (location_id, cell) in taken:
            claim(session, location_id=location_id, cells=[cell], capacity=capacity)
        else:
            release(session, location_id=location_id, cells=[cell])


def cells_of(booking: Booking, grid: int) -> list[dt.datetime]:
    cells = []
    cell = booking.start
    while cell < booking.end:
        cells.append(cell)
        cell += dt.timedelta(minutes=grid)
    return cells


def store_booking(
    session: Session,
    values: dict[str, Any],
    mail_rows: list[dict[str, Any]],
    event_rows: list[dict[str, Any]],
) -> int:
    """Insert the booking, its outbox mails and its event rows; returns the booking's id.

    PostgreSQL gets all three as one statement (data-modifying CTEs), since every statement
    is a round trip; SQLite runs in-process and takes them one by one."""
    mail_rows = [{k: v for k, v in row.items() if k != "booking_id"} for row in mail_rows]
    if session.get_bind().dialect.name == "postgresql":
        shapes = tuple(tuple(rows[0]) if rows else () for rows in ([values], mail_rows, event_rows))
        stmt = _one_statement_store(shapes, len(mail_rows), len(event_rows))
        params = {f"b0_{key}": value for key, value in values.items()}
        for prefix, rows in (("m", mail_rows), ("e", event_rows)):
            for n, row in enumerate(rows):
                params.update({f"{prefix}{n}_{key}": value for key, value in row.items()})
        return int(session.connection().execute(stmt, params).scalar_one())
    bookings = table(Booking)
    connection = session.connection()
    new_id = connection.execute(insert(bookings).returning(bookings.c.id), values).scalar_one()
    booking_id = int(new_id)
    if mail_rows:
        rows = [{**row, "booking_id": booking_id} for row in mail_rows]
        connection.execute(insert(table(OutboxMail)), rows)
    connection.execute(insert(table(events.Event)), event_rows)
    return booking_id


@functools.cache
def _one_statement_store(
    shapes: tuple[tuple[str, ...], ...], mails: int, event_rows: int
) -> Select[Any]:
    """The PostgreSQL statement for `store_booking`, built once per shape (column names and
    row counts) from named bind parameters, so that SQLAlchemy caches its compiled form."""
    bookings, outbox, event_table = table(Booking), table(OutboxMail), table(events.Event)
    booking_columns, mail_columns, event_columns = shapes

    def row(target: Table, prefix: str, names: Sequence[str]) -> dict[str, Any]:
        return {name: bindparam(f"{prefix}_{name}", type_=target.c[name].type) for name in names}

    new = insert(bookings).values(row(bookings, "b0", booking_columns))
    new_booking = new.returning(bookings.c.id).cte("new_booking")
    ref = select(new_booking.c.id).scalar_subquery()
    stmt = select(new_booking.c.id)
    # One CTE per row: SQLAlchemy does not cache multi-row VALUES.
    for n in range(event_rows):
        event = insert(event_table).values(row(event_table, f"e{n}", event_columns))
        stmt = stmt.add_cte(event.cte(f"new_event_{n}"))
    for n in range(mails):
        mail = insert(outbox).values({**row(outbox, f"m{n}", mail_columns), "booking_id": ref})
        stmt = stmt.add_cte(mail.cte(f"new_mail_{n}"))
    return stmt
