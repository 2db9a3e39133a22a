"""The planners' pages: today's network (/planung), scenarios with their live progress, results,
exports and a side-by-side comparison. The data pages (demand points, sites, imports) are in
planning.data_pages and come in through this router.

Every page needs the planner role (admins pass); every form posts with the CSRF token; answers
are private (no-store, set by the account dependency). A scenario is computed by the job runner,
never in the request: the page polls a small fragment for its progress (HTMX, role=status).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session, defer
from starlette.datastructures import UploadFile

from servicepoint.account.deps import require
from servicepoint.account.models import User
from servicepoint.core.city import city_facts
from servicepoint.core.db import SessionDep
from servicepoint.core.downloads import file_download
from servicepoint.core.i18n import N_, error_text, translate
from servicepoint.core.inputs import Id
from servicepoint.core.security import csrf_protect
from servicepoint.core.templating import render
from servicepoint.errors import ServicePointError, Unprocessable
from servicepoint.planning import data_pages, exports, inputs, jobs, page_view, scenarios
from servicepoint.planning import service as planning_service
from servicepoint.planning.charts import number
from servicepoint.planning.models import Scenario
from servicepoint.planning.schemas import KINDS, MAX_MATRIX_CSV

router = APIRouter(include_in_schema=False)
router.include_router(data_pages.router)
BASE = "/planung/szenarien"
PLANNER = Depends(require("planner"))
CSRF = [Depends(csrf_protect)]
OkKey = Annotated[str, Query(max_length=20)]
CompareIds = Annotated[list[Id], Query(max_length=scenarios.MAX_COMPARED)]
# Fields a scenario form may send besides the kind's own (the schema refuses unknown ones).
LIST_FIELDS = ("fixed_open", "forced_closed")
TEXT_FIELDS = (
    *("basis", "year", "rate", "detour", "method", "adjust", "adjust_days"),
    *("k_min", "k_max", "site_id", "radius_km", "p"),
)
DONE = {"geloescht": N_("Das Szenario ist gelöscht.")}
# HTMX stops polling when a fragment answers with this status (the run is over).
STOP_POLLING = 286


class MatrixTooLarge(Unprocessable):
    code = "matrix_too_large"


def center(request: Request) -> list[float]:
    """The map's centre from the city's facts (only for the first view; the map fits its data)."""
    return list(city_facts(request.app.state.settings.city_dir).get("center") or [51.0, 10.0])


def _helpers(lang: str) -> dict[str, Any]:
    return {
        "kind_text": lambda kind: page_view.kind_text(kind, lang),
        "status_text": lambda status: page_view.status_text(status, lang),
        "failure_text": lambda stored: jobs.failure_text(stored, lambda m: translate(lang, m)),
    }


# -- today's network -----------------------------------------------------------------------------
@router.get("/planung", response_class=HTMLResponse)
def planner_home(
    request: Request, user: User = PLANNER, session: Session = SessionDep
) -> HTMLResponse:
    """Today's network: map, metrics, worst-served districts and the data's issues."""
    settings, lang = request.app.state.settings, request.state.lang
    overview = planning_service.demand_overview(settings.city_dir)
    context: dict[str, Any] = {"districts": overview.districts, "bars": overview.bars}
    try:
        result = scenarios.network_result(session, settings=settings, kind="evaluate", params={})
    except ServicePointError as exc:
        context.update(today=None, today_error=error_text(exc, lang))
    else:
        view = page_view.result_view(result, lang=lang, center=center(request), key="today")
        context.update(today=view, today_error="")
    return render(request, "planning/home.html", context)


# -- scenarios -----------------------------------------------------------------------------------
def _scenarios_page(
    request: Request,
    session: Session,
    *,
    done: str = "",
    error: str = "",
    error_kind: str = "",
    field_errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    typed_lists: dict[str, list[str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    settings, lang = request.app.state.settings, request.state.lang
    sites = inputs.site_set(session, settings=settings).sites
    context = {
        "scenarios": scenarios.list_scenarios(session),
        "kinds": [k for k in KINDS if k != "evaluate"],
        "sites": sites,
        "offices": [s for s in sites if s.kind == "office"],
        "candidates": [s for s in sites if s.kind == "candidate"],
        "done": done,
        "error": error,
        "error_kind": error_kind,
        "field_errors": field_errors or {},
        "typed": typed or {},
        "typed_lists": typed_lists or {},
        **_helpers(lang),
    }
    return render(request, "planning/scenarios.html", context, status_code=status_code)


@router.get(BASE, response_class=HTMLResponse)
def scenario_list(
    request: Request, ok: OkKey = "", user: User = PLANNER, session: Session = SessionDep
) -> HTMLResponse:
    """Saved scenarios (newest first) and a form for each kind of scenario."""
    done = translate(request.state.lang, DONE[ok]) if ok in DONE else ""
    return _scenarios_page(request, session, done=done)


async def _matrix(value: object) -> str | None:
    """The uploaded distance matrix as text, bounded; None when no file was chosen."""
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    raw = await value.read(MAX_MATRIX_CSV + 1)
    if len(raw) > MAX_MATRIX_CSV:
        raise MatrixTooLarge(N_("Die Matrix-Datei ist zu groß (höchstens 2 MB)."))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MatrixTooLarge(N_("Die Datei muss UTF-8-kodiert sein.")) from exc


def scenario_params(form: Any, matrix: str | None) -> dict[str, object]:
    """The kind's parameters from the form's fields (empty ones left to the defaults)."""
    params: dict[str, object] = {}
    for field in TEXT_FIELDS:
        value = str(form.get(field) or "").strip()
        if value:
            params[field] = value
    share = str(form.get("share_percent") or "").strip()
    if share:
        try:
            params["share"] = float(share.replace(",", ".")) / 100
        except ValueError:
            params["share"] = share  # the schema names it as not a number
    for field in LIST_FIELDS:
        params[field] = [str(v) for v in form.getlist(field)]  # the schema bounds the count
    if matrix is not None:
        params["matrix_csv"] = matrix
    return params


@router.post(BASE, response_model=None, dependencies=CSRF)
async def create(request: Request, user: User = PLANNER, session: Session = SessionDep) -> Response:
    """Save a scenario and queue it for the job runner; then its page shows the progress."""
    form = await request.form()
    kind = str(form.get("kind") or "")[:20]
    name = str(form.get("name") or "")
    typed = {k: str(form.get(k) or "")[:300] for k in (*TEXT_FIELDS, "share_percent")}
    typed["name"] = name[:300]
    typed_lists = {k: [str(v)[:64] for v in form.getlist(k)][:200] for k in LIST_FIELDS}
    settings = request.app.state.settings
    try:
        with session.begin_nested():
            params = scenario_params(form, await _matrix(form.get("matrix")))
            scenario = scenarios.create_scenario(
                session, name=name, kind=kind, params=params, user=user.username, settings=settings
            )
    except ServicePointError as exc:
        lang = request.state.lang
        fields = {k: _field_text(v, lang) for k, v in (getattr(exc, "fields", None) or {}).items()}
        if "share" in fields:
            fields["share_percent"] = fields["share"]
        return _scenarios_page(
            request,
            session,
            error=error_text(exc, lang),
            error_kind=kind,
            field_errors=fields,
            typed=typed,
            typed_lists=typed_lists,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"{BASE}/{scenario.id}", status_code=303)


def _field_text(message: object, lang: str) -> str:
    if isinstance(message, tuple):
        text, params = message
        return translate(lang, str(text)) % dict(params)
    return translate(lang, str(message))


# The exports are registered before /{scenario_id}, which would otherwise catch "7.csv".
@router.get(BASE + "/{scenario_id}.csv")
def export_csv(scenario_id: Id, user: User = PLANNER, session: Session = SessionDep) -> Response:
    """A finished scenario, one row per demand point (with how exact its point is)."""
    scenario = _finished(session, scenario_id)
    data = exports.scenario_csv(scenario).encode("utf-8-sig")
    return file_download(data, filename=_filename(scenario, "csv"), content_type="text/csv")


@router.get(BASE + "/{scenario_id}.geojson")
def export_geojson(
    scenario_id: Id, user: User = PLANNER, session: Session = SessionDep
) -> Response:
    """A finished scenario as GeoJSON: demand points or areas with their distance, and sites."""
    scenario = _finished(session, scenario_id)
    data = json.dumps(exports.scenario_geojson(scenario), ensure_ascii=False).encode()
    filename = _filename(scenario, "geojson")
    return file_download(data, filename=filename, content_type="application/geo+json")


def _finished(session: Session, scenario_id: int) -> Scenario:
    scenario = scenarios.get_scenario(session, scenario_id=scenario_id)
    if scenario.status != "done" or scenario.result is None:
        raise scenarios.ScenarioBusy(N_("Das Szenario ist noch nicht fertig berechnet."))
    return scenario


def _filename(scenario: Scenario, ext: str) -> str:
    stem = "".join(ch if ch.isalnum() else "-" for ch in scenario.name).strip("-")[:60]
    return f"szenario-{scenario.id}-{stem or 'ergebnis'}.{ext}"


@router.get(BASE + "/{scenario_id}/fortschritt", response_class=HTMLResponse)
def progress(
    scenario_id: Id, request: Request, user: User = PLANNER, session: Session = SessionDep
) -> HTMLResponse:
    """The run's state as a fragment; once it is over, HTMX is told to stop polling."""
    scenario = _status_only(session, scenario_id)
    context = {"scenario": scenario, **_helpers(request.state.lang)}
    context["note"] = _note(scenario, request.state.lang)
    over = scenario.status in ("done", "failed")
    page = render(request, "planning/_progress.html", context, STOP_POLLING if over else 200)
    return page


