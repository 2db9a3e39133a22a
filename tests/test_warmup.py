"""Start-up warm-up (issue 14): the first search after a start must not build the index."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from servicepoint.catalog import service as catalog_service


def test_the_indexes_are_built_at_start_up_not_by_the_first_request(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[int] = []
    real_build = catalog_service.build_index

    def counting(*args: Any, **kwargs: Any) -> Any:
        builds.append(1)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(catalog_service, "_INDEXES", {})
    monkeypatch.setattr(catalog_service, "build_index", counting)
    with TestClient(app) as client:
        assert len(builds) == 2, "start-up builds the site search's and the assistant's index"
        assert client.get("/suche", params={"q": "Reisepass"}).status_code == 200
        answer = client.post("/api/assistant/ask", json={"message": "Reisepass beantragen"})
        assert answer.status_code == 200
    assert len(builds) == 2, "a request built an index after start-up"


def test_start_up_survives_a_database_without_tables(tmp_path: Any) -> None:
    from servicepoint.app import create_app
    from servicepoint.config import Settings

    empty = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", redis_url=None))
    with TestClient(empty) as client:
        assert client.get("/sprache/en", follow_redirects=False).status_code == 303
