"""The client's address: X-Forwarded-For counts only when a configured proxy sent it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from servicepoint import cli
from servicepoint.app import create_app
from servicepoint.config import Settings
from tests.conftest import csrf_of

LOOPBACK = ("127.0.0.1", 40000)
PROXY = ("10.0.0.5", 40000)


def _app(settings: Settings, factory: sessionmaker[Session], **update: Any) -> FastAPI:
    application = create_app(settings.model_copy(update={"api_rate_limit": 2, **update}))
    application.state.sessionmaker = factory
    return application


@pytest.fixture
def direct(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """No proxy configured; the request comes from loopback, which uvicorn trusted by default."""
    application = _app(settings, session_factory)
    with TestClient(application, client=LOOPBACK) as c:
        yield c
    application.state.engine.dispose()


@pytest.fixture
def proxied(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The city's reverse proxy is named in SERVICEPOINT_TRUSTED_PROXIES (here as a CIDR)."""
    application = _app(settings, session_factory, trusted_proxies=["10.0.0.0/24"])
    with TestClient(application, client=PROXY) as c:
        yield c
    application.state.engine.dispose()


def _ticket(client: TestClient, forwarded_for: str) -> int:
    resp = client.post(
        "/api/tickets", json={"location_id": "aegi"}, headers={"x-forwarded-for": forwarded_for}
    )
    return resp.status_code


def test_rotating_forwarded_for_from_an_untrusted_peer_does_not_escape_the_limit(
    direct: TestClient,
) -> None:
    codes = [_ticket(direct, f"198.51.100.{n}") for n in range(4)]
    assert codes[:2] != [429, 429] and codes[2:] == [429, 429]


def test_rotating_forwarded_for_escapes_neither_the_booking_nor_the_login_limit(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    application = _app(settings, session_factory, booking_rate_limit=1, login_max_attempts=2)
    booking = {"service_ids": ["x"], "location_id": "aegi", "start": "2026-12-15T09:00:00+01:00"}
    booking |= {"name": "Erika Mustermann", "email": "erika@example.org"}
    login = {"username": "nobody", "password": "wrong-password", "next": "/mitarbeiter"}
    with TestClient(application, client=LOOPBACK) as c:
        books = [
            c.post(
                "/api/appointments", json=booking, headers={"x-forwarded-for": f"198.51.100.{n}"}
            )
            for n in range(2)
        ]
        logins = []
        for n in range(3):
            token = csrf_of(c)
            headers = {"x-forwarded-for": f"203.0.113.{n}"}
            form = login | {"csrf_token": token}
            logins.append(c.post("/mitarbeiter/login", data=form, headers=headers).status_code)
    application.state.engine.dispose()
    assert books[0].status_code != 429 and books[1].status_code == 429
    assert logins == [401, 401, 429]


def test_a_configured_proxy_passes_on_the_real_client_address(proxied: TestClient) -> None:
    codes = [_ticket(proxied, f"198.51.100.{n}") for n in range(4)]
    assert 429 not in codes
    # The same citizen behind the proxy is still limited, whatever a client prepended.
    same = [_ticket(proxied, f"203.0.113.{n}, 198.51.100.77") for n in range(3)]
    assert same[-1] == 429


def test_a_configured_proxy_tells_the_scheme(proxied: TestClient) -> None:
    resp = proxied.get("/mitarbeiter/login", headers={"x-forwarded-proto": "https"})
    assert resp.status_code == 200
    assert "secure" in resp.headers["set-cookie"].lower()


def test_trusted_proxies_come_comma_separated_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SERVICEPOINT_TRUSTED_PROXIES", "10.0.0.1, 10.1.0.0/16")
    assert Settings().trusted_proxies == ["10.0.0.1", "10.1.0.0/16"]
    monkeypatch.setenv("SERVICEPOINT_TRUSTED_PROXIES", "10.0.0.300")
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.delenv("SERVICEPOINT_TRUSTED_PROXIES")
    assert Settings().trusted_proxies == []


def test_serve_leaves_forwarded_headers_to_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(cli.uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    cli.serve(host="127.0.0.1", port=8000, workers=1)
    assert seen["proxy_headers"] is False
