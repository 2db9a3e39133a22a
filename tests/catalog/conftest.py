"""Catalog fixtures: a valid service record to build broken variants from, and test services."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.datafile import ServiceFile
from servicepoint.catalog.models import Service
from tests.conftest import login, make_user

ServiceDict = Callable[..., dict[str, Any]]


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


@pytest.fixture
def admin(client: TestClient, session: Session) -> TestClient:
    """A client logged in as an admin, for the location and import pages."""
    make_user(session, "admin1", "admin")
    login(client, "admin1")
    return client
