"""Optional rephrasing by an OpenAI-compatible model: used only when it adds and drops no fact;
any failure of the endpoint leaves the grounded answer standing."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from servicepoint.assistant.rephrase import Rephraser, facts, is_faithful
from tests.assistant.conftest import FakeLLM, chat_completion

ASK = "/api/assistant/ask"
QUESTION = "Was kostet ein Personalausweis?"


def ask(client: TestClient, message: str = QUESTION, **extra: Any) -> dict[str, Any]:
    resp = client.post(ASK, json={"message": message, **extra})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def grounded(client: TestClient, message: str = QUESTION) -> str:
    """The answer without any model (the app of conftest's `client` has no endpoint set)."""
    return str(ask(client, message)["reply"])


def friendly(req: dict[str, Any]) -> tuple[int, bytes]:
    """A faithful rewording: other words, the same numbers, amounts and dates."""
    text = str(req["messages"][-1]["content"])
    return chat_completion("Gern helfe ich weiter! " + text.replace("Gebühren:", "Das kostet:"))


# -- the fact guard (pure) -------------------------------------------------------------------


def test_facts_are_numbers_amounts_dates_links_and_addresses() -> None:
    text = "Gebühr 46,00 € (Stand: 25.11.2026), Infos: https://example.org/a. Mail: a@b.de"
    assert facts(text) == {"46,00", "25.11.2026", "https://example.org/a", "a@b.de"}


@pytest.mark.parametrize(
    ("candidate", "faithful"),
    [
        ("Das kostet 46,00 €, Stand 25.11.2026.", True),
        ("Stand 25.11.2026: der Ausweis kostet 46,00 Euro.", True),
        ("Das kostet 46,00 €, Stand 25.11.2026, Bearbeitung 3 Wochen.", False),  # adds
        ("Das kostet 46,00 €.", False),  # drops the date
        ("Das kostet 64,00 €, Stand 25.11.2026.", False),  # changes an amount
        ("Das kostet 46,00 €, Stand 25.11.2026, siehe https://evil.example", False),
        ("   ", False),
    ],
)
def test_is_faithful(candidate: str, faithful: bool) -> None:
    original = "Gebühren: Personalausweis: 46,00 €. Stand: 25.11.2026."
    assert is_faithful(original, candidate) is faithful


# -- through the API, against a fake server on loopback --------------------------------------


def test_without_the_setting_there_is_no_rephrasing(app: FastAPI, llm_app: FastAPI) -> None:
    assert app.state.rephraser is None
    assert isinstance(llm_app.state.rephraser, Rephraser)


def test_a_faithful_rephrasing_is_used(
    llm_client: TestClient, client: TestClient, fake_llm: FakeLLM
) -> None:
    fake_llm.answer = friendly
    body = ask(llm_client)
    original = grounded(client)
    assert fake_llm.user_text() == original
    assert body["reply"] == "Gern helfe ich weiter! " + original.replace("Gebühren:", "Das kostet:")
    assert "46,00 €" in body["reply"]
    # Only the wording changed: service and links are the grounded ones.
    assert body["service"]["id"] == "personalausweis"
    assert [a["type"] for a in body["actions"]] == ["book_appointment"]


def test_the_request_is_an_openai_chat_completion(
    llm_client: TestClient, fake_llm: FakeLLM
) -> None:
    fake_llm.answer = friendly
    ask(llm_client, "How much does an ID card cost?")
    assert fake_llm.paths == ["/v1/chat/completions"]
    req = fake_llm.requests[0]
    assert req["model"] == "city-model"
    assert [m["role"] for m in req["messages"]] == ["system", "user"]
    assert "English" in req["messages"][0]["content"]  # the prompt follows the reply's language
    assert "€46.00" in req["messages"][1]["content"]
    assert fake_llm.headers[0]["authorization"] == "Bearer test-key"
    assert fake_llm.headers[0]["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: t + " Die Bearbeitung dauert 3 Wochen.", id="adds-a-number"),
        pytest.param(lambda t: t + " Express kostet 32,00 € extra.", id="adds-an-amount"),
        pytest.param(lambda t: t.replace("46,00", "36,00"), id="changes-an-amount"),
        pytest.param(lambda t: re.sub(r"Personalausweis: 46,00 € \([^;]*\); ", "", t), id="drops"),
        pytest.param(lambda t: re.sub(r"Stand: [\d.]+\.", "", t), id="drops-the-date"),
        pytest.param(lambda t: t + " Mehr: https://example.com/antrag", id="adds-a-link"),
        pytest.param(lambda t: "", id="empty"),
    ],
)
def test_an_unfaithful_rephrasing_is_rejected(
    llm_client: TestClient, client: TestClient, fake_llm: FakeLLM, mangle: Any
) -> None:
    fake_llm.answer = lambda req: chat_completion(mangle(str(req["messages"][-1]["content"])))
    body = ask(llm_client)
    assert len(fake_llm.requests) == 1
    assert body["reply"] == grounded(client)
    assert body["reply"] == fake_llm.user_text()


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(lambda req: (500, b'{"error": "overloaded"}'), id="server-error"),
        pytest.param(lambda req: (429, b'{"error": "rate limited"}'), id="rate-limited"),
        pytest.param(lambda req: (200, b"this is not json"), id="bad-json"),
        pytest.param(lambda req: (200, b'{"choices": []}'), id="no-choices"),
        pytest.param(lambda req: (200, b'{"choices": [{"message": {}}]}'), id="no-content"),
        pytest.param(lambda req: (200, json.dumps({"choices": "x"}).encode()), id="wrong-shape"),
        pytest.param(lambda req: (200, b"[1, 2, 3]"), id="a-list"),
    ],
)
def test_endpoint_failures_leave_the_grounded_answer(
    llm_client: TestClient, client: TestClient, fake_llm: FakeLLM, answer: Any
) -> None:
    fake_llm.answer = answer
    body = ask(llm_client)
    assert len(fake_llm.requests) == 1
    assert body["reply"] == grounded(client)
    assert body["service"]["id"] == "personalausweis"


def test_a_slow_endpoint_times_out_to_the_grounded_answer(
    llm_client: TestClient, client: TestClient, fake_llm: FakeLLM
) -> None:
    fake_llm.answer = friendly
    fake_llm.delay = 2.0  # the app waits 0.5 s
    started = time.monotonic()
    body = ask(llm_client)
    assert time.monotonic() - started < 1.8
    assert body["reply"] == grounded(client)


def test_an_unreachable_endpoint_leaves_the_grounded_answer(client: TestClient) -> None:
    rephrase = Rephraser("http://127.0.0.1:9/v1", "m", None, 0.5)  # discard port: refused
    assert rephrase("Gebühren: 46,00 €.", "de") == "Gebühren: 46,00 €."


def test_only_answers_are_rephrased(llm_client: TestClient, fake_llm: FakeLLM) -> None:
    fake_llm.answer = lambda req: chat_completion("Sonnig, 25 Grad!")
    body = ask(llm_client, "Wie wird das Wetter morgen?")
    assert body["service"] is None
    assert fake_llm.requests == []  # nothing to ground a rephrasing on
    ask(llm_client, "Hallo")
    assert fake_llm.requests == []
