"""Planning scenarios: bounded parameters, named sites checked, saved, listed, compared, deleted,
and run by the job runner into the result JSON (the contract with pages and exports), on
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from servicepoint.account.models import AuditEntry
from servicepoint.config import Settings
from servicepoint.core.i18n import translate
from servicepoint.planning import coverage, inputs, jobs, results, scenarios
from servicepoint.planning.models import Scenario
from servicepoint.planning.schemas import InvalidScenario

RESULT_KEYS = [
    "demand",
    "distance",
    "sites",
    "points",
    "metrics",
    "baseline",
    "curve",
    "gains",
    "losses",
    "solver",
]
POINT_KEYS = {
    "id",
    "name",
    "borough",
    "lat",
    "lon",
    "precision",
    "population",
    "weight",
    "site",
    "km",
    "before_km",
    "geometry",
}
SITE_KEYS = {"id", "name", "kind", "lat", "lon", "precision", "open", "fixed_cost_cents"}
METRIC_KEYS = {"mean_km", "p95_km", "max_km", "within", "covered_share"}
CURVE_KEYS = {"k", "objective", "mean_km", "max_km", "optimal", "sites"}
# Synthetic test points inside the planning box (not real addresses).
CANDIDATES = {"Kandidat Nord": (52.42, 9.72), "Kandidat Mitte": (52.375, 9.74)}


def fields_of(kind: str, params: dict[str, Any], session: Session, settings: Settings) -> set[str]:
    with pytest.raises(InvalidScenario) as caught:
        scenarios.create_scenario(
            session, name="X", kind=kind, params=params, user="planer", settings=settings
        )
    assert caught.value.status_code == 422
    return set(caught.value.fields)


def add_candidates(session: Session, settings: Settings) -> list[str]:
    ids = []
    for name, (lat, lon) in CANDIDATES.items():
        site = inputs.add_candidate(
            session,
            settings=settings,
            name=name,
            lat=lat,
            lon=lon,
            address=None,
            fixed_cost_cents=100_000,
            user="planer",
        )
        ids.append(site.id)
    session.flush()
    return ids


def test_parameters_are_bounded_and_named(session: Session, settings: Settings) -> None:
    assert fields_of("nonsense", {}, session, settings) == {"kind"}
    assert fields_of("pmedian", {"p": 0}, session, settings) == {"p"}
    assert fields_of("pmedian", {"p": 10**9}, session, settings) == {"p"}
    assert fields_of("pmedian", {"p": "viele"}, session, settings) == {"p"}
    assert fields_of("cover", {"radius_km": -1, "share": 2}, session, settings) == {
        "radius_km",
        "share",
    }
    assert fields_of("tradeoff", {"k_min": 9, "k_max": 5}, session, settings) == {"k_max"}
    assert fields_of("evaluate", {"colour": "red"}, session, settings) == {"colour"}
    assert fields_of("evaluate", {"method": "matrix"}, session, settings) == {"matrix_csv"}
    assert fields_of("evaluate", {"year": "2099"}, session, settings) == {"year"}


def test_named_sites_must_exist_have_a_point_and_fit(session: Session, settings: Settings) -> None:
    (candidate, _) = add_candidates(session, settings)
    assert fields_of("close", {"site_id": "nirgendwo"}, session, settings) == {"site_id"}
    assert fields_of("close", {"site_id": candidate}, session, settings) == {"site_id"}
    assert fields_of("add", {"site_id": "bemerode"}, session, settings) == {"site_id"}
    # Aegi has no coordinates (the data folder has none): named, refused, not guessed.
    assert fields_of("close", {"site_id": "aegi"}, session, settings) == {"site_id"}
    both = {"fixed_open": ["bemerode"], "forced_closed": ["bemerode"]}
    assert fields_of("evaluate", both, session, settings) == {"forced_closed"}
    assert fields_of("pmedian", {"p": 50}, session, settings) == {"p"}


def test_a_name_is_required(session: Session, settings: Settings) -> None:
    with pytest.raises(InvalidScenario) as caught:
        scenarios.create_scenario(session, name="   ", kind="evaluate", params={}, user="planer")
    assert set(caught.value.fields) == {"name"}


def test_create_list_get_delete(session: Session, settings: Settings) -> None:
    first = scenarios.create_scenario(
        session, name="  Heute  ", kind="evaluate", params={}, user="planer", settings=settings
    )
    second = scenarios.create_scenario(
        session, name="Fünf", kind="pmedian", params={"p": 3}, user="planer"
    )
    assert first.status == "queued" and first.name == "Heute"
    assert second.params["p"] == 3 and second.params["method"] == "great_circle"
    listed = [s.id for s in scenarios.list_scenarios(session)]
    assert listed.index(second.id) < listed.index(first.id)  # newest first
    audited = session.scalars(
        select(AuditEntry.action).where(AuditEntry.target == str(first.id))
    ).all()
    assert "planning_scenario_create" in audited
    scenarios.delete_scenario(session, scenario_id=first.id, user="planer")
    with pytest.raises(scenarios.ScenarioNotFound):
        scenarios.get_scenario(session, scenario_id=first.id)
    second.status = "running"
    with pytest.raises(scenarios.ScenarioBusy):
        scenarios.delete_scenario(session, scenario_id=second.id, user="planer")


def test_claim_next_and_compare_rules(session: Session) -> None:
    made = [
        scenarios.create_scenario(session, name=n, kind="evaluate", params={}, user="planer")
        for n in ("A", "B")
    ]
    claimed = scenarios.claim_next(session)
    assert claimed is not None and claimed.id == made[0].id and claimed.status == "running"
    assert claimed.started_at is not None
    with pytest.raises(InvalidScenario):
        scenarios.compare(session, ids=[made[0].id])
    with pytest.raises(scenarios.ScenarioBusy):
        scenarios.compare(session, ids=[made[0].id, made[1].id])
    with pytest.raises(scenarios.ScenarioNotFound):
        scenarios.compare(session, ids=[made[0].id, 2_000_000_000])
    for scenario in made:
        scenario.status, scenario.result = "done", {"metrics": {}}
    assert [s.id for s in scenarios.compare(session, ids=[made[1].id, made[0].id])] == [
        made[1].id,
        made[0].id,
    ]


# --- runs through the job runner ----------------------------------------------------------


def run(
    session: Session,
    factory: sessionmaker[Session],
    settings: Settings,
    kind: str,
    params: dict[str, Any],
) -> Scenario:
    scenario = scenarios.create_scenario(
        session, name=kind, kind=kind, params=params, user="planer", settings=settings
    )
    session.commit()
    assert jobs.run_pending(factory, settings) == 1
    session.expire_all()
    return scenarios.get_scenario(session, scenario_id=scenario.id)


def check_contract(result: dict[str, Any]) -> None:
    assert list(result) == RESULT_KEYS
    assert set(result["demand"]) == {
        "basis",
        "year",
        "rate",
        "total_weight",
        "approximate_share",
        "missing_share",
        "issues",
        "adjusted_by",
        "adjust_days",
    }
    assert set(result["distance"]) == {"method", "detour"}
    assert all(set(s) == SITE_KEYS for s in result["sites"])
    assert all(set(p) == POINT_KEYS for p in result["points"])
    assert set(result["metrics"]) == METRIC_KEYS
    assert result["baseline"] is None or set(result["baseline"]) == METRIC_KEYS
    assert all(set(row) == CURVE_KEYS for row in result["curve"])
    for change in result["gains"] + result["losses"]:
        assert set(change) == {"id", "name", "before_km", "after_km"}
    assert set(result["solver"]) == {"model", "optimal", "gap", "seconds"}


def test_today_is_evaluated_honestly(session: Session, settings: Settings) -> None:
    result = scenarios.network_result(session, settings=settings, kind="evaluate", params={})
    check_contract(result)
    assert result["metrics"] == result["baseline"]
    assert set(result["metrics"]["within"]) == {"1", "2", "3"}
    assert result["distance"] == {"method": "great_circle", "detour": 1.3}
    # Every Stadtteil is listed; those without any point have no site and no km.
    missing = [p for p in result["points"] if p["precision"] == "missing"]
    assert missing and all(p["site"] is None and p["km"] is None for p in missing)
    assert result["demand"]["missing_share"] > 0 and result["demand"]["approximate_share"] > 0
    unplaced = {s["id"] for s in result["sites"] if s["lat"] is None}
    assert "aegi" in unplaced and not any(s["open"] for s in result["sites"] if s["lat"] is None)
    assert {i["kind"] for i in result["demand"]["issues"]} >= {"unplaced_site"}
    assert result["gains"] == [] and result["losses"] == []


def test_close_and_add_change_the_network(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    candidates = add_candidates(session, settings)
    closed = run(session, session_factory, settings, "close", {"site_id": "sahlkamp"})
    assert closed.status == "done", closed.error
    result = closed.result or {}
    check_contract(result)
    assert not next(s for s in result["sites"] if s["id"] == "sahlkamp")["open"]
    assert result["losses"] and not result["gains"]
    assert result["metrics"]["mean_km"] >= result["baseline"]["mean_km"]
    added = run(session, session_factory, settings, "add", {"site_id": candidates[1]})
    assert added.status == "done", added.error
    assert added.result and added.result["gains"] and not added.result["losses"]


def test_the_models_run_to_a_result(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    add_candidates(session, settings)
    runs: list[tuple[str, dict[str, Any]]] = [
        ("pmedian", {"p": 3}),
        ("mclp", {"p": 3, "radius_km": 3}),
        ("cover", {"radius_km": 6, "share": 0.9}),
        ("tradeoff", {"k_min": 2, "k_max": 4}),
        ("balanced", {"p": 3}),
    ]
    for kind, params in runs:
        scenario = run(session, session_factory, settings, kind, params)
        assert scenario.status == "done", (kind, scenario.error)
        result = scenario.result or {}
        check_contract(result)
        opened = [s for s in result["sites"] if s["open"]]
        if "p" in params:
            assert len(opened) == params["p"], kind
        if kind == "tradeoff":
            assert [row["k"] for row in result["curve"]] == [2, 3, 4]
        if kind in ("mclp", "cover"):
            assert result["metrics"]["covered_share"] is not None
        if kind == "cover":
            assert result["metrics"]["covered_share"] >= 0.9
        assert result["solver"]["model"] in ("pmedian", "mclp", "lscp", "tradeoff", "balanced")


def test_a_site_that_lost_its_point_fails_the_run_clearly(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    # Queued without settings (not checked yet); at run time the unplaced office is refused.
    scenario = scenarios.create_scenario(
        session, name="Aegi zu", kind="close", params={"site_id": "aegi"}, user="planer"
    )
    session.commit()
    assert jobs.run_pending(session_factory, settings) == 1
    session.expire_all()
    failed = scenarios.get_scenario(session, scenario_id=scenario.id)
    assert failed.status == "failed" and failed.result is None
    assert jobs.failure_text(failed.error) == (
        "Das Szenario nennt Standorte, die es so nicht gibt. "
        "(site_id: Standort ohne Koordinaten – bitte erst auf der Karte setzen)"
    )
    english = jobs.failure_text(failed.error, lambda msgid: translate("en", msgid))
    assert "Standort" not in english and "site_id: " in english


def test_osrm_needs_a_routing_server(session: Session, settings: Settings) -> None:
    assert settings.planning_osrm_url is None
    assert fields_of("pmedian", {"p": 3, "method": "osrm"}, session, settings) == {"method"}


def test_a_run_given_up_as_stale_gets_no_result(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    scenario = scenarios.create_scenario(
        session, name="heute", kind="evaluate", params={}, user="planer", settings=settings
    )
    session.commit()
    kind = jobs.registry()["scenario"]
    with session_factory.begin() as other:
        assert jobs.claim(other, Scenario) == scenario.id

    def given_up(s: Session, job_id: int, cfg: Settings, progress: jobs.ProgressFn) -> None:
        # fail_stale ends the row while the run is still computing (another transaction).
        with session_factory.begin() as meanwhile:
            meanwhile.execute(
                update(Scenario).where(Scenario.id == job_id).values(status="failed", error="x")
            )
        scenarios.run_scenario(s, scenario_id=job_id, settings=cfg, progress=progress)

    assert not jobs.run_claimed(
        session_factory, settings, jobs.JobKind(kind.model, given_up), scenario.id
    )
    session.expire_all()
    ended = scenarios.get_scenario(session, scenario_id=scenario.id)
    assert (ended.status, ended.result) == ("failed", None)


def test_balanced_reports_its_real_time(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    solve = coverage.solve_balanced

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.05)
        return solve(*args, **kwargs)

    monkeypatch.setattr(coverage, "solve_balanced", slow)
    scenario = run(session, session_factory, settings, "balanced", {"p": 3})
    assert scenario.status == "done", scenario.error
    assert (scenario.result or {})["solver"]["seconds"] >= 0.05


def test_a_result_with_a_non_finite_number_is_refused() -> None:
    assert results.checked_finite({"a": [1.0, {"b": 2}]}) == {"a": [1.0, {"b": 2}]}
    with pytest.raises(InvalidScenario) as caught:
        results.checked_finite({"metrics": {"mean_km": 1.0, "within": [0.5, float("nan")]}})
    assert caught.value.status_code == 422
    assert "metrics.within.1" in str(caught.value)
    with pytest.raises(InvalidScenario):
        results.checked_finite({"x": float("inf")})


def test_booking_statistics_can_adjust_a_scenarios_weights(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[dt.date, dt.date]] = []
    real = inputs.booking_adjuster

    def count(_session: Session, *, since: dt.date, until: dt.date) -> dict[str, int]:
        asked.append((since, until))
        return {"sahlkamp": 300, "bemerode": 100}

    def adjuster(s: Session, **given: Any) -> Any:
        return real(s, count=count, **given)

    monkeypatch.setattr(inputs, "booking_adjuster", adjuster)
    plain = scenarios.network_result(session, settings=settings, kind="evaluate", params={})
    assert plain["demand"]["adjusted_by"] is None and not asked
    params = {"adjust": "bookings", "adjust_days": 90}
    moved = scenarios.network_result(session, settings=settings, kind="evaluate", params=params)
    check_contract(moved)
    assert (moved["demand"]["adjusted_by"], moved["demand"]["adjust_days"]) == ("bookings", 90)
    assert len(asked) == 1 and (asked[0][1] - asked[0][0]).days == 90
    weights = {p["id"]: p["weight"] for p in plain["points"]}
    assert any(p["weight"] != weights[p["id"]] for p in moved["points"])


def test_the_adjustment_is_bounded(session: Session, settings: Settings) -> None:
    for params in ({"adjust": "umfrage"}, {"adjust": "bookings", "adjust_days": 6}):
        assert fields_of("evaluate", params, session, settings) <= {"adjust", "adjust_days"}
    assert fields_of("evaluate", {"adjust_days": 731}, session, settings) == {"adjust_days"}
