"""Per-client limits group IPv6 addresses by their /64, which one household or server holds
whole; an IPv4 address mapped into IPv6 counts as that IPv4 address."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from servicepoint.app import create_app
from servicepoint.config import Settings
from servicepoint.core.security import client_key


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:192.0.2.9", "192.0.2.9"),
        ("192.0.2.9", "192.0.2.9"),
        ("testclient", "testclient"),
    ],
)
def test_the_client_key(host: str, key: str) -> None:
    assert client_key(host) == key


def _ticket_from(app: FastAPI, host: str) -> int:
    with TestClient(app, client=(host, 40000)) as c:
        return c.post("/api/tickets", json={"location_id": "aegi"}).status_code


def test_rotating_addresses_inside_one_64_does_not_escape_the_limit(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    app = create_app(settings.model_copy(update={"api_rate_limit": 2}))
    app.state.sessionmaker = session_factory
    codes = [_ticket_from(app, f"2001:db8:5:6::{n + 1:x}") for n in range(4)]
    assert 429 not in codes[:2] and codes[2:] == [429, 429]
    assert _ticket_from(app, "2001:db8:5:7::1") != 429  # the next /64 is another client
    app.state.engine.dispose()
