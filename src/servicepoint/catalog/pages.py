"""HTML pages of the catalog: search, services, tutorials, locations and their admin forms."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from servicepoint.account import service as account_service
from servicepoint.account.deps import optional_user, require
from servicepoint.account.models import User
from servicepoint.appointment import actions as appointment_actions
from servicepoint.appointment import service as appointment_service
from servicepoint.appointment import visits as visit_service
from servicepoint.catalog import locations as location_service
from servicepoint.catalog import present
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.errors import InvalidLocationData
from servicepoint.catalog.hours import DAY_NAMES, DAYS, format_hours
from servicepoint.core import i18n
from servicepoint.core.clock import today_local
from servicepoint.core.db import SessionDep
from servicepoint.core.downloads import attachment
from servicepoint.core.i18n import N_
from servicepoint.core.inputs import Key, Step
from servicepoint.core.security import csrf_protect
from servicepoint.core.templating import render
from servicepoint.errors import BadRequest, NotFound
from servicepoint.web import form_errors
from servicepoint.web.geo import map_context

router = APIRouter(include_in_schema=False)
MAX_IMPORT_BYTES = 2_000_000
MOBILE = "mobile"  # a stop of the mobile ServicePoint: open on its visit dates only
LIST_VISITS = 3  # visits a stop shows on the list of locations


@router.get("/suche", response_class=HTMLResponse)
def search(
    request: Request,
    q: str = Query(default="", max_length=500),
    partial: bool = False,
    session: Session = SessionDep,
) -> HTMLResponse:
    """Search results, best first (HTMX asks for the result list only)."""
    results = catalog_service.search_services(session, query=q, limit=15) if q.strip() else []
    template = "catalog/_results.html" if partial else "catalog/search.html"
    return render(request, template, {"q": q, "results": results})


@router.get("/leistungen", response_class=HTMLResponse)
def service_list(request: Request, session: Session = SessionDep) -> HTMLResponse:
    """All services A–Z."""
    return render(
        request, "catalog/list.html", {"services": catalog_service.list_services(session)}
    )


@router.get("/leistungen/{slug}", response_class=HTMLResponse)
def service_page(slug: Key, request: Request, session: Session = SessionDep) -> HTMLResponse:
    """One service: online first, then checklist, fees, duration, responsibility."""
    svc = catalog_service.get_service_by_slug(session, slug=slug)
    detail = present.service_detail(svc, base="", lang=request.state.lang)
    offices = [
        loc
        for loc in location_service.list_locations(session)
        if loc.service_ids is None or svc.id in loc.service_ids
    ]
    # "Videoberatung buchen" only where the city reserves staff time for video consultations.
    video = "video" in svc.channels and appointment_service.video_capacity(session) is not None
    return render(
        request,
        "catalog/service.html",
        {"svc": svc, "detail": detail, "offices": offices, "video_bookable": video},
    )


@router.get("/leistungen/{slug}/anleitung", response_class=HTMLResponse)
def tutorial(
    slug: Key,
    request: Request,
    schritt: Step = 0,
    session: Session = SessionDep,
) -> HTMLResponse:
    """Step-by-step guide to the online service, one step per page with progress."""
    svc = catalog_service.get_service_by_slug(session, slug=slug)
    detail = present.service_detail(svc, base="", lang=request.state.lang)
    if detail.tutorial is None:
        raise NotFound(N_("Für diese Leistung gibt es keine Online-Anleitung."))
    total = len(detail.tutorial.steps)
    step = min(schritt, total + 1)
    return render(
        request,
        "catalog/tutorial.html",
        {"svc": svc, "detail": detail, "tut": detail.tutorial, "step": step, "total": total},
    )


@router.get("/standorte", response_class=HTMLResponse)
def locations(request: Request, session: Session = SessionDep) -> HTMLResponse:
    """The ServicePoints on a map and as a list, the mobile ServicePoint's stops with their next
    visits; unknown facts shown as unknown."""
    locs = location_service.list_locations(session)
    stops = [loc for loc in locs if loc.kind == MOBILE]
    return render(
        request,
        "catalog/locations.html",
        {
            "locations": [loc for loc in locs if loc.kind != MOBILE],
            "stops": stops,
            "visits": visit_service.upcoming(
                session, locations=stops, since=today_local(), limit=LIST_VISITS
            ),
            "map": map_context(request, locs),
            "days": DAYS,
            "day_names": DAY_NAMES[request.state.lang],
            "address": present.address,
            "short_day": present.short_day,
        },
    )


@router.get("/standorte/{location_id}", response_class=HTMLResponse)
def location_page(
    location_id: Key,
    request: Request,
    session: Session = SessionDep,
    user: User | None = Depends(optional_user),
) -> HTMLResponse:
    """One ServicePoint: address, opening hours, services, where each fact came from."""
    loc = location_service.get_office(session, location_id=location_id)
    # A stop offers what its published plan says (its capacity), an office what it records.
    offered = (
        visit_service.stop_service_ids(session, location_id=loc.id)
        if loc.kind == MOBILE
        else loc.service_ids
    )
    services = [
        s
        for s in catalog_service.list_services(session)
        if (offered is None and "appointment" in s.channels and "external" not in s.channels)
        or (offered is not None and s.id in offered)
    ]
    waiting = appointment_actions.waiting_read(session, loc.id)
    return render(
        request,
        "catalog/location.html",
        {
            "loc": loc,
            "services": services,
            "offered": offered,
            "map": map_context(request, [loc]),
            "days": DAYS,
            "day_names": DAY_NAMES[request.state.lang],
            "address": present.address(loc),
            "waiting": waiting,
            "mobile": loc.kind == MOBILE,
            "visits": visit_service.visits(session, location_id=loc.id, since=today_local()),
            "short_day": present.short_day,
        },
    )


@router.get("/standorte/{location_id}/besuche.ics")
def visits_ics(location_id: Key, request: Request, session: Session = SessionDep) -> Response:
    """A stop's visits as an RFC 5545 calendar to subscribe to."""
    settings = request.app.state.settings
    body = visit_service.stop_calendar(
        session,
        location_id=location_id,
        today=today_local(),
        base_url=appointment_actions.base_url(request),
        site_name=settings.site_name,
        lang=request.state.lang,
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": attachment(f"besuche-{location_id}.ics")},
    )


