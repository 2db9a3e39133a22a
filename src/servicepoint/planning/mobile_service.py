"""The mobile ServicePoint: its stops (proposed from the worst-served districts or added by
planners), its multi-week plans (computed by the job runner) and their publication as bookable
locations of kind "mobile".

Stops and plans are this module's tables. The solver (planning.mobile_periodic) and its
independent checker are pure; the appointment side (dated hours, booked dates) is used through
its capacity service, the locations through the catalog's location service.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicepoint.account import service as account_service
from servicepoint.catalog.hours import format_hours, parse_hours, valid_hours
from servicepoint.config import Settings
from servicepoint.core.i18n import N_
from servicepoint.core.inputs import Name, ShortText
from servicepoint.errors import Conflict, NotFound, Unprocessable
from servicepoint.planning import demand as dm
from servicepoint.planning import jobs
from servicepoint.planning.demand import DataIssue, DemandSet
from servicepoint.planning.models import MobilePlan, MobileStop

Progress = Callable[[int, str], None]
STOP_KINDS = ("district", "care_home", "library", "community")
KIND_NAMES = {
    "district": N_("Stadtteil"),
    "care_home": N_("Pflegeheim"),
    "library": N_("Bibliothek"),
    "community": N_("Stadtteilzentrum"),
}
FREQUENCIES = (1, 2, 4)
RESERVED_IDS = frozenset({"neu"})
MAX_PROPOSALS = 30
# Location ids are at most 64 characters (catalog); published stops get the prefix "mobil-".
LOCATION_PREFIX = "mobil-"
MAX_STOP_ID = 64 - len(LOCATION_PREFIX)
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


# -- input ------------------------------------------------------------------------------------
def _clock(value: object) -> object:
    """'08:30' → 510 (forms send times); numbers pass through to the bounds."""
    if isinstance(value, str):
        found = _TIME.match(value.strip())
        if not found or int(found[2]) > 59:
            raise ValueError("expected a time like 08:30")
        return int(found[1]) * 60 + int(found[2])
    return value


class StopData(BaseModel):
    """A stop as planners enter it; hours in the catalog's syntax ('Mo-Fr 09:00-12:00'), empty
    = the host's hours are unknown (the van's hours apply)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name = Field(min_length=2, max_length=150)
    kind: Literal["district", "care_home", "library", "community"] = "care_home"
    address: Name | None = Field(default=None, max_length=200)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    hours: ShortText = Field(default="", max_length=500)
    frequency_weeks: int = Field(default=2, ge=1, le=4)  # 1, 2 or 4 (a 4-week plan's blocks)
    min_spacing_days: int = Field(default=5, ge=0, le=27)
    service_minutes: int = Field(default=120, ge=15, le=480)

    @field_validator("frequency_weeks")
    @classmethod
    def _frequency(cls, value: int) -> int:
        if value not in FREQUENCIES:
            raise ValueError("every 1, 2 or 4 weeks")
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        valid_hours(value)
        return value


Weekday = Annotated[int, Field(ge=0, le=6)]  # Monday 0 … Sunday 6


class VanParams(BaseModel):
    """The van: where it starts and ends each day, its workdays and hours. Speed and detour are
    assumptions of the plan (configuration), shown with it; breaks follow ArbZG §4."""

    model_config = ConfigDict(extra="forbid")

    depot_lat: float = Field(ge=-90, le=90)
    depot_lon: float = Field(ge=-180, le=180)
    workdays: tuple[Weekday, ...] = Field(default=(0, 1, 2, 3, 4), min_length=1, max_length=7)
    day_start: int = Field(default=8 * 60, ge=0, le=24 * 60)
    day_end: int = Field(default=17 * 60, ge=0, le=24 * 60)
    speed_kmh: float = Field(default=25.0, ge=5, le=80)
    detour: float = Field(default=1.3, ge=1, le=3)

    @field_validator("day_start", "day_end", mode="before")
    @classmethod
    def _time(cls, value: object) -> object:
        return _clock(value)

    @field_validator("workdays")
    @classmethod
    def _days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _hours(self) -> VanParams:
        if self.day_end - self.day_start < 60:
            raise ValueError("the van's day must last at least an hour")
        return self


