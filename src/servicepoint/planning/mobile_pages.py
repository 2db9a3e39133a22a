"""The mobile ServicePoint's planner pages (/planung/mobil): stops on a map and in a table,
proposals from the worst-served districts, special stops with their opening hours, plans with
live progress while the job runner computes them, each day's route, the checker's verdict and
the publication as bookable locations.

Every page needs the planner role (admins pass); every form posts with the CSRF token; answers
are private (no-store, set by the account dependency). Forms are read by hand and validated
with the service's models, so a refused value comes back in the form with what was typed.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from servicepoint.account.deps import require
from servicepoint.account.models import User
from servicepoint.core.city import city_facts
from servicepoint.core.clock import today_local
from servicepoint.core.db import SessionDep
from servicepoint.core.i18n import N_, error_text, translate
from servicepoint.core.inputs import Day, Id, Key, Name
from servicepoint.core.security import csrf_protect
from servicepoint.core.templating import render
from servicepoint.errors import ServicePointError
from servicepoint.planning import mobile_publish, mobile_service
from servicepoint.planning.mobile_service import StopData, VanParams
from servicepoint.planning.models import MobilePlan, MobileStop
from servicepoint.planning.pages import STOP_POLLING
from servicepoint.web import form_errors
from servicepoint.web.geo import district_points, script_json

router = APIRouter(include_in_schema=False)
BASE = "/planung/mobil"
PLANNER = Depends(require("planner"))
CSRF = [Depends(csrf_protect)]

STOP_FIELDS = (
    "name",
    "kind",
    "address",
    "lat",
    "lon",
    "hours",
    "frequency_weeks",
    "min_spacing_days",
    "service_minutes",
)
VAN_FIELDS = ("depot_lat", "depot_lon", "day_start", "day_end", "speed_kmh", "detour")
LABELS = {
    "name": N_("Name"),
    "kind": N_("Art"),
    "address": N_("Adresse"),
    "lat": N_("Breitengrad"),
    "lon": N_("Längengrad"),
    "hours": N_("Öffnungszeiten des Gastgebers"),
    "frequency_weeks": N_("Besuch alle … Wochen"),
    "min_spacing_days": N_("Mindestabstand zwischen Besuchen (Tage)"),
    "service_minutes": N_("Dauer eines Besuchs (Minuten)"),
    "depot_lat": N_("Breitengrad des Depots"),
    "depot_lon": N_("Längengrad des Depots"),
    "workdays": N_("Einsatztage"),
    "day_start": N_("Arbeitsbeginn"),
    "day_end": N_("Arbeitsende"),
    "speed_kmh": N_("Durchschnittstempo (km/h)"),
    "detour": N_("Umwegfaktor"),
    "plan_name": N_("Name des Plans"),
    "start_date": N_("Erster Tag"),
    "weeks": N_("Wochen"),
    "count": N_("Anzahl"),
}
STATUS = {
    "queued": N_("wartet auf die Berechnung"),
    "running": N_("wird berechnet"),
    "done": N_("fertig"),
    "failed": N_("fehlgeschlagen"),
}
WEEKDAY_SHORT = (N_("Mo"), N_("Di"), N_("Mi"), N_("Do"), N_("Fr"), N_("Sa"), N_("So"))
# One colour per weekday (routes on the map; the table says the same in words).
DAY_COLOURS = ("#0b4f9c", "#b3001b", "#1b7a3e", "#7a3db8", "#b35900", "#00707a", "#4b5563")
DONE = {
    "vorschlag": N_("Die vorgeschlagenen Halte sind angelegt."),
    "halt": N_("Der Halt ist gespeichert."),
    "aktiv": N_("Der Halt ist wieder aktiv."),
    "inaktiv": N_("Der Halt ist deaktiviert; künftige Pläne fahren ihn nicht an."),
    "geloescht": N_("Gelöscht."),
}
MAX_FORM_TEXT = 500
OkKey = Annotated[str, Query(max_length=20)]


# -- helpers -------------------------------------------------------------------------------------
def _typed(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    """What was typed, as text (bounded), for validation and to show it again."""
    return {k: str(form.get(k) or "").strip()[:MAX_FORM_TEXT] for k in names if k in form}


def _errors(exc: Exception, lang: str) -> dict[str, str]:
    """Field → 'Label: what is wrong', in the page's language; a service error under ''."""
    if not isinstance(exc, ValidationError):
        return {"": error_text(exc, lang)}
    found: dict[str, str] = {}
    for err in exc.errors():
        field = form_errors.field_of(err) or ""
        label = translate(lang, LABELS[field]) if field in LABELS else ""
        text = form_errors.explain(lang, err)
        found.setdefault(field, f"{label}: {text}" if label else text)
    return found


