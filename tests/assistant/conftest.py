"""Assistant fixtures: real transaction isolation, the catalog's search index and service views,
and a fake OpenAI-compatible server on loopback for the optional rephrasing."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from servicepoint.app import create_app
from servicepoint.catalog import present
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.schemas import ServiceDetail
from servicepoint.catalog.search import SearchIndex
from servicepoint.config import DATA_ROOT, Settings
from servicepoint.core.city import elsewhere_words, place_names


@pytest.fixture
def index(session: Session) -> SearchIndex:
    """The search index over the real seeded catalog, with the city's place names as the
    running assistant has them."""
    city = DATA_ROOT / "hannover"
    return catalog_service.search_index(session, place_names(city), elsewhere_words(city))


@pytest.fixture
def names(session: Session) -> dict[str, str]:
    """Service id → canonical German name."""
    return {svc.id: svc.name_de for svc in catalog_service.list_services(session)}


DetailOf = Callable[..., ServiceDetail]


@pytest.fixture
def detail_of(session: Session) -> DetailOf:
    """A real catalog service as the language-specific view the assistant composes from."""

    def build(service_id: str, lang: str = "de") -> ServiceDetail:
        svc = catalog_service.get_service(session, service_id=service_id)
        return present.service_detail(svc, base="http://testserver", lang=lang)

    return build


# -- a fake OpenAI-compatible model server ----------------------------------------------------
Answer = Callable[[dict[str, Any]], tuple[int, bytes]]


def chat_completion(content: str) -> tuple[int, bytes]:
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
    }
    return 200, json.dumps(body).encode()


@dataclass
class FakeLLM:
    """Answers POST /v1/chat/completions with whatever `answer` returns for the request body."""

    url: str
    answer: Answer = field(default=lambda req: chat_completion("unused"))
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def user_text(self, n: int = -1) -> str:
        """The grounded answer the assistant sent to be rephrased."""
        return str(self.requests[n]["messages"][-1]["content"])


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is expected here


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            raw = self.rfile.read(length)
            fake.paths.append(self.path)
            fake.headers.append({k.lower(): v for k, v in self.headers.items()})
            payload: dict[str, Any] = json.loads(raw)
            fake.requests.append(payload)
            if fake.delay:
                time.sleep(fake.delay)
            status, body = (
                fake.answer(payload) if self.path == "/v1/chat/completions" else (404, b"{}")
            )
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = _QuietServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-llm", daemon=True
    )
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def llm_app(
    settings: Settings, session_factory: sessionmaker[Session], fake_llm: FakeLLM
) -> Iterator[FastAPI]:
    """The app as conftest's `app` builds it, with rephrasing pointed at the fake server."""
    configured = settings.model_copy(
        update={
            "assistant_llm_url": f"{fake_llm.url}/v1",
            "assistant_llm_model": "city-model",
            "assistant_llm_api_key": "test-key",
            "assistant_llm_timeout": 0.5,
        }
    )
    application = create_app(configured)
    application.state.sessionmaker = session_factory
    yield application
    application.state.engine.dispose()


@pytest.fixture
def llm_client(llm_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(llm_app, base_url="http://testserver") as c:
        yield c