# -- stops ------------------------------------------------------------------------------------
def slug(text: str, limit: int = MAX_STOP_ID) -> str:
    """An id from a name: 'Döhren Süd' → 'doehren-sued'."""
    text = text.lower().translate(_UMLAUTS)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:limit].strip("-") or "halt"


def _taken(session: Session, stop_id: str) -> bool:
    # "neu" is the new-stop form's path (/planung/mobil/halte/neu), never a stop's.
    return stop_id in RESERVED_IDS or session.get(MobileStop, stop_id) is not None


def _free_id(session: Session, base: str) -> str:
    candidate, n = base, 1
    while _taken(session, candidate):
        n += 1
        suffix = f"-{n}"
        candidate = base[: MAX_STOP_ID - len(suffix)] + suffix
    return candidate


def list_stops(session: Session) -> list[MobileStop]:
    stmt = select(MobileStop).order_by(MobileStop.active.desc(), MobileStop.name)
    return list(session.scalars(stmt))


def get_stop(session: Session, *, stop_id: str) -> MobileStop:
    stop = None if "\x00" in stop_id else session.get(MobileStop, stop_id)
    if stop is None:
        raise NotFound(N_("Diesen Halt gibt es nicht."))
    return stop


def _apply(stop: MobileStop, data: StopData) -> None:
    stop.name, stop.kind, stop.address = data.name, data.kind, data.address or None
    stop.lat, stop.lon = data.lat, data.lon
    stop.opening_hours = parse_hours(data.hours) if data.hours else None
    stop.frequency_weeks, stop.min_spacing_days = data.frequency_weeks, data.min_spacing_days
    stop.service_minutes = data.service_minutes


def _in_city(settings: Settings, data: StopData) -> None:
    """The same check (and message) as every other planning point: inside the city's box."""
    from servicepoint.planning import inputs

    inputs._checked_point(dm.planning_config(settings.city_dir), data.lat, data.lon)


def add_stop(session: Session, *, settings: Settings, data: StopData, user: str) -> MobileStop:
    """A special stop a planner adds (care home, library, community centre)."""
    _in_city(settings, data)
    stop = MobileStop(id=_free_id(session, slug(data.name)), created_by=user, active=True)
    _apply(stop, data)
    stop.approximate, stop.demand = False, 0.0
    session.add(stop)
    session.flush()
    account_service.audit(session, username=user, action="mobile.stop_add", target=stop.id)
    return stop


def update_stop(
    session: Session, *, settings: Settings, stop_id: str, data: StopData, user: str
) -> MobileStop:
    """Change a stop; coordinates set by a planner are no longer approximate."""
    _in_city(settings, data)
    stop = get_stop(session, stop_id=stop_id)
    moved = (stop.lat, stop.lon) != (data.lat, data.lon)
    _apply(stop, data)
    if moved:
        stop.approximate = False
    account_service.audit(session, username=user, action="mobile.stop_edit", target=stop.id)
    return stop


def set_active(session: Session, *, stop_id: str, active: bool, user: str) -> MobileStop:
    stop = get_stop(session, stop_id=stop_id)
    stop.active = active
    action = "mobile.stop_on" if active else "mobile.stop_off"
    account_service.audit(session, username=user, action=action, target=stop.id)
    return stop


