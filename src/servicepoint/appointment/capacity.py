"""Office hours and capacity: when an office is open (the one published source, its location
record), the part of it served by appointments and walk-ins, counters and closed days.

Every slot, kiosk and page reads the hours through `schedule_for`, which never serves outside
the published opening hours; staff edit all of it on one page (`update_capacity`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from servicepoint.appointment import dated
from servicepoint.appointment.dated import DatedHours
from servicepoint.appointment.errors import BookingNotFound, InvalidBooking
from servicepoint.appointment.models import Booking, Capacity, Closure, SlotUsage
from servicepoint.appointment.slots import Schedule
from servicepoint.catalog import locations as location_service
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.errors import InvalidLocationData
from servicepoint.catalog.hours import (
    SPECIAL_DAYS,
    Hours,
    format_hours,
    intersect,
    outside,
    parse_hours,
    valid_hours,
)
from servicepoint.catalog.models import Location
from servicepoint.core.clock import BERLIN, utcnow
from servicepoint.core.i18n import N_
from servicepoint.core.inputs import Key

OFFICE_FIELDS = ("opening_hours", *SPECIAL_DAYS)


# -- capacity ---------------------------------------------------------------------------------
def load_capacity_defaults(folder: Path) -> dict[str, Any]:
    path = folder / "capacity.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return data or {}


def seed_capacity(session: Session, *, folder: Path) -> int:
    """Give every office a capacity row from the city's defaults, and the video
    consultations theirs (capacity.yaml `video:`); existing rows stay."""
    config = load_capacity_defaults(folder)
    video = _video_section(config)  # checked before anything is written
    defaults: dict[str, Any] = config.get("defaults") or {}
    overrides: dict[str, dict[str, Any]] = config.get("locations") or {}
    created = 0
    for loc in location_service.list_locations(session):
        if session.get(Capacity, loc.id) is not None:
            continue
        values = {**defaults, **overrides.get(loc.id, {})}
        session.add(_capacity_row(loc.id, values))
        created += 1
    if video is not None:
        created += _seed_video(session, video)
    session.flush()
    return created


VIDEO_SOURCE = "capacity.yaml, video: (Konfiguration der Plattform)"


class VideoSection(BaseModel):
    """capacity.yaml `video:`: the staff time reserved for video consultations. No walk-ins."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]{1,63}$")
    name: str = Field(min_length=2, max_length=200)
    hours: str = Field(min_length=5, max_length=500)
    hours_source: str = Field(min_length=3, max_length=300)
    counters: int = Field(ge=1, le=50)
    grid_minutes: int = Field(default=15, ge=5, le=60)
    lead_minutes: int = Field(default=60, ge=0, le=10080)
    horizon_days: int = Field(default=30, ge=1, le=365)

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        valid_hours(value)
        return value


def _video_section(config: dict[str, Any]) -> VideoSection | None:
    raw = config.get("video")
    if raw is None:
        return None
    try:
        return VideoSection.model_validate(raw)
    except ValidationError as exc:
        raise InvalidLocationData(f"capacity.yaml: video: {exc}") from exc


def _seed_video(session: Session, video: VideoSection) -> int:
    """The video "location" (kind video, no address) and its capacity (channel video)."""
    location_service.seed_virtual(
        session, location_id=video.id, name=video.name, kind="video", source=VIDEO_SOURCE
    )
    session.flush()  # the capacity row refers to the location
    if session.get(Capacity, video.id) is not None:
        return 0
    row = _capacity_row(video.id, {**video.model_dump(), "walkin_share": 0.0})
    row.channel = "video"
    session.add(row)
    return 1


def video_capacity(session: Session) -> Capacity | None:
    """The city's capacity for video consultations; None if the city offers none."""
    stmt = select(Capacity).where(Capacity.channel == "video").order_by(Capacity.location_id)
    return session.scalars(stmt.limit(1)).first()


def video_location(session: Session) -> Location | None:
    """The video consultations' "location" (kind video, id e.g. `videoberatung`), or None."""
    cap = video_capacity(session)
    if cap is None:
        return None
    return location_service.get_location(session, location_id=cap.location_id)


def channel_at(session: Session, *, location_id: str) -> str:
    """How a location is booked: "video" for the video consultations, else "in_person" (also
    for an unknown id, which the booking itself then refuses)."""
    cap = None if "\x00" in location_id else session.get(Capacity, location_id)
    return cap.channel if cap is not None and cap.channel else "in_person"


