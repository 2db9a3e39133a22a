"""`servicepoint ask "..."`: the assistant on the command line, `--json` prints the API object."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from servicepoint.cli import app
from servicepoint.cli_support import upgrade
from servicepoint.config import DATA_ROOT
from servicepoint.core.db import make_engine
from servicepoint.seeding import seed_city

CONTRACT = {"conversation_id", "lang", "reply", "confidence", "service", "actions"}


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('cli')) / 'cli.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        seed_city(session, folder=DATA_ROOT / "hannover")
        session.commit()
    engine.dispose()
    yield url


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SERVICEPOINT_DATABASE_URL", database_url)
    monkeypatch.setenv("SERVICEPOINT_BASE_URL", "http://127.0.0.1:8000")
    for name in ("ASSISTANT_LLM_URL", "ASSISTANT_LLM_API_KEY", "REDIS_URL", "DATA_DIR", "CITY"):
        monkeypatch.delenv(f"SERVICEPOINT_{name}", raising=False)
    return CliRunner()


def ask_json(runner: CliRunner, *args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["ask", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_ask_json_prints_the_api_object(runner: CliRunner) -> None:
    data = ask_json(runner, "Was kostet ein Reisepass?")
    assert set(data) >= CONTRACT
    assert data["lang"] == "de"
    assert data["service"] == {
        "id": "reisepass",
        "name": "Reisepass beantragen",
        "url": "http://127.0.0.1:8000/leistungen/reisepass-beantragen",
    }
    assert data["reply"].startswith("Reisepass beantragen: Gebühren:")
    assert "70,00 €" in data["reply"]
    assert 0.7 <= data["confidence"] <= 1.0
    assert data["actions"][0]["type"] == "book_appointment"
    assert all(set(a) == {"type", "label", "url"} for a in data["actions"])


def test_ask_json_follow_up_and_language(runner: CliRunner) -> None:
    first = ask_json(runner, "Was kostet ein Reisepass?")
    second = ask_json(runner, "und für Kinder?", "--conversation", first["conversation_id"])
    assert second["conversation_id"] == first["conversation_id"]
    assert second["service"]["id"] == "reisepass"
    assert "37,50 €" in second["reply"] and "70,00 €" not in second["reply"]
    english = ask_json(runner, "Was kostet ein Reisepass?", "--lang", "en")
    assert english["lang"] == "en"
    assert "€70.00" in english["reply"]


def test_ask_json_out_of_scope(runner: CliRunner) -> None:
    data = ask_json(runner, "Wie wird das Wetter morgen?")
    assert data["service"] is None
    assert any(a["type"] == "handover" and a["url"] == "tel:051116832000" for a in data["actions"])


def test_ask_prints_reply_and_links_for_people(runner: CliRunner) -> None:
    result = runner.invoke(app, ["ask", "Ich brauche ein Führungszeugnis"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Führungszeugnis beantragen:" in out
    assert "online_service" in out and "https://www.fuehrungszeugnis.bund.de" in out
    assert "confidence" in out


@pytest.mark.parametrize("message", ["", "   ", "x" * 1001])
def test_ask_rejects_empty_or_overlong(runner: CliRunner, message: str) -> None:
    result = runner.invoke(app, ["ask", message, "--json"])
    assert result.exit_code == 2
    assert "1 to 1000 characters" in result.output