def delete_stop(session: Session, *, stop_id: str, user: str) -> None:
    """Delete a stop never published; a published one stays (citizens may hold bookings
    there) and can be deactivated instead."""
    from servicepoint.catalog import locations as location_service

    stop = get_stop(session, stop_id=stop_id)
    published = {loc.id for loc in location_service.list_locations(session)}
    if LOCATION_PREFIX + stop.id in published:
        raise Conflict(
            N_(
                "Dieser Halt ist veröffentlicht und bleibt deshalb erhalten. Deaktivieren Sie "
                "ihn, damit künftige Pläne ihn nicht mehr anfahren."
            )
        )
    session.delete(stop)
    account_service.audit(session, username=user, action="mobile.stop_delete", target=stop_id)


def hours_text(stop: MobileStop) -> str:
    return format_hours(stop.opening_hours) if stop.opening_hours else ""


# -- proposals from the worst-served districts ------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """A demand point and its distance to today's nearest office."""

    id: str
    name: str
    borough: str | None
    lat: float
    lon: float
    weight: float
    km: float
    approximate: bool

    @property
    def score(self) -> float:
        return self.weight * self.km  # visit-kilometres a stop there would save, at most


@dataclass
class Proposal:
    created: list[MobileStop] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # stops already there (planners' edits stay)
    issues: list[DataIssue] = field(default_factory=list)  # the demand's, shown as they are
    approximate_share: float = 0.0
    missing_share: float = 0.0


def rank(candidates: Sequence[Candidate], count: int) -> list[Candidate]:
    """The `count` points with the most weighted distance to today's offices."""
    ordered = sorted(candidates, key=lambda c: (-c.score, c.name))
    return [c for c in ordered if c.score > 0][:count]


def _candidates(session: Session, settings: Settings) -> tuple[list[Candidate], DemandSet]:
    """Demand points with a point, and their km to today's nearest placed office."""
    from servicepoint.planning import evaluate as evaluation
    from servicepoint.planning import geo, inputs

    demand = inputs.demand_set(session, settings=settings)
    sites = inputs.site_set(session, settings=settings)
    offices = [s for s in sites.placed() if s.kind == "office"]
    points = demand.placed()
    if not offices or not points:
        raise Unprocessable(
            N_(
                "Ohne Bürgeramt mit bekanntem Punkt lässt sich nicht sagen, welche Stadtteile "
                "am schlechtesten versorgt sind. Bitte platzieren Sie die Bürgerämter unter "
                "Planung → Daten."
            )
        )
    detour = dm.planning_config(settings.city_dir).detour
    dist = geo.great_circle_km(points, offices, detour)
    metrics = evaluation.evaluate(dist, [p.weight for p in points], tuple(range(len(offices))))
    found = [
        Candidate(
            id=p.id,
            name=p.name,
            borough=p.borough,
            lat=float(p.lat or 0.0),
            lon=float(p.lon or 0.0),
            weight=p.weight,
            km=float(km),
            approximate=p.precision == "approximate",
        )
        for p, km in zip(points, metrics.km, strict=True)
    ]
    return found, demand


def propose_stops(session: Session, *, settings: Settings, count: int, user: str) -> Proposal:
    """Stops at the `count` worst-served districts (weight × km to today's nearest office);
    a stop already there keeps the planner's edits."""
    if not 1 <= count <= MAX_PROPOSALS:
        raise Unprocessable(N_("Bitte zwischen 1 und %(n)d Halte vorschlagen."), n=MAX_PROPOSALS)
    candidates, demand = _candidates(session, settings)
    report = Proposal(
        issues=list(demand.issues),
        approximate_share=demand.approximate_share,
        missing_share=demand.missing_share,
    )
    for cand in rank(candidates, count):
        stop_id = "st-" + slug(cand.name, MAX_STOP_ID - 3)
        if session.get(MobileStop, stop_id) is not None:
            report.kept.append(stop_id)
            continue
        stop = MobileStop(
            id=stop_id,
            name=cand.name,
            kind="district",
            district=cand.name,
            lat=cand.lat,
            lon=cand.lon,
            approximate=cand.approximate,
            demand=cand.weight,
            created_by=user,
            active=True,
        )
        session.add(stop)
        report.created.append(stop)
    session.flush()
    account_service.audit(
        session, username=user, action="mobile.propose", detail={"count": len(report.created)}
    )
    return report