def _capacity_row(location_id: str, values: dict[str, Any]) -> Capacity:
    return Capacity(
        location_id=location_id,
        hours=parse_hours(values.get("hours") or "Mo-Fr 08:00-12:00"),
        hours_source=str(values.get("hours_source") or "configuration"),
        counters=int(values.get("counters", 3)),
        walkin_share=float(values.get("walkin_share", 0.3)),
        grid_minutes=int(values.get("grid_minutes", 10)),
        lead_minutes=int(values.get("lead_minutes", 60)),
        horizon_days=int(values.get("horizon_days", 60)),
        service_ids=values.get("service_ids"),
    )


def appointment_counters(cap: Capacity) -> int:
    """Counters left for appointments once the walk-in share is set aside."""
    return max(0, round(cap.counters * (1 - cap.walkin_share)))


def get_capacity(session: Session, *, location_id: str) -> Capacity:
    cap = session.get(Capacity, location_id)
    if cap is None:
        location_service.get_location(session, location_id=location_id)  # 404 if unknown

        raise InvalidBooking(
            N_("An diesem Standort werden keine Termine vergeben."), code="no_appointments_here"
        )
    return cap


def all_capacities(session: Session) -> list[Capacity]:
    return list(session.scalars(select(Capacity).order_by(Capacity.location_id)))


def closures(session: Session, *, location_id: str, since: dt.date) -> list[Closure]:
    stmt = select(Closure).where(Closure.location_id == location_id, Closure.day >= since)
    return list(session.scalars(stmt.order_by(Closure.day)))


def closed_days(
    session: Session, *, location_ids: Sequence[str], since: dt.date
) -> dict[str, frozenset[dt.date]]:
    """Ad-hoc closures of several locations in one query."""
    stmt = select(Closure.location_id, Closure.day).where(
        Closure.location_id.in_(location_ids), Closure.day >= since
    )
    days: dict[str, set[dt.date]] = defaultdict(set)
    for loc_id, day in session.execute(stmt):
        days[loc_id].add(day)
    return {loc_id: frozenset(days.get(loc_id, ())) for loc_id in location_ids}


@dataclass(frozen=True)
class OfficeHours:
    """An office's published opening hours (None = unknown) and its rules for 24 and 31
    December (None = unknown: its usual hours apply)."""

    opening: Hours | None
    special: dict[str, str | None]

    @classmethod
    def of(cls, loc: Location) -> OfficeHours:
        return cls(loc.opening_hours, {key: getattr(loc, key) for key in SPECIAL_DAYS})


def office_hours(session: Session, *, location_id: str) -> OfficeHours:
    return OfficeHours.of(location_service.get_location(session, location_id=location_id))


def service_hours(cap: Capacity, office: OfficeHours) -> Hours:
    """When appointments and walk-ins are served: the configured hours, cut to the published
    opening hours where these are known (an office closed on Tuesday afternoons takes no
    booking then, whatever the capacity settings still say)."""
    return cap.hours if office.opening is None else intersect(cap.hours, office.opening)


def schedule_for(
    session: Session,
    cap: Capacity,
    *,
    since: dt.date,
    closed: frozenset[dt.date] | None = None,
    office: OfficeHours | None = None,
) -> Schedule:
    if closed is None:
        closed = closed_days(session, location_ids=[cap.location_id], since=since)[cap.location_id]
    office = office or office_hours(session, location_id=cap.location_id)
    return Schedule.from_hours(
        service_hours(cap, office),
        grid=cap.grid_minutes,
        capacity=appointment_counters(cap),
        closed=closed,
        special=office.special,
        dates=cap.dates,
    )