def _validated(model: type[BaseModel], values: dict[str, Any]) -> Any:
    return model.model_validate({k: v for k, v in values.items() if v != ""})


def _map(request: Request, **data: Any) -> str:
    city_dir = request.app.state.settings.city_dir
    base = {
        "center": city_facts(city_dir).get("center") or [51.0, 10.0],
        "references": [{"name": n, "lat": a, "lon": o} for n, a, o in district_points(city_dir)],
        "stops": [],
        "routes": [],
        "depot": None,
        "pick": None,
    }
    return script_json({**base, **data})


def _stop_marker(stop: MobileStop) -> dict[str, Any]:
    return {
        "name": stop.name,
        "lat": stop.lat,
        "lon": stop.lon,
        "approx": stop.approximate,
        "active": stop.active,
        "url": f"{BASE}/halte/{stop.id}",
    }


def _named(lang: str, names: dict[str, str], key: str) -> str:
    return translate(lang, names[key]) if key in names else key


def _violation(lang: str, found: dict[str, Any]) -> str:
    """The checker's finding in the page's language (its German text if it has no msgid)."""
    message, params = found.get("message"), found.get("params") or {}
    if not message:
        return str(found.get("detail", ""))
    return translate(lang, message) % params if params else translate(lang, message)


def _common(lang: str) -> dict[str, Any]:
    return {
        "status_text": lambda s: _named(lang, STATUS, s),
        "kind_text": lambda k: _named(lang, mobile_service.KIND_NAMES, k),
        "weekday_short": lambda d: translate(lang, WEEKDAY_SHORT[d]),
        "day_colour": lambda d: DAY_COLOURS[d],
        "note_text": lambda n: translate(lang, n) if n else "",
        "issue_text": lambda i: i.translated(lambda msgid: translate(lang, msgid)),
        "violation_text": lambda v: _violation(lang, v),
    }


