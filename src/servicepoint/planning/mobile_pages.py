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
from servicepoint.core.clock import today_local
from servicepoint.core.db import SessionDep
from servicepoint.core.i18n import N_, error_text, translate
from servicepoint.core.inputs import Day, Id, Key, Name
from servicepoint.core.security import csrf_protect
from servicepoint.core.templating import render
from servicepoint.errors import ServicePointError
from servicepoint.planning import mobile_publish, mobile_service, mobile_views
from servicepoint.planning.mobile_service import StopData, VanParams
from servicepoint.planning.models import MobileStop
from servicepoint.planning.pages import STOP_POLLING
from servicepoint.web import form_errors

router = APIRouter(include_in_schema=False)
BASE = mobile_views.BASE
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
        "map_json": mobile_views.map_json(
            request,
            stops=[mobile_views.stop_marker(s) for s in stops],
            pick={"lat": "depot-lat", "lon": "depot-lon"},
        ),
        "done": done,
        "errors": errors or {},
        "typed": typed or {},
        "proposal": proposal,
        "default_start": _next_monday(),
        "max_proposals": mobile_service.MAX_PROPOSALS,
        **mobile_views.common(request.state.lang),
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
    markers = [mobile_views.stop_marker(stop)] if stop is not None else []
    context = {
        "stop": stop,
        "location": mobile_publish.location_of(session, stop) if stop else None,
        "form": values,
        "errors": errors or {},
        "kinds": mobile_service.STOP_KINDS,
        "map_json": mobile_views.map_json(
            request, stops=markers, pick={"lat": "f-lat", "lon": "f-lon"}
        ),
        **mobile_views.common(request.state.lang),
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


@router.get(BASE + "/plaene/{plan_id}", response_class=HTMLResponse)
def plan_page(
    plan_id: Id, request: Request, user: User = PLANNER, session: Session = SessionDep
) -> HTMLResponse:
    """A plan: live progress while it is computed, then each day's route, map and verdict."""
    return mobile_views.plan_page(request, mobile_service.get_plan(session, plan_id=plan_id))


@router.get(BASE + "/plaene/{plan_id}/fortschritt", response_class=HTMLResponse)
def plan_progress(
    plan_id: Id, request: Request, user: User = PLANNER, session: Session = SessionDep
) -> HTMLResponse:
    """The progress fragment (HTMX poll); once finished it links the result and polling stops
    (no reload: the keyboard focus stays where the planner is, the status region announces it)."""
    plan = mobile_service.get_plan(session, plan_id=plan_id)
    context = {"plan": plan, **mobile_views.common(request.state.lang)}
    page = render(request, "planning/mobile_progress.html", context)
    if plan.status in ("done", "failed"):
        page.status_code = STOP_POLLING
    return page


@router.post(BASE + "/plaene/{plan_id}/veroeffentlichen", response_model=None, dependencies=CSRF)
def publish_plan(
    plan_id: Id, request: Request, user: User = PLANNER, session: Session = SessionDep
) -> HTMLResponse | RedirectResponse:
    """Publish: each visited stop becomes a bookable location; then to the plan's page."""
    settings = request.app.state.settings
    try:
        with session.begin_nested():
            mobile_publish.publish_plan(
                session, plan_id=plan_id, settings=settings, user=user.username
            )
    except ServicePointError as exc:
        plan = mobile_service.get_plan(session, plan_id=plan_id)
        error = error_text(exc, request.state.lang)
        return mobile_views.plan_page(request, plan, error=error, status_code=exc.status_code)
    return RedirectResponse(f"{BASE}/plaene/{plan_id}#publication", status_code=303)


@router.post(BASE + "/plaene/{plan_id}/loeschen", dependencies=CSRF)
def delete_plan(
    plan_id: Id, user: User = PLANNER, session: Session = SessionDep
) -> RedirectResponse:
    """Delete a plan that is neither running nor published."""
    mobile_service.delete_plan(session, plan_id=plan_id, user=user.username)
    return RedirectResponse(f"{BASE}?ok=geloescht", status_code=303)