# -- capacity management (staff) --------------------------------------------------------------
class CapacityChange(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    hours: str = Field(min_length=5, max_length=500)
    counters: int = Field(ge=0, le=50)
    walkin_share: float = Field(ge=0, le=1)
    grid_minutes: int = Field(ge=5, le=60)
    service_ids: list[Key] | None = Field(default=None, max_length=500)
    # The office's published facts, edited on the same page; left out = unchanged, "" = unknown.
    opening_hours: str | None = Field(default=None, max_length=500)
    dec24: str | None = Field(default=None, max_length=8, pattern=r"^(closed|morning|regular)?$")
    dec31: str | None = Field(default=None, max_length=8, pattern=r"^(closed|morning|regular)?$")
    opening_source: str = Field(default="", max_length=300)

    @field_validator("hours", "opening_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        return valid_hours(value)

    def office_values(self) -> dict[str, Any]:
        """The office facts this change sets, as stored (parsed hours, None for unknown)."""
        given = self.model_fields_set & set(OFFICE_FIELDS)
        values: dict[str, Any] = {name: getattr(self, name) or None for name in given}
        if self.opening_hours and "opening_hours" in given:
            values["opening_hours"] = parse_hours(self.opening_hours)
        return values


def _future_bookings(session: Session, location_id: str, now: dt.datetime) -> int:
    stmt = select(func.count(Booking.id)).where(
        Booking.location_id == location_id, Booking.end > now, Booking.status == "booked"
    )
    return int(session.scalar(stmt) or 0)


def update_capacity(
    session: Session,
    *,
    location_id: str,
    change: CapacityChange,
    source: str,
    by: str = "staff",
    now: dt.datetime | None = None,
) -> Capacity:
    """Apply staff's settings and the office's hours; all are checked before anything
    changes, and existing bookings always keep their place."""
    now = now or utcnow()
    cap = get_capacity(session, location_id=location_id)
    loc = location_service.get_location(session, location_id=location_id)
    office = _office_changes(loc, change)
    _check_within(parse_hours(change.hours), office.get("opening_hours", loc.opening_hours))
    if change.grid_minutes != cap.grid_minutes and _future_bookings(session, location_id, now):
        raise InvalidBooking(
            N_(
                "Das Zeitraster lässt sich nur ändern, solange keine künftigen "
                "Termine gebucht sind."
            ),
            code="grid_locked",
        )
    _check_services(session, change.service_ids)
    _apply_office(loc, office, change, by=by)
    cap.hours = parse_hours(change.hours)
    cap.hours_source = source
    cap.counters, cap.walkin_share = change.counters, change.walkin_share
    cap.grid_minutes, cap.service_ids = change.grid_minutes, change.service_ids
    _resize_cells(session, cap, now)
    return cap


def _resize_cells(session: Session, cap: Capacity, now: dt.datetime) -> None:
    """Future cells take the new counters; cells already claimed keep at least their bookings
    (the CHECK would refuse less)."""
    new_capacity = appointment_counters(cap)
    session.execute(
        update(SlotUsage)
        .where(SlotUsage.location_id == cap.location_id, SlotUsage.start >= now)
        .values(capacity=case((SlotUsage.used > new_capacity, SlotUsage.used), else_=new_capacity))
        .execution_options(synchronize_session=False)
    )


def _check_services(session: Session, service_ids: Sequence[str] | None) -> None:
    if service_ids is not None:
        catalog_ids = {s.id for s in catalog_service.list_services(session)}
        unknown = sorted(set(service_ids) - catalog_ids)
        if unknown:
            raise InvalidBooking(
                N_("Unbekannte Leistung: %(id)s"), code="unknown_service", id=", ".join(unknown)
            )


def _office_changes(loc: Location, change: CapacityChange) -> dict[str, Any]:
    """The office facts that differ from what is stored; each needs a source, like any
    published fact."""
    changed = {k: v for k, v in change.office_values().items() if getattr(loc, k) != v}
    if changed and not change.opening_source:
        raise InvalidBooking(
            N_("Bitte geben Sie die Quelle der Öffnungszeiten an."), code="source_missing"
        )
    return changed


def _check_within(hours: Hours, opening: Hours | None) -> None:
    """Service hours must lie inside the published opening hours."""
    beyond = outside(hours, opening) if opening is not None else {}
    if beyond:
        raise InvalidBooking(
            N_(
                "Die Servicezeiten liegen außerhalb der Öffnungszeiten: %(spans)s. Bitte "
                "kürzen Sie die Servicezeiten oder erweitern Sie die Öffnungszeiten."
            ),
            code="hours_outside_opening",
            spans=format_hours(beyond),
        )


def _apply_office(loc: Location, office: dict[str, Any], change: CapacityChange, by: str) -> None:
    raw = {
        k: (format_hours(v) if k == "opening_hours" and v else v or "") for k, v in office.items()
    }
    patch = location_service.LocationPatch.model_validate(raw)
    location_service.apply_patch(
        loc, patch, source=change.opening_source, by=by, fields=location_service.OFFICE_FACTS
    )


def add_closure(session: Session, *, location_id: str, day: dt.date, reason: str) -> Closure:
    """Close a location for a day; bookings already made that day stay and are listed to staff."""
    cap = get_capacity(session, location_id=location_id)
    cap.updated_at = utcnow()  # a stop's visit calendar counts its SEQUENCE from this
    existing = session.scalar(
        select(Closure).where(Closure.location_id == location_id, Closure.day == day)
    )
    if existing:
        existing.reason = reason
        return existing
    closure = Closure(location_id=location_id, day=day, reason=reason[:200])
    session.add(closure)
    session.flush()
    return closure


def remove_closure(session: Session, *, location_id: str, closure_id: int) -> None:
    closure = session.get(Closure, closure_id)
    if closure is None or closure.location_id != location_id:
        raise BookingNotFound(N_("Diese Schließung gibt es nicht."), code="closure_not_found")
    get_capacity(session, location_id=location_id).updated_at = utcnow()
    session.delete(closure)


# -- dated hours (a mobile ServicePoint's visits) ---------------------------------------------
DATED_SOURCE = "Fahrplan des mobilen ServicePoints (Planung)"


def set_dated_hours(
    session: Session,
    *,
    location_id: str,
    dates: DatedHours,
    service_ids: Sequence[str] | None,
    counters: int,
    walkin_share: float | None = None,
    source: str = DATED_SOURCE,
    now: dt.datetime | None = None,
) -> Capacity:
    """Publish a location's dated hours ({date: [("09:00", "12:00")]}); creates its capacity
    (no weekly hours) or updates it. From today on the given dates replace the stored ones;
    a date with booked appointments keeps its old spans beside the new ones (compare
    `booked_dates` before to warn). All is checked before anything changes (422)."""
    now = now or utcnow()
    session.flush()  # a stop the caller has just added is found like any other
    loc = location_service.get_location(session, location_id=location_id)
    if not location_service.is_physical(loc):
        raise InvalidBooking(
            N_("Dieser Standort kann keine Besuchstermine haben."), code="wrong_channel"
        )
    if not 0 <= counters <= 50:
        raise InvalidBooking(
            N_("Die Zahl der Schalter muss zwischen 0 und 50 liegen."), code="invalid_counters"
        )
    if walkin_share is not None and not 0 <= walkin_share <= 1:
        raise InvalidBooking(
            N_("Der Anteil ohne Termin muss zwischen 0 und 1 liegen."), code="invalid_walkin_share"
        )
    try:
        new = dated.clean_dates(dates)
    except dated.DatedHoursError as exc:
        raise InvalidBooking(exc.message, code="invalid_dates", **exc.params) from exc
    _check_services(session, service_ids)
    # The row lock makes a booking that is checking this schedule (FOR SHARE, see
    # service._bookable_at) finish first, so `booked_dates` below sees its day and keeps it.
    cap = session.get(Capacity, location_id, with_for_update=True, populate_existing=True)
    if cap is None:
        cap = _capacity_row(location_id, {"hours": "", "hours_source": source})
        cap.hours, cap.channel = {}, "in_person"
        session.add(cap)
    booked = booked_dates(session, location_id=location_id, now=now)
    cap.dates = dated.replace_future(
        dict(cap.dates or {}), new, today=now.astimezone(BERLIN).date(), keep=list(booked)
    )
    cap.counters = counters
    cap.service_ids = None if service_ids is None else list(service_ids)
    if walkin_share is not None:
        cap.walkin_share = walkin_share
    cap.hours_source, cap.updated_at = source, now
    session.flush()
    _resize_cells(session, cap, now)
    return cap


def booked_dates(
    session: Session, *, location_id: str, now: dt.datetime | None = None
) -> dict[dt.date, int]:
    """The local days with booked appointments still to come, and how many, earliest first."""
    stmt = select(Booking.start).where(
        Booking.location_id == location_id,
        Booking.end > (now or utcnow()),
        Booking.status == "booked",
    )
    days: dict[dt.date, int] = defaultdict(int)
    for (start,) in session.execute(stmt):
        days[start.astimezone(BERLIN).date()] += 1
    return dict(sorted(days.items()))
