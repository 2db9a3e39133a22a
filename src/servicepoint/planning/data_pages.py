"""The planners' data page (/planung/daten): the demand points and sites the scenarios rest on,
and the planners' changes to them: correct a point on the map, place an office, add or delete a
candidate, import the official district layer (GeoJSON) or a finer demand grid (CSV).

Each form works without script: the map only fills a form's coordinates on a click. Every
change is one service call (planning.inputs, which checks the city's bounding box and audits);
a refusal shows the page again with the reason and what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from servicepoint.account.deps import require
from servicepoint.account.models import User
from servicepoint.core.city import city_facts
from servicepoint.core.db import SessionDep
from servicepoint.core.i18n import N_, error_text, translate
from servicepoint.core.inputs import Key, Name, ShortText
from servicepoint.core.security import csrf_protect
from servicepoint.core.templating import render
from servicepoint.errors import ServicePointError, Unprocessable
from servicepoint.planning import inputs, page_view
from servicepoint.planning.charts import percent
from servicepoint.planning.imports import ImportReport

router = APIRouter(include_in_schema=False)
BASE = "/planung/daten"
PLANNER = Depends(require("planner"))
CSRF = [Depends(csrf_protect)]
MAX_UPLOAD = 5_000_000  # bytes; the importers bound features, rows and vertices themselves
OkKey = Annotated[str, Query(max_length=20)]
Lat = Annotated[float, Form(ge=-90, le=90)]
Lon = Annotated[float, Form(ge=-180, le=180)]
Euros = Annotated[float | None, Form(ge=0, le=100_000_000)]
# ?ok=<key> after a change: the form it came from (its message stands there) and the words.
DONE = {
    "punkt": ("correct", N_("Der Punkt ist gespeichert. Neue Szenarien rechnen mit ihm.")),
    "buero": ("office", N_("Der Punkt des Bürgeramts ist gespeichert.")),
    "kandidat": ("candidates", N_("Der Kandidat ist angelegt.")),
    "geloescht": ("candidates", N_("Der Kandidat ist gelöscht.")),
}


class UploadTooLarge(Unprocessable):
    code = "upload_too_large"


def _page(
    request: Request,
    session: Session,
    *,
    done: str = "",
    error: str = "",
    form: str = "",
    typed: dict[str, str] | None = None,
    report: ImportReport | None = None,
    report_kind: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    settings, lang = request.app.state.settings, request.state.lang
    demand = inputs.demand_set(session, settings=settings)
    sites = inputs.site_set(session, settings=settings)
    middle = list(city_facts(settings.city_dir).get("center") or [51.0, 10.0])
    view = {
        "key": "data",
        "map_json": page_view.data_map_json(demand, sites, center=middle, lang=lang),
        "legend": page_view.precision_legend(lang),
        "legend_title": translate(lang, N_("Lage der Nachfragepunkte:")),
    }
    issues = [*demand.issues, *sites.issues]
    context: dict[str, Any] = {
        "view": view,
        "demand": demand,
        "grid_points": _grid_size(session, request),
        "sites": sites.sites,
        "precision_text": lambda value: page_view.precision_text(value, lang),
        "issues": page_view.issue_groups([vars(i) for i in issues], lang=lang),
        "shares": {
            "approximate": percent(demand.approximate_share, lang),
            "missing": percent(demand.missing_share, lang),
        },
        "done": done,
        "error": error,
        "error_form": form,
        "typed": typed or {},
        "report": report,
        "report_kind": report_kind,
        "report_issues": page_view.issue_groups(
            [vars(i) for i in report.issues] if report else [], lang=lang
        ),
    }
    return render(request, "planning/data.html", context, status_code=status_code)


def _grid_size(session: Session, request: Request) -> int:
    """How many points the imported grid has; 0 when none is imported (the service refuses)."""
    try:
        grid = inputs.demand_set(session, settings=request.app.state.settings, basis="grid")
    except ServicePointError:
        return 0
    return len(grid.points)


@router.get(BASE, response_class=HTMLResponse)
def data_page(
    request: Request, ok: OkKey = "", user: User = PLANNER, session: Session = SessionDep
) -> HTMLResponse:
    """Demand points and sites with their precision; the forms that change them."""
    if ok not in DONE:
        return _page(request, session)
    form, msgid = DONE[ok]
    return _page(request, session, done=translate(request.state.lang, msgid), form=form)


def _change(
    request: Request,
    session: Session,
    *,
    form: str,
    done: str,
    typed: dict[str, str],
    action: Callable[[], object],
) -> Response:
    """Run one change; refused: the page again with the reason beside the form."""
    try:
        with session.begin_nested():
            action()
    except ServicePointError as exc:
        message = error_text(exc, request.state.lang)
        return _page(
            request,
            session,
            error=message,
            form=form,
            typed=typed,
            status_code=exc.status_code,
        )
    # No #fragment: the message beside the form takes the focus (autofocus) and the view.
    return RedirectResponse(f"{BASE}?ok={done}", status_code=303)


@router.post(BASE + "/punkt", response_model=None, dependencies=CSRF)
def correct_point(
    request: Request,
    name: Annotated[Name, Form()],
    lat: Lat,
    lon: Lon,
    user: User = PLANNER,
    session: Session = SessionDep,
) -> Response:
    """Set a Stadtteil's point (clicked on the map or typed)."""
    settings = request.app.state.settings
    typed = {"name": name, "lat": str(lat), "lon": str(lon)}

    def action() -> object:
        return inputs.correct_point(
            session, settings=settings, name=name, lat=lat, lon=lon, user=user.username
        )

    return _change(request, session, form="correct", done="punkt", typed=typed, action=action)