# -- plans ------------------------------------------------------------------------------------
def list_plans(session: Session) -> list[MobilePlan]:
    return list(session.scalars(select(MobilePlan).order_by(MobilePlan.created_at.desc())))


def get_plan(session: Session, *, plan_id: int) -> MobilePlan:
    plan = session.get(MobilePlan, plan_id)
    if plan is None:
        raise NotFound(N_("Diesen Einsatzplan gibt es nicht."))
    return plan


def active_stops(session: Session) -> list[MobileStop]:
    stmt = select(MobileStop).where(MobileStop.active.is_(True)).order_by(MobileStop.id)
    return list(session.scalars(stmt))


def create_plan(
    session: Session,
    *,
    name: str,
    start_date: dt.date,
    weeks: int,
    van: VanParams,
    user: str,
) -> MobilePlan:
    """A queued plan; the job runner computes it (planning.jobs) and the page shows progress."""
    if not 1 <= weeks <= 8:
        raise Unprocessable(N_("Ein Plan umfasst 1 bis 8 Wochen."))
    if not active_stops(session):
        raise Unprocessable(N_("Es gibt keinen aktiven Halt. Bitte legen Sie zuerst Halte an."))
    if session.scalar(select(MobilePlan.id).where(MobilePlan.name == name)) is not None:
        raise Conflict(N_("Ein Einsatzplan mit dem Namen „%(name)s“ besteht schon."), name=name)
    plan = MobilePlan(
        name=name,
        start_date=start_date,
        weeks=weeks,
        params={"van": van.model_dump(mode="json")},
        status="queued",
        progress=0,
        created_by=user,
    )
    session.add(plan)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # the same name created at the same moment elsewhere
        raise Conflict(
            N_("Ein Einsatzplan mit dem Namen „%(name)s“ besteht schon."), name=name
        ) from exc
    account_service.audit(session, username=user, action="mobile.plan_create", target=str(plan.id))
    return plan


def delete_plan(session: Session, *, plan_id: int, user: str) -> None:
    """Delete a plan that is not running and was never published (a published one is the
    record of what citizens were offered)."""
    plan = get_plan(session, plan_id=plan_id)
    if plan.status == "running":
        raise Conflict(N_("Der Plan wird gerade berechnet und kann nicht gelöscht werden."))
    if plan.published_at is not None:
        raise Conflict(N_("Ein veröffentlichter Plan bleibt als Nachweis erhalten."))
    session.delete(plan)
    account_service.audit(session, username=user, action="mobile.plan_delete", target=str(plan_id))


def run_plan(
    session: Session, *, plan_id: int, settings: Settings, progress: Progress | None = None
) -> None:
    """Compute a queued plan with the two-level solver and store it with the checker's verdict
    (the job runner calls this and sets the status around it)."""
    from servicepoint.planning import mobile_solve

    plan = get_plan(session, plan_id=plan_id)
    stops = active_stops(session)
    if not stops:
        raise Unprocessable(N_("Es gibt keinen aktiven Halt. Bitte legen Sie zuerst Halte an."))
    van = VanParams.model_validate(plan.params.get("van") or {})
    if progress is not None:
        progress(1, N_("Halte und Fahrzeug werden vorbereitet"))
    result = mobile_solve.solve(
        stops,
        van,
        start=plan.start_date,
        weeks=plan.weeks,
        time_limit=settings.planning_time_limit_seconds,
        progress=progress,
    )
    plan.result = result
    plan.violations = [v["detail"] for v in result["violations"]]


def _run_job(
    session: Session, job_id: int, settings: Settings, progress: Callable[[int, str], None]
) -> None:
    run_plan(session, plan_id=job_id, settings=settings, progress=progress)


jobs.register("mobile_plan", MobilePlan, _run_job)
