"""Publish a mobile plan: each visited stop becomes a location of kind "mobile" with its visit
dates as dated hours, bookable through the appointment system like any office.

What is published is the stop as the plan computed it (the stop data stored in the plan's
result): a visited stop deactivated, deleted or changed since then refuses the publication
(the plan must be computed again), and so does one whose point is only approximate (a
district's point) or that has no address: citizens are never offered an invented place.

Re-publishing replaces the future dates. Booked appointments are never deleted: a booked day
that the new plan drops keeps its old hours (the appointment service does that) and the planner
is told which ones, so that the citizens concerned can be contacted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from servicepoint.account import service as account_service
from servicepoint.appointment import capacity as capacity_service
from servicepoint.catalog import locations as location_service
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.models import Location
from servicepoint.config import Settings
from servicepoint.core.clock import BERLIN, utcnow
from servicepoint.core.i18n import N_
from servicepoint.errors import Conflict
from servicepoint.planning import mobile_service, mobile_solve
from servicepoint.planning.models import MobilePlan, MobileStop

MOBILE_KIND = "mobile"
MOBILE_CHANNEL = "mobile"  # services offered by the van: the catalog's channel "mobile"
COUNTERS = 1  # one van, one desk
LOCATION_NAME = "Mobiler ServicePoint – %s"
SOURCE = "Einsatzplan des Mobilen ServicePoints „%s“ (Planung)"
Spans = list[tuple[str, str]]


@dataclass(frozen=True)
class BookedDay:
    """A day with booked appointments that the new plan drops or shortens: it keeps its old
    hours beside the new ones, and the planner sees it."""

    location_id: str
    name: str
    day: dt.date
    bookings: int
    dropped: bool  # True: the new plan does not visit the stop that day at all


@dataclass
class Publication:
    locations: list[str] = field(default_factory=list)  # published or updated
    dates: int = 0  # visit days from today on
    withdrawn: list[str] = field(default_factory=list)  # earlier stops without future visits
    booked: list[BookedDay] = field(default_factory=list)
    skipped_past: int = 0  # visit days of the plan before today (not offered)
    at: dt.datetime | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = None if self.at is None else self.at.isoformat()
        data["booked"] = [{**asdict(b), "day": b.day.isoformat()} for b in self.booked]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Publication:
        at = data.get("at")
        return cls(
            locations=list(data.get("locations", [])),
            dates=int(data.get("dates", 0)),
            withdrawn=list(data.get("withdrawn", [])),
            booked=[
                BookedDay(**{**b, "day": dt.date.fromisoformat(b["day"])})
                for b in data.get("booked", [])
            ],
            skipped_past=int(data.get("skipped_past", 0)),
            at=None if at is None else dt.datetime.fromisoformat(at),
        )


def stored_publication(plan: MobilePlan) -> Publication | None:
    """The report of the plan's last publication, as stored in its result."""
    data = (plan.result or {}).get("publication")
    return None if data is None else Publication.from_json(data)


def location_id(stop_id: str) -> str:
    return mobile_service.LOCATION_PREFIX + stop_id


def _check(plan: MobilePlan) -> None:
    if plan.status != "done" or not plan.result:
        raise Conflict(N_("Nur ein fertig berechneter Plan kann veröffentlicht werden."))
    if plan.violations:
        raise Conflict(
            N_("Der Prüfer hat Verstöße gefunden; ein solcher Plan wird nicht veröffentlicht.")
        )
    if not plan.result.get("days"):
        raise Conflict(N_("Der Plan enthält keinen Besuch."))


def _planned_stops(
    session: Session, result: Mapping[str, Any], visited: Sequence[str]
) -> dict[str, Mapping[str, Any]]:
    """The visited stops as the plan computed them; refused when one changed since, or has
    no exact place (approximate point or no address) to offer citizens."""
    stored = {s["id"]: s for s in result.get("stops", [])}
    stale, unplaced = [], []
    for stop_id in visited:
        data, stop = stored.get(stop_id), session.get(MobileStop, stop_id)
        name = data["name"] if data else stop_id
        if stop is None or data is None or not _same(stop, data):
            stale.append(name)
        elif data.get("approximate") or not data.get("address"):
            unplaced.append(name)
    if stale:
        raise Conflict(
            N_(
                "Diese angefahrenen Halte wurden seit der Berechnung geändert, deaktiviert oder "
                "gelöscht: %(stops)s. Der Plan passt nicht mehr zu ihnen; bitte Plan neu "
                "berechnen."
            ),
            stops=", ".join(stale),
        )
    if unplaced:
        raise Conflict(
            N_(
                "Diese angefahrenen Halte haben nur einen ungefähren Punkt oder keine Adresse: "
                "%(stops)s. Bitte legen Sie auf der Seite des Halts zuerst den genauen Ort "
                "(Klick in die Karte) und die Adresse fest, dann Plan neu berechnen."
            ),
            stops=", ".join(unplaced),
        )
    return {stop_id: stored[stop_id] for stop_id in visited}


def _same(stop: MobileStop, data: Mapping[str, Any]) -> bool:
    return stop.active and data.get("fingerprint") == mobile_solve.fingerprint(stop)


def _mobile_services(session: Session) -> list[str]:
    return sorted(
        s.id for s in catalog_service.list_services(session) if MOBILE_CHANNEL in s.channels
    )