# -- admin ------------------------------------------------------------------------------------
# The fixed path /verwaltung/standorte/import is registered before /{location_id}, which
# would otherwise catch it.
@router.get("/verwaltung/standorte", response_class=HTMLResponse)
def import_form(
    request: Request, user: User = Depends(require("admin")), session: Session = SessionDep
) -> HTMLResponse:
    """Admin overview of locations with the import of official files."""
    return render(
        request,
        "catalog/admin_import.html",
        {"locations": location_service.list_locations(session), "result": None},
    )


@router.post(
    "/verwaltung/standorte/import",
    response_class=HTMLResponse,
    dependencies=[Depends(csrf_protect)],
)
async def import_file(
    request: Request,
    file: UploadFile = File(...),
    source: str = Form(..., min_length=3, max_length=300),
    user: User = Depends(require("admin")),
    session: Session = SessionDep,
) -> HTMLResponse:
    """Import the city's official CSV/GeoJSON; one bad row rejects the whole file."""
    raw = await file.read(MAX_IMPORT_BYTES + 1)
    if len(raw) > MAX_IMPORT_BYTES:
        raise InvalidLocationData(N_("Die Datei ist zu groß (höchstens 2 MB)."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidLocationData(N_("Die Datei muss UTF-8-kodiert sein.")) from exc
    result = location_service.import_locations(
        session, text=text, filename=file.filename or "", source=source, by=user.username
    )
    account_service.audit(
        session,
        username=user.username,
        action="location.import",
        target=file.filename,
        detail={"changed": result, "source": source},
    )
    return render(
        request,
        "catalog/admin_import.html",
        {"locations": location_service.list_locations(session), "result": result},
    )


@router.get("/verwaltung/standorte/{location_id}", response_class=HTMLResponse)
def edit_location_form(
    location_id: Key,
    request: Request,
    user: User = Depends(require("admin")),
    session: Session = SessionDep,
) -> HTMLResponse:
    """Admin form: complete a location's facts or place it by clicking on the map."""
    loc = location_service.get_location(session, location_id=location_id)
    return render(
        request,
        "catalog/admin_location.html",
        {
            "loc": loc,
            "hours": format_hours(loc.opening_hours or {}),
            "map": map_context(request, [loc], editable=True),
            "errors": [],
        },
    )


@router.post(
    "/verwaltung/standorte/{location_id}",
    response_model=None,
    dependencies=[Depends(csrf_protect)],
)
async def edit_location(
    location_id: Key,
    request: Request,
    user: User = Depends(require("admin")),
    session: Session = SessionDep,
) -> HTMLResponse | RedirectResponse:
    """Save an admin's changes with their source; invalid values are shown, nothing is saved."""
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k in location_service.EDITABLE}
    source = str(form.get("source") or "").strip()[:300]
    loc = location_service.get_location(session, location_id=location_id)
    try:
        if not source:
            raise BadRequest(N_("Bitte geben Sie die Quelle der Angaben an."))
        patch = location_service.LocationPatch.model_validate(values)
    except (ValidationError, BadRequest) as exc:
        lang = request.state.lang
        by_field = (
            {"source": i18n.error_text(exc, lang)}
            if isinstance(exc, BadRequest)
            else form_errors.field_errors(exc, lang)
        )
        return render(
            request,
            "catalog/admin_location.html",
            {
                "loc": loc,
                "hours": format_hours(loc.opening_hours or {}),
                "form": values,
                "map": map_context(request, [loc], editable=True),
                "errors": list(by_field.values()),
                "field_errors": by_field,
            },
            status_code=400,
        )
    changed = location_service.apply_patch(
        loc, patch, source=source, by=user.username, fields=location_service.EDITABLE
    )
    account_service.audit(
        session,
        username=user.username,
        action="location.update",
        target=loc.id,
        detail={"fields": changed, "source": source},
    )
    return RedirectResponse(f"/standorte/{loc.id}?gespeichert=1", status_code=303)