def _status_only(session: Session, scenario_id: int) -> Scenario:
    """The scenario without its result and parameters (megabytes of polygons, a matrix): the
    progress fragment is polled every 2 s and shows only the state."""
    options = [defer(Scenario.result), defer(Scenario.params)]
    scenario = session.get(Scenario, scenario_id, options=options)
    if scenario is None:
        raise scenarios.ScenarioNotFound(N_("Dieses Szenario gibt es nicht (mehr)."))
    return scenario


def _note(scenario: Scenario, lang: str) -> str:
    return translate(lang, scenario.progress_note) if scenario.progress_note else ""


@router.get(BASE + "/{scenario_id}", response_class=HTMLResponse)
def scenario_page(
    scenario_id: Id, request: Request, user: User = PLANNER, session: Session = SessionDep
) -> HTMLResponse:
    """One scenario: its settings, its live progress, then map, charts, gains and losses."""
    lang = request.state.lang
    scenario = scenarios.get_scenario(session, scenario_id=scenario_id)
    view = None
    if scenario.status == "done" and scenario.result is not None:
        view = page_view.result_view(scenario.result, lang=lang, center=center(request), key="s")
    solver = dict((scenario.result or {}).get("solver") or {})
    if solver:
        solver["seconds_text"] = number(solver.get("seconds"), lang, 1)
    names = {
        s.id: s.name for s in inputs.site_set(session, settings=request.app.state.settings).sites
    }
    names.update(
        {str(s.get("id")): str(s.get("name")) for s in (scenario.result or {}).get("sites") or ()}
    )
    params = page_view.param_rows(scenario.params or {}, site_names=names, lang=lang)
    context = {
        "scenario": scenario,
        "view": view,
        "solver": solver,
        "params": params,
        "polling": scenario.status in ("queued", "running"),
        "note": _note(scenario, lang),
        **_helpers(lang),
    }
    return render(request, "planning/scenario.html", context)


