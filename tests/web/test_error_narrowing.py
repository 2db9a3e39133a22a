"""Only database range and encoding errors are the client's mistake (400, logged as errors);
any other OverflowError or DataError is a server bug and answers 500."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from servicepoint.core.db import SessionDep


class _OtherDataError(Exception):
    sqlstate = "22012"  # division by zero: a bug in a query, not a value the client sent


@pytest.fixture
def faulty(app: FastAPI) -> FastAPI:
    @app.get("/api/test-range")
    def too_large(session: Session = SessionDep) -> int:
        return int(session.scalar(text("SELECT CAST(:v AS INTEGER)"), {"v": 10**20}) or 0)

    @app.get("/api/test-overflow")
    def overflow() -> float:
        return 10.0**400  # a server bug: Python's own OverflowError

    @app.get("/api/test-data-error")
    def data_error() -> None:
        raise DataError("SELECT 1/0", {}, _OtherDataError())

    return app


def test_a_value_the_database_cannot_hold_is_a_400_logged_as_error(
    faulty: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(faulty) as c, caplog.at_level(logging.ERROR, logger="servicepoint"):
        resp = c.get("/api/test-range")
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_input"
    assert any(r.levelno == logging.ERROR and "out of range" in r.message for r in caplog.records)


@pytest.mark.parametrize("path", ["/api/test-overflow", "/api/test-data-error"])
def test_other_overflow_and_data_errors_are_server_errors(faulty: FastAPI, path: str) -> None:
    with TestClient(faulty, raise_server_exceptions=False) as c:
        resp = c.get(path)
    assert resp.status_code == 500 and resp.json()["error"] == "internal_error"
