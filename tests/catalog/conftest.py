"""Catalog fixtures: a valid service record to build broken variants from, and test services."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from argon2 import PasswordHasher
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from servicepoint.account import service as account_service
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.datafile import ServiceFile
from servicepoint.catalog.models import Service

ServiceDict = Callable[..., dict[str, Any]]

# Production argon2 cost (~0.25 s per hash or check) would make admin tests slow; they need the
# same algorithm and code path, not the same cost (tests/account checks the real cost).
_FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(account_service, "_HASHER", _FAST_HASHER)
    monkeypatch.setattr(account_service, "_DUMMY_HASH", _FAST_HASHER.hash("not-a-real-password"))


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """Like the root fixture, but with a real BEGIN on SQLite.

    pysqlite opens no transaction for `conn.begin()`, so the session's first SAVEPOINT is the
    outermost one and releasing it (every `session.commit()` in a test or request) COMMITS to the
    shared test database. An explicit BEGIN keeps the work inside the rolled-back transaction.
    """
    with engine.connect() as conn:
        outer = conn.begin()
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")
        yield conn
        if outer.is_active:
            outer.rollback()


_BASE: dict[str, Any] = {
    "id": "testleistung",
    "slug": "testleistung-beantragen",
    "name": {"de": "Testleistung beantragen", "en": "Apply for the test service"},
    "summary": {"de": "Eine Leistung nur für Tests.", "en": "A service for tests only."},
    "keywords": {"de": ["Testwort"], "en": ["test word"]},
    "documents": [{"text": {"de": "Gültiger Ausweis", "en": "Valid ID"}}],
    "channels": ["appointment"],
    "appointment_minutes": 15,
    "responsible": {"name": {"de": "Testamt", "en": "Test office"}, "phone": "0511 000"},
}

_TUTORIAL: dict[str, Any] = {
    "title": {"de": "So geht es online", "en": "How to do it online"},
    "duration_minutes": 10,
    "prerequisites": [{"de": "Online-Ausweis mit PIN", "en": "Online ID with PIN"}],
    "steps": [
        {
            "title": {"de": "Portal öffnen", "en": "Open the portal"},
            "text": {"de": "Öffnen Sie das Portal der Stadt.", "en": "Open the city portal."},
        },
        {
            "title": {"de": "Ausweisen", "en": "Identify yourself"},
            "text": {"de": "Halten Sie den Ausweis ans Handy.", "en": "Hold your ID to the phone."},
        },
        {
            "title": {"de": "Absenden", "en": "Submit"},
            "text": {"de": "Prüfen und absenden.", "en": "Check and submit."},
        },
    ],
    "afterwards": {
        "de": "Sie erhalten den Bescheid per Post.",
        "en": "You receive the decision by post.",
    },
}


def make_service_dict(**overrides: Any) -> dict[str, Any]:
    """A valid service data-file record; keyword arguments replace top-level fields.

    `online=True` adds the online channel with its url and tutorial; `fees=True` adds two fees
    with their 'Stand' date.
    """
    data = copy.deepcopy(_BASE)
    if overrides.pop("online", False):
        data["channels"] = ["online", "appointment"]
        data["online_url"] = "https://example.org/online/testleistung"
        data["tutorial"] = copy.deepcopy(_TUTORIAL)
    if overrides.pop("fees", False):
        data["fees"] = [
            {
                "label": {"de": "Gebühr", "en": "Fee"},
                "amount_cents": 4600,
                "condition": {"de": "ab 24 Jahren", "en": "aged 24 or older"},
                "source": "https://example.org/gebuehren",
            },
            {
                "label": {"de": "Gebühr", "en": "Fee"},
                "amount_cents": 2760,
                "condition": {"de": "unter 24 Jahren", "en": "under 24"},
                "source": "https://example.org/gebuehren",
            },
        ]
        data["fees_as_of"] = "2026-02-07"
    data.update(overrides)
    return data


@pytest.fixture
def service_dict() -> ServiceDict:
    return make_service_dict


def write_service(folder: Path, data: dict[str, Any], name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name or data.get('slug', 'service')}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def add_service(session: Session, **overrides: Any) -> Service:
    """Upsert a test service into the (rolled-back) test database and make it visible to the app."""
    record = ServiceFile.model_validate(make_service_dict(**overrides))
    svc, _ = catalog_service.upsert_service(session, record=record)
    session.commit()  # releases the test's savepoint only; the outer transaction is rolled back
    return svc