@router.post(BASE + "/{scenario_id}/loeschen", dependencies=CSRF)
def delete(
    scenario_id: Id, user: User = PLANNER, session: Session = SessionDep
) -> RedirectResponse:
    """Delete a scenario (not while it runs)."""
    scenarios.delete_scenario(session, scenario_id=scenario_id, user=user.username)
    return RedirectResponse(f"{BASE}?ok=geloescht", status_code=303)


# -- comparison ----------------------------------------------------------------------------------
@router.get("/planung/vergleich", response_class=HTMLResponse)
def compare(
    request: Request,
    ids: CompareIds = [],  # noqa: B006 - FastAPI copies defaults
    user: User = PLANNER,
    session: Session = SessionDep,
) -> HTMLResponse:
    """Two to four finished scenarios side by side: metrics, maps, charts."""
    lang = request.state.lang
    choices = [s for s in scenarios.list_scenarios(session) if s.status == "done"]
    context: dict[str, Any] = {"choices": choices, "chosen_ids": ids, "columns": [], "error": ""}
    context.update(_helpers(lang))
    if not ids:
        return render(request, "planning/compare.html", context)
    try:
        chosen = scenarios.compare(session, ids=ids)
    except ServicePointError as exc:  # the choice again, with the reason beside it
        context["error"] = error_text(exc, lang)
        return render(request, "planning/compare.html", context, status_code=exc.status_code)
    columns = [_column(s, lang, center(request), i) for i, s in enumerate(chosen)]
    table = page_view.compare_table([c["view"] for c in columns], lang=lang)
    context.update(columns=columns, table=table)
    return render(request, "planning/compare.html", context)


def _column(scenario: Scenario, lang: str, middle: list[float], index: int) -> dict[str, Any]:
    result = scenario.result or {}
    view = page_view.result_view(result, lang=lang, center=middle, key=f"c{index}")
    open_sites = [s.get("name") for s in result.get("sites") or () if s.get("open")]
    return {"scenario": scenario, "view": view, "open_sites": open_sites}
