"""What the counter console shows of a ticket or booking: the matter and the person, in words.

The tables keep their internal status codes; a clerk reads the labels below (German msgids,
translated in the page's language).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.appointment.models import Booking, Ticket
from servicepoint.catalog import service as catalog_service
from servicepoint.core.i18n import N_

STATUS_TEXT = {
    "booked": N_("gebucht"),
    "arrived": N_("ist da"),
    "waiting": N_("wartet"),
    "called": N_("aufgerufen"),
    "done": N_("erledigt"),
    "no_show": N_("nicht erschienen"),
    "cancelled": N_("storniert"),
}
UNKNOWN_STATUS = N_("unbekannter Stand")


def status_text(status: str) -> str:
    """The msgid for a status; a code we do not know is never shown raw."""
    return STATUS_TEXT.get(status, UNKNOWN_STATUS)


@dataclass(frozen=True)
class Visit:
    """Who comes and for what: service names per language, and the booked name if any."""

    services: tuple[dict[str, str], ...]
    name: str | None


def _service_ids(ticket: Ticket, booking: Booking | None) -> list[str]:
    if booking is not None:
        return list(booking.service_ids)
    return [ticket.service_id] if ticket.service_id else []


def visits(
    session: Session, *, tickets: Iterable[Ticket], bookings: Sequence[Booking]
) -> dict[str, Visit]:
    """One Visit per ticket (key `t<id>`) and per booking (key `b<id>`), with one catalog read."""
    by_id = {b.id: b for b in bookings}
    ticket_list = list(tickets)
    missing = [t.booking_id for t in ticket_list if t.booking_id and t.booking_id not in by_id]
    if missing:
        by_id |= {b.id: b for b in session.scalars(select(Booking).where(Booking.id.in_(missing)))}
    ids = {s for b in by_id.values() for s in b.service_ids}
    ids |= {t.service_id for t in ticket_list if t.service_id}
    names = catalog_service.services_by_ids(session, ids=sorted(ids))

    def visit(service_ids: list[str], name: str | None) -> Visit:
        found = tuple(
            {"de": names[i].name_de, "en": names[i].name_en} for i in service_ids if i in names
        )
        return Visit(services=found, name=name)

    result = {f"b{b.id}": visit(list(b.service_ids), b.name) for b in by_id.values()}
    for t in ticket_list:
        booking = by_id.get(t.booking_id) if t.booking_id else None
        result[f"t{t.id}"] = visit(_service_ids(t, booking), booking.name if booking else None)
    return result