@router.post(BASE + "/buero", response_model=None, dependencies=CSRF)
def place_office(
    request: Request,
    location_id: Annotated[Key, Form()],
    lat: Lat,
    lon: Lon,
    user: User = PLANNER,
    session: Session = SessionDep,
) -> Response:
    """Place a Bürgeramt that has no coordinates of its own."""
    settings = request.app.state.settings
    typed = {"location_id": location_id, "lat": str(lat), "lon": str(lon)}

    def action() -> object:
        return inputs.place_office(
            session,
            settings=settings,
            location_id=location_id,
            lat=lat,
            lon=lon,
            user=user.username,
        )

    return _change(request, session, form="office", done="buero", typed=typed, action=action)


@router.post(BASE + "/kandidaten", response_model=None, dependencies=CSRF)
def add_candidate(
    request: Request,
    name: Annotated[Name, Form(min_length=1)],
    lat: Lat,
    lon: Lon,
    address: Annotated[ShortText, Form()] = "",
    cost_euros: Euros = None,
    user: User = PLANNER,
    session: Session = SessionDep,
) -> Response:
    """A candidate site: a name, coordinates, an address and a yearly fixed cost if known."""
    settings = request.app.state.settings
    typed = {"name": name, "lat": str(lat), "lon": str(lon), "address": address}
    typed["cost_euros"] = "" if cost_euros is None else str(cost_euros)
    cents = None if cost_euros is None else round(cost_euros * 100)

    def action() -> object:
        return inputs.add_candidate(
            session,
            settings=settings,
            name=name,
            lat=lat,
            lon=lon,
            address=address or None,
            fixed_cost_cents=cents,
            user=user.username,
        )

    return _change(request, session, form="candidates", done="kandidat", typed=typed, action=action)


@router.post(BASE + "/kandidaten/{site_id}/loeschen", response_model=None, dependencies=CSRF)
def delete_candidate(
    site_id: Key, request: Request, user: User = PLANNER, session: Session = SessionDep
) -> Response:
    """Delete a candidate (scenarios already computed keep their results)."""

    def action() -> object:
        inputs.delete_candidate(session, site_id=site_id, user=user.username)
        return None

    return _change(request, session, form="candidates", done="geloescht", typed={}, action=action)


async def _read(upload: UploadFile) -> bytes:
    raw = await upload.read(MAX_UPLOAD + 1)
    if len(raw) > MAX_UPLOAD:
        raise UploadTooLarge(N_("Die Datei ist zu groß (höchstens 5 MB)."))
    return raw


@router.post(BASE + "/gebiete", response_model=None, dependencies=CSRF)
async def import_layer(
    request: Request,
    file: UploadFile = File(...),
    user: User = PLANNER,
    session: Session = SessionDep,
) -> Response:
    """Import the official district layer (GeoJSON polygons): points and shading come from it."""
    return await _import(request, session, file, user, kind="layer")


@router.post(BASE + "/raster", response_model=None, dependencies=CSRF)
async def import_grid(
    request: Request,
    file: UploadFile = File(...),
    user: User = PLANNER,
    session: Session = SessionDep,
) -> Response:
    """Import a finer demand grid (CSV lat,lon,weight[,label]); it replaces the earlier grid."""
    return await _import(request, session, file, user, kind="grid")


async def _import(
    request: Request, session: Session, file: UploadFile, user: User, *, kind: str
) -> Response:
    settings = request.app.state.settings
    importer = inputs.import_district_layer if kind == "layer" else inputs.import_grid
    try:
        data = await _read(file)
        with session.begin_nested():
            report = importer(
                session,
                settings=settings,
                data=data,
                filename=(file.filename or "")[:200],
                user=user.username,
            )
    except ServicePointError as exc:
        message = error_text(exc, request.state.lang)
        form = "layer" if kind == "layer" else "grid"
        return _page(request, session, error=message, form=form, status_code=exc.status_code)
    return _page(request, session, report=report, report_kind=kind)