def _walkin_share(settings: Settings) -> float | None:
    defaults = capacity_service.load_capacity_defaults(settings.city_dir).get("defaults") or {}
    share = defaults.get("walkin_share")
    return float(share) if share is not None else None


def _location(session: Session, stop: Mapping[str, Any], source: str, user: str) -> Location:
    """The stop's location: created on first publication; address and point are the stop's as
    the plan computed it, a name an admin has changed stays."""
    name = LOCATION_NAME % stop["name"]
    loc = location_service.seed_virtual(
        session,
        location_id=location_id(stop["id"]),
        name=name[:200],
        kind=MOBILE_KIND,
        source=source,
    )
    patch = location_service.LocationPatch.model_validate(
        {"street": stop["address"], "lat": stop["lat"], "lon": stop["lon"]}
    )
    location_service.apply_patch(
        loc, patch, source=source, by=user, fields=("street", "lat", "lon")
    )
    # No weekly hours: the stop is open only on its dated visits (the appointment side's rule
    # for kind "mobile"; None would mean "unknown").
    loc.opening_hours = {}
    session.flush()
    return loc


def _booked_changes(
    session: Session,
    loc: Location,
    old: Mapping[str, list[list[str]]],
    new: Mapping[dt.date, Spans],
    now: dt.datetime,
) -> list[BookedDay]:
    """Booked days the new dates drop or no longer cover entirely (`old`: the stored dates)."""
    booked = capacity_service.booked_dates(session, location_id=loc.id, now=now)
    found = []
    for day, count in booked.items():
        spans = new.get(day)
        before = [(a, b) for a, b in old.get(day.isoformat(), [])]
        if spans is None or not _covers(spans, before):
            found.append(BookedDay(loc.id, loc.name, day, count, dropped=spans is None))
    return found


def _covers(new: Sequence[tuple[str, str]], old: Sequence[tuple[str, str]]) -> bool:
    return all(any(a <= s and e <= b for a, b in new) for s, e in old)


def publish_plan(
    session: Session,
    *,
    plan_id: int,
    settings: Settings,
    user: str,
    now: dt.datetime | None = None,
) -> Publication:
    """Make every visited stop a bookable location with the plan's dates from today on;
    stops of earlier publications that this plan no longer visits keep only booked days."""
    now = now or utcnow()
    today = now.astimezone(BERLIN).date()
    plan = mobile_service.get_plan(session, plan_id=plan_id)
    _check(plan)
    assert plan.result is not None  # _check
    by_stop = mobile_solve.visits_by_stop(plan.result)
    planned = _planned_stops(session, plan.result, sorted(by_stop))
    source = SOURCE % plan.name
    services, share = _mobile_services(session), _walkin_share(settings)
    stored = {c.location_id: c.dates or {} for c in capacity_service.all_capacities(session)}
    report = Publication(at=now)
    for stop_id, days in sorted(by_stop.items()):
        future = {d: spans for d, spans in days.items() if d >= today}
        report.skipped_past += len(days) - len(future)
        loc = _location(session, planned[stop_id], source, user)
        report.booked += _booked_changes(session, loc, stored.get(loc.id, {}), future, now)
        capacity_service.set_dated_hours(
            session,
            location_id=loc.id,
            dates=future,
            service_ids=services,
            counters=COUNTERS,
            walkin_share=share,
            source=source,
            now=now,
        )
        report.locations.append(loc.id)
        report.dates += len(future)
    _withdraw_others(session, report, set(report.locations), source, now)
    plan.published_at = now
    plan.result = {**plan.result, "publication": report.as_json()}  # a new dict: JSON column
    account_service.audit(
        session,
        username=user,
        action="mobile.plan_publish",
        target=str(plan.id),
        detail={"locations": report.locations, "kept_booked": len(report.booked)},
    )
    return report


def _withdraw_others(
    session: Session, report: Publication, keep: set[str], source: str, now: dt.datetime
) -> None:
    """Mobile locations of earlier plans that this one does not visit lose their future
    dates, except booked days."""
    capacities = {c.location_id: c for c in capacity_service.all_capacities(session)}
    for loc in location_service.list_locations(session):
        cap = capacities.get(loc.id)
        if loc.kind != MOBILE_KIND or loc.id in keep or cap is None:
            continue
        first = now.astimezone(BERLIN).date().isoformat()
        if not any(day >= first and spans for day, spans in (cap.dates or {}).items()):
            continue  # withdrawn before: nothing left to take back
        report.booked += _booked_changes(session, loc, cap.dates or {}, {}, now)
        capacity_service.set_dated_hours(
            session,
            location_id=loc.id,
            dates={},
            service_ids=cap.service_ids,
            counters=cap.counters,
            source=source,
            now=now,
        )
        report.withdrawn.append(loc.id)


def published_locations(session: Session) -> list[Location]:
    """The mobile stops citizens can book today (kind "mobile")."""
    return [loc for loc in location_service.list_locations(session) if loc.kind == MOBILE_KIND]


def location_of(session: Session, stop: MobileStop) -> Location | None:
    """The stop's published location, if it was ever published."""
    wanted = location_id(stop.id)
    return next((loc for loc in published_locations(session) if loc.id == wanted), None)
