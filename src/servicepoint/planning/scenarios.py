"""Planning scenarios: named runs saved with their inputs, progress and result.

A scenario is created `queued`; a job (planning.jobs) claims it and calls `run_scenario`, which
reads the demand and sites (planning.inputs), builds the distances, runs the kind's model
(planning.solver, coverage, evaluate) and stores the result JSON that pages and exports read
(its shape: planning.results). Services take `session` first and never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, defer

from servicepoint.account import service as account_service
from servicepoint.config import Settings
from servicepoint.core.clock import today_local
from servicepoint.core.i18n import N_
from servicepoint.errors import Conflict, NotFound
from servicepoint.planning import inputs, jobs, results
from servicepoint.planning.demand import SiteSet, WeightAdjuster
from servicepoint.planning.models import Scenario
from servicepoint.planning.schemas import CommonParams, InvalidScenario, parse_params

ProgressFn = Callable[[int, str], None]
MAX_COMPARED = 4
MAX_LISTED = 200


class ScenarioNotFound(NotFound):
    code = "scenario_not_found"


class ScenarioBusy(Conflict):
    """The scenario is not in the state the action needs (still running, not done yet)."""

    code = "scenario_busy"


def _name(name: str) -> str:
    text = " ".join(name.split())
    if not 1 <= len(text) <= 200:
        raise InvalidScenario(
            N_("Bitte geben Sie dem Szenario einen Namen (höchstens 200 Zeichen)."),
            fields={"name": N_("Angabe fehlt") if not text else N_("zu lang")},
        )
    return text


def _site_problem(sites: SiteSet, site_id: str, kind: str | None) -> str | None:
    """What is wrong with naming `site_id` (as an office or a candidate when `kind` says so)."""
    site = next((s for s in sites.sites if s.id == site_id), None)
    if site is None:
        return N_("Unbekannter Standort")
    if kind is not None and site.kind != kind:
        return N_("Kein Bürgeramt") if kind == "office" else N_("Kein Kandidat")
    if site.lat is None or site.lon is None:
        return N_("Standort ohne Koordinaten – bitte erst auf der Karte setzen")
    return None


def check_sites(sites: SiteSet, kind: str, params: CommonParams) -> None:
    """Every site the parameters name exists, has a point and fits its role; else 422."""
    named: list[tuple[str, str, str | None]] = []
    site_id = getattr(params, "site_id", None)
    if site_id is not None:
        named.append(("site_id", site_id, "office" if kind == "close" else "candidate"))
    named += [("fixed_open", s, None) for s in params.fixed_open]
    named += [("forced_closed", s, None) for s in params.forced_closed]
    fields: dict[str, str] = {}
    for field, value, role in named:
        problem = _site_problem(sites, value, role)
        if problem is not None:
            fields.setdefault(field, problem)
    p = getattr(params, "p", None)
    if p is not None and p > len(sites.placed()):
        fields["p"] = N_("Mehr Standorte verlangt, als Standorte mit Koordinaten bekannt sind")
    if fields:
        raise InvalidScenario(
            N_("Das Szenario nennt Standorte, die es so nicht gibt."), fields=fields
        )


def _check_method(settings: Settings, params: CommonParams) -> None:
    """Road distances need a routing server: without one the run could only fail later."""
    if params.method == "osrm" and not settings.planning_osrm_url:
        raise InvalidScenario(
            N_("Es ist kein Routing-Server eingestellt (planning_osrm_url)."),
            fields={"method": N_("Kein Routing-Server eingestellt")},
        )


def create_scenario(
    session: Session,
    *,
    name: str,
    kind: str,
    params: Mapping[str, object],
    user: str,
    settings: Settings | None = None,
) -> Scenario:
    """A named scenario, queued for the job runner. With `settings`, the named sites are checked
    now (422); otherwise when it runs (the scenario then fails with the same message)."""
    parsed = parse_params(kind, params)
    text = _name(name)
    if settings is not None:
        _check_method(settings, parsed)
        check_sites(inputs.site_set(session, settings=settings), kind, parsed)
    scenario = Scenario(
        name=text, kind=kind, params=parsed.model_dump(), status="queued", created_by=user
    )
    session.add(scenario)
    session.flush()
    account_service.audit(
        session,
        username=user,
        action="planning_scenario_create",
        target=str(scenario.id),
        detail={"kind": kind, "name": text},
    )
    return scenario


def get_scenario(session: Session, *, scenario_id: int) -> Scenario:
    scenario = session.get(Scenario, scenario_id)
    if scenario is None:
        raise ScenarioNotFound(N_("Dieses Szenario gibt es nicht (mehr)."))
    return scenario


def list_scenarios(session: Session, *, limit: int = MAX_LISTED) -> list[Scenario]:
    """The newest scenarios first; results and parameters (maps, polygons, a distance matrix:
    megabytes each) load only when one is read."""
    query = (
        select(Scenario)
        .options(defer(Scenario.result), defer(Scenario.params))
        .order_by(Scenario.created_at.desc(), Scenario.id.desc())
    )
    return list(session.scalars(query.limit(max(1, min(limit, MAX_LISTED)))))


def delete_scenario(session: Session, *, scenario_id: int, user: str) -> None:
    """Delete a scenario that is not running right now (its job would write into nothing)."""
    scenario = get_scenario(session, scenario_id=scenario_id)
    if scenario.status == "running":
        raise ScenarioBusy(N_("Das Szenario wird gerade berechnet; bitte warten Sie das Ende ab."))
    session.delete(scenario)
    session.flush()
    account_service.audit(
        session, username=user, action="planning_scenario_delete", target=str(scenario_id)
    )


def claim_next(session: Session) -> Scenario | None:
    """The oldest queued scenario, now running for this caller; None when none is queued.
    One conditional UPDATE decides, so two processes never claim the same one."""
    scenario_id = jobs.claim(session, Scenario)
    if scenario_id is None:
        return None
    return session.get(Scenario, scenario_id, populate_existing=True)


def compare(session: Session, *, ids: Sequence[int]) -> list[Scenario]:
    """Two to four finished scenarios, in the order asked for, for a side-by-side view."""
    unique = list(dict.fromkeys(ids))
    if not 2 <= len(unique) <= MAX_COMPARED:
        raise InvalidScenario(
            N_("Bitte wählen Sie zwei bis vier Szenarien zum Vergleich."),
            fields={"ids": N_("zwei bis vier Szenarien")},
        )
    scenarios = [get_scenario(session, scenario_id=i) for i in unique]
    for scenario in scenarios:
        if scenario.status != "done" or scenario.result is None:
            raise ScenarioBusy(
                N_("Szenario „%(name)s“ ist noch nicht fertig berechnet."), name=scenario.name
            )
    return scenarios


def network_result(
    session: Session,
    *,
    settings: Settings,
    kind: str,
    params: Mapping[str, object],
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """The result JSON of `kind` with `params`, computed now and stored nowhere (e.g. today's
    network: kind "evaluate")."""
    report = progress or _silent
    parsed = parse_params(kind, params)
    report(2, N_("Nachfrage und Standorte werden gelesen"))
    demand = inputs.demand_set(
        session,
        settings=settings,
        basis=parsed.basis,
        year=parsed.year,
        rate=parsed.rate,
        adjusters=_adjusters(session, settings, parsed),
    )
    sites = inputs.site_set(session, settings=settings)
    check_sites(sites, kind, parsed)
    report(6, N_("Entfernungen werden berechnet"))
    problem = results.problem(settings, demand, sites, parsed)
    outcome = results.solve(problem, kind, parsed, settings=settings, progress=report)
    report(95, N_("Ergebnis wird ausgewertet"))
    result = results.result_json(problem, outcome)
    # Pages say whether the weights were adjusted, and by what (None: population × rate).
    adjusted = parsed.adjust != "none"
    result["demand"]["adjusted_by"] = parsed.adjust if adjusted else None
    result["demand"]["adjust_days"] = parsed.adjust_days if adjusted else None
    return result


def _adjusters(session: Session, settings: Settings, params: CommonParams) -> list[WeightAdjuster]:
    """The weight adjusters the parameters ask for: the bookings of the last days, up to today."""
    if params.adjust != "bookings":
        return []
    until = today_local()
    since = until - dt.timedelta(days=params.adjust_days)
    return [inputs.booking_adjuster(session, settings=settings, since=since, until=until)]


def run_scenario(
    session: Session, *, scenario_id: int, settings: Settings, progress: ProgressFn
) -> None:
    """Compute a claimed scenario and store its result (the job runner marks it done). Nothing
    is written before the result: progress goes through transactions of its own meanwhile."""
    scenario = get_scenario(session, scenario_id=scenario_id)
    result = network_result(
        session, settings=settings, kind=scenario.kind, params=scenario.params, progress=progress
    )
    # Only while the row is still running: a run that fail_stale gave up meanwhile (a slow
    # routing server, a stalled disk) keeps its failure and gets no result after it.
    stored = session.execute(
        update(Scenario)
        .where(Scenario.id == scenario_id, Scenario.status == "running")
        .values(result=result)
        .execution_options(synchronize_session=False)
    )
    if getattr(stored, "rowcount", 0) != 1:
        raise ScenarioBusy(N_("Das Szenario läuft nicht mehr; das Ergebnis wird verworfen."))


def _silent(_percent: int, _note: str) -> None:
    return None
