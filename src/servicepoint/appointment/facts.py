"""What booking rules need of the chosen services: which they are, whether they can be booked
here, and how long they take together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.appointment.errors import InvalidBooking
from servicepoint.appointment.models import Capacity
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.models import Service
from servicepoint.core.i18n import N_

MAX_SERVICES = 5
DEFAULT_MINUTES = 15  # a service whose record names no appointment length
MINUTES_KEY = "appointment_minutes"
FACT_COLUMNS = (Service.id, Service.name_de, Service.channels, Service.data[MINUTES_KEY])


def _minutes(value: object) -> int:
    return int(value) if isinstance(value, int | float) and value > 0 else DEFAULT_MINUTES


@dataclass(frozen=True)
class BookingFacts:
    """What the booking rules need of a service, without its (large) catalog record."""

    id: str
    name_de: str
    channels: tuple[str, ...]
    minutes: int

    @classmethod
    def of(cls, svc: Service) -> BookingFacts:
        return cls(svc.id, svc.name_de, tuple(svc.channels), _minutes(svc.data.get(MINUTES_KEY)))


# A booking's channel, and the catalog channel a service needs for it: an office takes
# services with "appointment", the video consultations those with "video".
CHANNELS = ("in_person", "video")
NEEDED = {"in_person": "appointment", "video": "video"}
_NOT_BOOKABLE = {
    "in_person": N_("Für „%(name)s“ gibt es keine Termine."),
    "video": N_("Für „%(name)s“ gibt es keine Videoberatung."),
}


def channel_of(cap: Capacity) -> str:
    # A row not yet flushed has no server default yet: it is an office's.
    return cap.channel or "in_person"


def offers(cap: Capacity, service: Service | BookingFacts) -> bool:
    return NEEDED[channel_of(cap)] in service.channels and (
        cap.service_ids is None or service.id in cap.service_ids
    )


# -- services and duration --------------------------------------------------------------------
_Chosen = TypeVar("_Chosen", Service, BookingFacts)


def chosen_ids(service_ids: Sequence[str]) -> list[str]:
    ids = list(dict.fromkeys(service_ids))
    if not ids:
        raise InvalidBooking(N_("Bitte wählen Sie mindestens eine Leistung."), code="no_service")
    if len(ids) > MAX_SERVICES:
        raise InvalidBooking(N_("Höchstens fünf Leistungen pro Termin."), code="too_many_services")
    return ids


def all_bookable(
    ids: Sequence[str], found: Mapping[str, _Chosen], channel: str = "in_person"
) -> list[_Chosen]:
    """Each chosen service, in the order chosen; unknown ones, or ones without the channel
    (an appointment, a video consultation), are a clear 422."""
    for sid in ids:
        if sid not in found:
            raise InvalidBooking(N_("Unbekannte Leistung: %(id)s"), code="unknown_service", id=sid)
        if NEEDED[channel] not in found[sid].channels:
            raise InvalidBooking(
                _NOT_BOOKABLE[channel], code="service_not_bookable", name=found[sid].name_de
            )
    return [found[sid] for sid in ids]


def bookable_services(
    session: Session, *, service_ids: Sequence[str], channel: str = "in_person"
) -> list[Service]:
    """The chosen services with their whole catalog record (for pages)."""
    ids = chosen_ids(service_ids)
    return all_bookable(ids, catalog_service.services_by_ids(session, ids=ids), channel)


def booking_facts(
    session: Session, *, service_ids: Sequence[str], channel: str = "in_person"
) -> list[BookingFacts]:
    """The chosen services as the booking rules need them: one light query, since the catalog
    record (texts, checklists, tutorials) is large and a booking needs none of it."""
    ids = chosen_ids(service_ids)
    stmt = select(*FACT_COLUMNS).where(Service.id.in_(ids))
    found = {row[0]: facts_of(*row) for row in session.execute(stmt)}
    return all_bookable(ids, found, channel)


def facts_of(sid: str, name: str, channels: Sequence[str], minutes: object) -> BookingFacts:
    return BookingFacts(sid, name, tuple(channels), _minutes(minutes))


_WRONG_CHANNEL = {
    "in_person": N_(
        "Die Videoberatung ist kein Standort für Termine vor Ort. Bitte buchen Sie dort "
        "eine Videoberatung."
    ),
    "video": N_("An diesem Standort gibt es keine Videoberatung."),
}


def check_channel(cap: Capacity, channel: str) -> None:
    """A video booking goes to the video consultations only, an office visit to an office."""
    if channel_of(cap) != channel:
        raise InvalidBooking(_WRONG_CHANNEL[channel], code="wrong_channel")


def check_offered(cap: Capacity, services: Sequence[BookingFacts]) -> None:
    for svc in services:
        if not offers(cap, svc):
            raise InvalidBooking(
                N_("„%(name)s“ wird an diesem Standort nicht angeboten."),
                code="service_not_offered",
                name=svc.name_de,
            )


def duration_of(services: Sequence[BookingFacts]) -> int:
    return sum(s.minutes for s in services)
