"""`servicepoint plan evaluate | scenario | jobs` against a committed database (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from servicepoint.cli import app
from servicepoint.planning.models import Scenario

runner = CliRunner()


@pytest.fixture
def env(real_engine: Engine) -> dict[str, str]:
    with Session(real_engine) as session:
        session.execute(delete(Scenario))
        session.commit()
    return {
        "SERVICEPOINT_DATABASE_URL": real_engine.url.render_as_string(hide_password=False),
        "SERVICEPOINT_REDIS_URL": "",
        "SERVICEPOINT_PLANNING_TIME_LIMIT_SECONDS": "30",
    }


def plan(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["plan", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_evaluate_prints_today_as_json_and_for_people(env: dict[str, str]) -> None:
    code, out, _ = plan(env, "evaluate", "--json")
    assert code == 0
    result = json.loads(out)
    assert set(result["metrics"]) == {"mean_km", "p95_km", "max_km", "within", "covered_share"}
    assert result["metrics"] == result["baseline"]
    code, out, _ = plan(env, "evaluate")
    assert code == 0 and "Mittel" in out and "Am schlechtesten versorgt" in out


def test_evaluate_can_adjust_by_bookings(env: dict[str, str]) -> None:
    code, out, err = plan(env, "evaluate", "--adjust", "bookings", "--adjust-days", "60", "--json")
    assert code == 0, err
    demand = json.loads(out)["demand"]
    assert (demand["adjusted_by"], demand["adjust_days"]) == ("bookings", 60)
    code, _, err = plan(env, "evaluate", "--adjust", "umfrage")
    assert code != 0 and "adjust" in err


def test_scenario_runs_now_and_is_saved(env: dict[str, str], real_engine: Engine) -> None:
    code, out, err = plan(env, "scenario", "pmedian", "--name", "Drei", "--p", "3", "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert answer["status"] == "done"
    assert sum(s["open"] for s in answer["result"]["sites"]) == 3
    with Session(real_engine) as session:
        saved = session.get(Scenario, answer["id"])
        assert saved is not None and saved.status == "done" and saved.name == "Drei"
        assert saved.created_by == "cli" and saved.progress == 100


def test_scenario_input_errors_are_clear(env: dict[str, str], real_engine: Engine) -> None:
    code, _, err = plan(env, "scenario", "pmedian", "--name", "Null", "--p", "0")
    assert code == 2 and "p:" in err
    code, _, err = plan(env, "scenario", "close", "--name", "Aegi", "--site", "aegi")
    assert code == 2 and "site_id" in err and "Koordinaten" in err
    code, _, err = plan(env, "scenario", "teleport", "--name", "X")
    assert code == 2 and "Unbekannte Art" in err
    with Session(real_engine) as session:
        assert session.scalars(select(Scenario)).all() == []  # nothing half-saved


def test_jobs_runs_what_is_queued(env: dict[str, str], real_engine: Engine) -> None:
    with Session(real_engine) as session:
        queued = Scenario(name="Heute", kind="evaluate", params={}, created_by="planer")
        session.add(queued)
        session.commit()
        job_id = queued.id
    code, out, _ = plan(env, "jobs")
    assert code == 0 and "1 Planungsaufträge bearbeitet" in out
    with Session(real_engine) as session:
        scenario = session.get(Scenario, job_id)
        assert scenario is not None and scenario.status == "done" and scenario.result
    code, out, _ = plan(env, "jobs")
    assert code == 0 and "0 Planungsaufträge" in out


def test_the_progress_bar_follows_the_job() -> None:
    from servicepoint.planning import cli

    with cli._bar(True) as echo:
        assert echo is not None
        echo(40, "Optimierung läuft")
        echo(95, "Ergebnis wird ausgewertet")
    with cli._bar(False) as silent:
        assert silent is None


def test_a_missing_matrix_file_is_a_clear_error(env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "nirgends.csv"
    code, _, err = plan(
        env, "scenario", "evaluate", "--name", "M", "--method", "matrix", "--matrix", str(missing)
    )
    assert code == 2 and "nirgends.csv" in err