# -- overview: stops and plans -------------------------------------------------------------------
def _overview(
    request: Request,
    session: Session,
    *,
    done: str = "",
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    proposal: mobile_service.Proposal | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    stops = mobile_service.list_stops(session)
    context = {
        "stops": stops,
        "plans": mobile_service.list_plans(session),
        "published": mobile_publish.published_locations(session),
        "hours_text": mobile_service.hours_text,
        "map_json": _map(
            request,
            stops=[_stop_marker(s) for s in stops],
            pick={"lat": "depot-lat", "lon": "depot-lon"},
        ),
        "done": done,
        "errors": errors or {},
        "typed": typed or {},
        "proposal": proposal,
        "default_start": _next_monday(),
        "max_proposals": mobile_service.MAX_PROPOSALS,
        **_common(request.state.lang),
    }
    return render(request, "planning/mobile.html", context, status_code=status_code)


def _next_monday() -> str:
    today = today_local()
    return (today + dt.timedelta(days=7 - today.weekday())).isoformat()


@router.get(BASE, response_class=HTMLResponse)
def mobile_home(
    request: Request, ok: OkKey = "", user: User = PLANNER, session: Session = SessionDep
) -> HTMLResponse:
    """Stops on a map and in a table, proposals, new plans and the plans so far."""
    done = translate(request.state.lang, DONE[ok]) if ok in DONE else ""
    return _overview(request, session, done=done)


@router.post(f"{BASE}/vorschlag", response_model=None, dependencies=CSRF)
async def propose(
    request: Request, user: User = PLANNER, session: Session = SessionDep
) -> HTMLResponse:
    """Add stops at the worst-served districts (demand × distance to today's offices)."""
    form = await request.form()
    typed = _typed(form, ("count",))
    settings = request.app.state.settings
    try:
        count = int(typed.get("count") or 0)
        with session.begin_nested():
            report = mobile_service.propose_stops(
                session, settings=settings, count=count, user=user.username
            )
    except (ServicePointError, ValueError) as exc:
        errors = {"count": translate(request.state.lang, N_("Bitte eine ganze Zahl eingeben."))}
        if isinstance(exc, ServicePointError):
            errors = {"count": error_text(exc, request.state.lang)}
        return _overview(request, session, errors=errors, typed=typed, status_code=422)
    done = translate(request.state.lang, DONE["vorschlag"])
    return _overview(request, session, done=done, proposal=report)


# -- one stop ------------------------------------------------------------------------------------
def _stop_page(
    request: Request,
    session: Session,
    stop: MobileStop | None,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    values = typed if typed is not None else _stop_values(stop)
    markers = [_stop_marker(stop)] if stop is not None else []
    context = {
        "stop": stop,
        "location": mobile_publish.location_of(session, stop) if stop else None,
        "form": values,
        "errors": errors or {},
        "kinds": mobile_service.STOP_KINDS,
        "map_json": _map(request, stops=markers, pick={"lat": "f-lat", "lon": "f-lon"}),
        **_common(request.state.lang),
    }
    return render(request, "planning/mobile_stop.html", context, status_code=status_code)


def _stop_values(stop: MobileStop | None) -> dict[str, str]:
    if stop is None:
        defaults = {"kind": "care_home", "frequency_weeks": "2", "min_spacing_days": "5"}
        return {**defaults, "service_minutes": "120"}
    return {
        "name": stop.name,
        "kind": stop.kind,
        "address": stop.address or "",
        "lat": f"{stop.lat:.5f}",
        "lon": f"{stop.lon:.5f}",
        "hours": mobile_service.hours_text(stop),
        "frequency_weeks": str(stop.frequency_weeks),
        "min_spacing_days": str(stop.min_spacing_days),
        "service_minutes": str(stop.service_minutes),
    }


@router.get(f"{BASE}/halte/neu", response_class=HTMLResponse)
def new_stop(request: Request, user: User = PLANNER, session: Session = SessionDep) -> HTMLResponse:
    """Form for a special stop (care home, library, community centre); a map click places it."""
    return _stop_page(request, session, None)


@router.get(BASE + "/halte/{stop_id}", response_class=HTMLResponse)
def stop_page(
    stop_id: Key, request: Request, user: User = PLANNER, session: Session = SessionDep
) -> HTMLResponse:
    """A stop's form: name, address, point, the host's hours, frequency and visit length."""
    return _stop_page(request, session, mobile_service.get_stop(session, stop_id=stop_id))


async def _save_stop(
    request: Request, session: Session, user: User, stop_id: str | None
) -> Response:
    stop = None if stop_id is None else mobile_service.get_stop(session, stop_id=stop_id)
    typed = _typed(await request.form(), STOP_FIELDS)
    settings = request.app.state.settings
    try:
        data = _validated(StopData, typed)
        with session.begin_nested():
            if stop is None:
                mobile_service.add_stop(session, settings=settings, data=data, user=user.username)
            else:
                mobile_service.update_stop(
                    session, settings=settings, stop_id=stop.id, data=data, user=user.username
                )
    except (ValidationError, ServicePointError) as exc:
        errors = _errors(exc, request.state.lang)
        return _stop_page(request, session, stop, typed=typed, errors=errors, status_code=422)
    return RedirectResponse(f"{BASE}?ok=halt", status_code=303)


@router.post(f"{BASE}/halte", response_model=None, dependencies=CSRF)
async def create_stop(
    request: Request, user: User = PLANNER, session: Session = SessionDep
) -> Response:
    """Save a new special stop; refused values come back in the form."""
    return await _save_stop(request, session, user, None)


@router.post(BASE + "/halte/{stop_id}", response_model=None, dependencies=CSRF)
async def edit_stop(
    stop_id: Key, request: Request, user: User = PLANNER, session: Session = SessionDep
) -> Response:
    """Save a stop's changes; a moved point is no longer approximate."""
    return await _save_stop(request, session, user, stop_id)


@router.post(BASE + "/halte/{stop_id}/aktiv", dependencies=CSRF)
async def toggle_stop(
    stop_id: Key, request: Request, user: User = PLANNER, session: Session = SessionDep
) -> RedirectResponse:
    """Deactivate a stop (future plans leave it out) or activate it again."""
    active = (await request.form()).get("active") == "1"
    mobile_service.set_active(session, stop_id=stop_id, active=active, user=user.username)
    return RedirectResponse(f"{BASE}?ok={'aktiv' if active else 'inaktiv'}", status_code=303)


@router.post(BASE + "/halte/{stop_id}/loeschen", dependencies=CSRF)
def delete_stop(
    stop_id: Key, user: User = PLANNER, session: Session = SessionDep
) -> RedirectResponse:
    """Delete a stop never published (a published one can only be deactivated)."""
    mobile_service.delete_stop(session, stop_id=stop_id, user=user.username)
    return RedirectResponse(f"{BASE}?ok=geloescht", status_code=303)


# -- plans ---------------------------------------------------------------------------------------
@router.post(f"{BASE}/plaene", response_model=None, dependencies=CSRF)
async def create_plan(
    request: Request, user: User = PLANNER, session: Session = SessionDep
) -> Response:
    """Queue a plan for the job runner; its page then shows the progress."""
    form = await request.form()
    typed = _typed(form, (*VAN_FIELDS, "plan_name", "start_date", "weeks"))
    workdays = [str(d)[:1] for d in form.getlist("workdays")][:7]
    try:
        own = _validated(PlanForm, typed)
        van = _validated(
            VanParams, {**{k: typed.get(k, "") for k in VAN_FIELDS}, "workdays": workdays}
        )
        with session.begin_nested():
            plan = mobile_service.create_plan(
                session,
                name=own.plan_name,
                start_date=own.start_date,
                weeks=own.weeks,
                van=van,
                user=user.username,
            )
    except (ValidationError, ServicePointError) as exc:
        errors = _errors(exc, request.state.lang)
        typed["workdays"] = ",".join(workdays)
        return _overview(request, session, errors=errors, typed=typed, status_code=422)
    return RedirectResponse(f"{BASE}/plaene/{plan.id}", status_code=303)


class PlanForm(BaseModel):
    """The plan's own fields of the form (the van's are VanParams)."""

    plan_name: Name = Field(min_length=2, max_length=200)
    start_date: Day
    weeks: int = Field(ge=1, le=8)


def _plan_page(
    request: Request,
    plan: MobilePlan,
    *,
    publication: mobile_publish.Publication | None = None,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "plan": plan,
        "result": plan.result,
        "polling": plan.status in ("queued", "running"),
        "days": _days(plan),
        "publication": publication,
        "error": error,
        **_common(request.state.lang),
    }
    if plan.result:
        context["map_json"] = _map(request, **_plan_map(plan.result))
    return render(request, "planning/mobile_plan.html", context, status_code=status_code)


def _days(plan: MobilePlan) -> list[dict[str, Any]]:
    days = []
    for day in (plan.result or {}).get("days", []):
        date = dt.date.fromisoformat(day["date"])
        days.append({**day, "day": date, "weekday": date.weekday()})
    return days


def _plan_map(result: dict[str, Any]) -> dict[str, Any]:
    van = result.get("van") or {}
    depot = [van.get("depot_lat"), van.get("depot_lon")]
    where = {s["id"]: [s["lat"], s["lon"]] for s in result.get("stops", [])}
    routes = []
    for day in result.get("days", []):
        date = dt.date.fromisoformat(day["date"])
        points = [depot, *(where[v["stop_id"]] for v in day["visits"] if v["stop_id"] in where)]
        routes.append(
            {
                "label": date.strftime("%d.%m."),
                "colour": DAY_COLOURS[date.weekday()],
                "points": [*points, depot],
            }
        )
    visited = {v["stop_id"] for d in result.get("days", []) for v in d["visits"]}
    stops = [
        {
            "name": s["name"],
            "lat": s["lat"],
            "lon": s["lon"],
            "approx": s["approximate"],
            "active": s["id"] in visited,
            "url": f"{BASE}/halte/{s['id']}",
        }
        for s in result.get("stops", [])
    ]
    return {"stops": stops, "routes": routes, "depot": depot}


@router.get(BASE + "/plaene/{plan_id}", response_class=HTMLResponse)
def plan_page(
    plan_id: Id, request: Request, user: User = PLANNER, session: Session = SessionDep
) -> HTMLResponse:
    """A plan: live progress while it is computed, then each day's route, map and verdict."""
    return _plan_page(request, mobile_service.get_plan(session, plan_id=plan_id))


@router.get(BASE + "/plaene/{plan_id}/fortschritt", response_class=HTMLResponse)
def plan_progress(
    plan_id: Id, request: Request, user: User = PLANNER, session: Session = SessionDep
) -> HTMLResponse:
    """The progress fragment (HTMX poll); once finished it links the result and polling stops
    (no reload: the keyboard focus stays where the planner is, the status region announces it)."""
    plan = mobile_service.get_plan(session, plan_id=plan_id)
    context = {"plan": plan, **_common(request.state.lang)}
    page = render(request, "planning/mobile_progress.html", context)
    if plan.status in ("done", "failed"):
        page.status_code = STOP_POLLING
    return page


@router.post(BASE + "/plaene/{plan_id}/veroeffentlichen", dependencies=CSRF)
def publish_plan(
    plan_id: Id, request: Request, user: User = PLANNER, session: Session = SessionDep
) -> HTMLResponse:
    """Publish: each visited stop becomes a bookable location with the plan's dates."""
    settings = request.app.state.settings
    try:
        with session.begin_nested():
            report = mobile_publish.publish_plan(
                session, plan_id=plan_id, settings=settings, user=user.username
            )
    except ServicePointError as exc:
        plan = mobile_service.get_plan(session, plan_id=plan_id)
        error = error_text(exc, request.state.lang)
        return _plan_page(request, plan, error=error, status_code=exc.status_code)
    plan = mobile_service.get_plan(session, plan_id=plan_id)
    return _plan_page(request, plan, publication=report)


@router.post(BASE + "/plaene/{plan_id}/loeschen", dependencies=CSRF)
def delete_plan(
    plan_id: Id, user: User = PLANNER, session: Session = SessionDep
) -> RedirectResponse:
    """Delete a plan that is neither running nor published."""
    mobile_service.delete_plan(session, plan_id=plan_id, user=user.username)
    return RedirectResponse(f"{BASE}?ok=geloescht", status_code=303)
