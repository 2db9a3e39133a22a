"""Bad input on every kind of route is a clear 4xx in the request's language, never a 500, never
a hang and never stored: NUL and invisible characters, huge and negative ids, deep JSON, dates in
year 1 or 9999. Runs on SQLite and PostgreSQL (the `client` fixture covers both)."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.appointment.models import Closure
from servicepoint.assistant.models import CallbackRequest
from tests.conftest import csrf_of, login, make_user

BAD_TEXTS = {
    "nul": "a\x00b",
    "escape": "a\x1bb",
    "bidi_override": "abc\u202egpj.exe",
    "zero_width_space": "Bürger\u200bamt",
    "bom": "\ufeffname",
    "c1_control": "a\x85b",
}
HUGE = {"1e20": "100000000000000000000", "2^63": str(2**63), "negative": "-1", "zero": "0"}
TOMORROW = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(microsecond=0)


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


# -- anonymous routes: the text in the URL -------------------------------------------------------
GET_ROUTES = [
    "/api/appointments/slots?service={}",
    "/api/appointments/slots?service=personalausweis&location={}",
    "/api/services?q={}",
    "/api/services/{}",
    "/api/locations/{}",
    "/api/locations/{}/waiting",
    "/api/appointments/{}",
    "/api/appointments/{}/ics",
    "/api/tickets/{}",
    "/api/applications/{}",
    "/api/applications/{}/document",
    "/termine?service={}",
    "/termine?service=personalausweis&district={}",
    "/termine?service=personalausweis&location={}",
    "/termine/buchen?service=personalausweis&location={}&start=2030-01-07T09:00:00%2B01:00",
    "/termine/{}",
    "/termine/{}/verschieben",
    "/suche?q={}",
    "/leistungen/{}",
    "/standorte/{}",
    "/standorte/{}/kiosk",
    "/standorte/{}/aufruf",
    "/wartenummer/{}",
    "/sprache/en?next=/{}",
    "/mitarbeiter/login?next=/{}",
    "/?anything={}",
]


def _is_clear_rejection(resp: Any, *, lang: str = "de") -> None:
    assert resp.status_code == 422, (resp.status_code, resp.text[:300])
    expected = {
        "de": "enthält unerlaubte Steuer- oder Sonderzeichen",
        "en": "contains forbidden control or invisible characters",
    }[lang]
    if resp.headers["content-type"].startswith("application/json"):
        body = resp.json()
        assert set(body) - {"fields"} == {"error", "detail"}
        assert body["error"] == "invalid_input"
        assert expected in body["detail"]
    else:
        assert resp.headers["content-type"].startswith("text/html")
        assert expected in resp.text
        assert 'role="alert"' in resp.text


@pytest.mark.parametrize("bad", BAD_TEXTS.values(), ids=BAD_TEXTS.keys())
@pytest.mark.parametrize("route", GET_ROUTES)
def test_forbidden_characters_in_the_url_are_a_422(
    client: TestClient, route: str, bad: str
) -> None:
    _is_clear_rejection(client.get(route.format(_q(bad))))


@pytest.mark.parametrize("route", ["/api/services?q={}&lang=en", "/suche?q={}&lang=en"])
def test_the_rejection_speaks_the_requests_language(client: TestClient, route: str) -> None:
    _is_clear_rejection(client.get(route.format(_q("a\x00b"))), lang="en")


# -- anonymous routes: JSON bodies ---------------------------------------------------------------
def _booking(**change: Any) -> dict[str, Any]:
    body = {
        "service_ids": ["personalausweis"],
        "location_id": "aegi",
        "start": TOMORROW.isoformat(),
        "name": "Erika Mustermann",
        "email": "erika@example.org",
    }
    return body | change


def _application(**change: Any) -> dict[str, Any]:
    return {"service_id": "meldebescheinigung", "applicant": {}, "data": {}} | change


JSON_POSTS = [
    ("/api/appointments", lambda bad: _booking(name=bad)),
    ("/api/appointments", lambda bad: _booking(service_ids=[bad])),
    ("/api/appointments", lambda bad: _booking(**{bad: "x"})),
    ("/api/tickets", lambda bad: {"location_id": bad}),
    ("/api/tickets", lambda bad: {"location_id": "aegi", "service_id": bad}),
    ("/api/assistant/ask", lambda bad: {"message": f"Reisepass {bad}"}),
    ("/api/assistant/ask", lambda bad: {"message": "Reisepass", "conversation_id": bad}),
    ("/api/assistant/feedback", lambda bad: {"conversation_id": bad, "message_id": "m"}),
    ("/api/appointments/ABCD1234/reschedule", lambda bad: {"start": "x", "location_id": bad}),
    ("/api/applications", lambda bad: _application(applicant={"given_name": bad})),
    ("/api/applications", lambda bad: _application(data={"kind": bad})),
    ("/api/applications", lambda bad: _application(data={bad: "x"})),
    ("/api/applications", lambda bad: _application(data={"kind": [bad]})),
]


@pytest.mark.parametrize("bad", BAD_TEXTS.values(), ids=BAD_TEXTS.keys())
@pytest.mark.parametrize(("route", "body"), JSON_POSTS)
def test_forbidden_characters_in_json_are_a_422(
    client: TestClient, route: str, body: Any, bad: str
) -> None:
    _is_clear_rejection(client.post(route, json=body(bad)))


def test_a_lone_surrogate_escape_in_json_is_a_422(client: TestClient) -> None:
    raw = b'{"message": "Reisepass \\ud800"}'
    resp = client.post(
        "/api/assistant/ask", content=raw, headers={"content-type": "application/json"}
    )
    _is_clear_rejection(resp)


@pytest.mark.parametrize(
    "route", ["/api/appointments", "/api/tickets", "/api/assistant/ask", "/api/applications"]
)
def test_deeply_nested_json_is_a_422_before_parsing(client: TestClient, route: str) -> None:
    raw = b'{"message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    resp = client.post(route, content=raw, headers={"content-type": "application/json"})
    assert resp.status_code == 422, resp.text
    assert resp.json() == {
        "error": "invalid_input",
        "detail": "Ungültige Eingabe – body: zu tief verschachtelt",
    }


def test_a_number_with_thousands_of_digits_in_json_is_a_422(client: TestClient) -> None:
    raw = b'{"location_id": "aegi", "service_id": ' + b"9" * 5000 + b"}"
    resp = client.post("/api/tickets", content=raw, headers={"content-type": "application/json"})
    assert resp.status_code == 422, resp.text


# -- anonymous routes: forms ---------------------------------------------------------------------
FORM_POSTS = [
    ("/termine/buchen", "name"),
    ("/termine/buchen", "email"),
    ("/standorte/aegi/kiosk", "service"),
    ("/standorte/aegi/kiosk/anmelden", "code"),
    ("/rueckruf", "name"),
    ("/rueckruf", "topic"),
    ("/rueckruf", "phone"),
    ("/assistent", "message"),
    ("/mitarbeiter/login", "username"),
    ("/termine/ABCD1234/verschieben", "location"),
]


@pytest.mark.parametrize("bad", BAD_TEXTS.values(), ids=BAD_TEXTS.keys())
@pytest.mark.parametrize(("route", "field"), FORM_POSTS)
def test_forbidden_characters_in_forms_are_a_422(
    client: TestClient, route: str, field: str, bad: str
) -> None:
    data = {"csrf_token": csrf_of(client), field: bad}
    _is_clear_rejection(client.post(route, data=data, follow_redirects=False))


@pytest.mark.parametrize(("route", "field"), FORM_POSTS[:5])
def test_forbidden_characters_in_multipart_forms_are_a_422(
    client: TestClient, route: str, field: str
) -> None:
    data = {"csrf_token": csrf_of(client), field: "a\x00b"}
    resp = client.post(route, data=data, files={"extra": ("x.txt", b"x")}, follow_redirects=False)
    _is_clear_rejection(resp)


def test_nothing_of_a_rejected_callback_is_stored(client: TestClient, session: Session) -> None:
    data = {"csrf_token": csrf_of(client), "name": "Eve\u202e", "topic": "Pass", "phone": "0511 1"}
    _is_clear_rejection(client.post("/rueckruf", data=data, follow_redirects=False))
    assert session.scalars(select(CallbackRequest)).all() == []


LEGIT_NAMES = [
    "Jürgen Groß",
    "Ömer Şahin-Özdemir",
    "محمد العلي",
    "Юлия Иванова",
    "Ζωή Παπαδοπούλου",
    "Familie 👨\u200d👩\u200d👧",  # the zero-width joiner builds one emoji
    "مهرداد\u200cی",  # the zero-width non-joiner shapes Persian words
]


@pytest.mark.parametrize("name", LEGIT_NAMES)
def test_legitimate_text_passes_and_is_stored_normalised(
    client: TestClient, session: Session, name: str
) -> None:
    decomposed = "  " + unicodedata.normalize("NFD", name) + " "
    data = {
        "csrf_token": csrf_of(client),
        "name": decomposed,
        "topic": "Reisepass verloren.\nWas nun?",
        "phone": "+49 511 1234567",
    }
    resp = client.post("/rueckruf", data=data, follow_redirects=False)
    assert resp.status_code == 303, resp.text[:300]
    stored = session.scalars(select(CallbackRequest)).one()
    assert stored.name == unicodedata.normalize("NFC", name)


# -- staff routes: ids, counters, numbers --------------------------------------------------------
@pytest.fixture
def admin(client: TestClient, session: Session) -> TestClient:
    make_user(session, "h1admin", "admin")
    login(client, "h1admin")
    return client


@pytest.mark.parametrize("number", HUGE.values(), ids=HUGE.keys())
def test_counter_console_with_an_unbounded_counter_is_a_422(admin: TestClient, number: str) -> None:
    """It used to build a list of 10^20 counters: a pinned core and 18 MB/s until the crash."""
    resp = admin.get(f"/mitarbeiter/schalter/aegi/{number}")
    assert resp.status_code == 422, resp.text[:300]
    assert "counter" in resp.text


def test_counter_beyond_the_bound_is_a_422(admin: TestClient) -> None:
    assert admin.get("/mitarbeiter/schalter/aegi/100").status_code == 422
    assert admin.get("/mitarbeiter/schalter/aegi/99").status_code == 200


def _staff_forms(number: str) -> list[tuple[str, dict[str, str]]]:
    return [
        ("/mitarbeiter/schalter/aegi/1", {"action": "done", "ticket_id": number}),
        (
            "/mitarbeiter/schalter/aegi/1",
            {"action": "transfer", "ticket_id": "1", "target_counter": number},
        ),
        (f"/mitarbeiter/schalter/aegi/{number}", {"action": "next"}),
        (f"/mitarbeiter/assistent/{number}", {"action": "dismiss"}),
        (f"/mitarbeiter/rueckrufe/{number}", {}),
        (f"/verwaltung/kapazitaet/aegi/schliessung/{number}/loeschen", {}),
    ]


@pytest.mark.parametrize("index", range(6))
@pytest.mark.parametrize("number", HUGE.values(), ids=HUGE.keys())
def test_staff_forms_with_huge_or_negative_ids_are_a_422(
    admin: TestClient, number: str, index: int
) -> None:
    route, data = _staff_forms(number)[index]
    resp = admin.post(route, data={"csrf_token": csrf_of(admin), **data}, follow_redirects=False)
    assert resp.status_code == 422, (route, resp.status_code, resp.text[:300])


@pytest.mark.parametrize(
    "route",
    [
        "/leistungen/reisepass-beantragen/anleitung?schritt={}",
        "/api/appointments/slots?service=personalausweis&limit={}",
    ],
)
@pytest.mark.parametrize("number", ["100000000000000000000", str(2**63), "-1"])
def test_huge_pages_and_counts_are_a_422(client: TestClient, route: str, number: str) -> None:
    assert client.get(route.format(number)).status_code == 422


# -- dates -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1900-01-01", "2200-06-01"])
def test_closures_outside_the_planning_window_are_refused_and_not_stored(
    admin: TestClient, session: Session, day: str
) -> None:
    resp = admin.post(
        "/verwaltung/kapazitaet/aegi/schliessung",
        data={"csrf_token": csrf_of(admin), "day": day, "reason": "Schulung"},
        follow_redirects=False,
    )
    assert resp.status_code == 422, resp.text[:300]
    assert "Datum außerhalb des erlaubten Zeitraums" in resp.text
    assert session.scalars(select(Closure).where(Closure.location_id == "aegi")).all() == []


def test_a_closure_in_the_window_is_stored(admin: TestClient, session: Session) -> None:
    day = dt.date.today() + dt.timedelta(days=30)
    resp = admin.post(
        "/verwaltung/kapazitaet/aegi/schliessung",
        data={"csrf_token": csrf_of(admin), "day": day.isoformat(), "reason": " Schulung\u0308 "},
        follow_redirects=False,
    )
    assert resp.status_code == 303, resp.text[:300]
    stored = session.scalars(select(Closure).where(Closure.location_id == "aegi")).one()
    assert stored.day == day


@pytest.mark.parametrize(
    "route",
    [
        "/api/appointments/slots?service=personalausweis&date_from={}",
        "/api/appointments/slots?service=personalausweis&date_to={}",
        "/termine?service=personalausweis&date_from={}",
        "/termine/buchen?service=personalausweis&location=aegi&start={}T09:00:00",
    ],
)
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_dates_in_year_1_or_9999_are_a_422(client: TestClient, route: str, day: str) -> None:
    resp = client.get(route.format(day))
    assert resp.status_code == 422, resp.text[:300]


@pytest.mark.parametrize("start", ["9999-12-31T23:59:00+01:00", "0001-01-01T00:00:00+00:00"])
def test_a_booking_in_year_1_or_9999_is_a_422(client: TestClient, start: str) -> None:
    resp = client.post("/api/appointments", json=_booking(start=start))
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"] == "invalid_input"


# -- the location import and the admin edit --------------------------------------------------------
def _import(admin: TestClient, name: str, content: bytes) -> Any:
    data = {"csrf_token": csrf_of(admin), "source": "Amtliche Liste 2026"}
    files = {"file": (name, content, "text/plain")}
    return admin.post("/verwaltung/standorte/import", data=data, files=files)


def _location_name(client: TestClient, location_id: str = "bemerode") -> str:
    return str(client.get(f"/api/locations/{location_id}").json()["name"])


def test_deeply_nested_geojson_is_refused_with_a_clear_message(admin: TestClient) -> None:
    deep = b'{"type": "FeatureCollection", "features": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    resp = _import(admin, "standorte.geojson", deep)
    assert resp.status_code == 400, resp.text[:300]
    assert "zu tief verschachtelt" in resp.text


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://evil.example","Klick")', "+1+1", "-2+3", "@SUM(A1)"]
)
def test_imported_names_may_not_look_like_formulas(admin: TestClient, name: str) -> None:
    before = _location_name(admin)
    csv_text = f'id,name\nbemerode,"{name.replace(chr(34), chr(34) * 2)}"\n'
    resp = _import(admin, "standorte.csv", csv_text.encode())
    assert resp.status_code == 400, resp.text[:300]
    assert _location_name(admin) == before


def test_imported_names_with_invisible_characters_are_refused(admin: TestClient) -> None:
    before = _location_name(admin)
    resp = _import(admin, "standorte.csv", "id,name\nbemerode,Bürger\u202eamt\n".encode())
    assert resp.status_code == 400, resp.text[:300]
    assert _location_name(admin) == before


def test_imported_and_edited_names_are_stored_normalised(admin: TestClient) -> None:
    decomposed = unicodedata.normalize("NFD", "Bürgeramt Bemerode")
    resp = _import(admin, "standorte.csv", f"id,name\nbemerode,  {decomposed}  \n".encode())
    assert resp.status_code == 200, resp.text[:300]
    assert _location_name(admin) == "Bürgeramt Bemerode"


def test_a_formula_name_in_the_admin_form_is_refused(admin: TestClient) -> None:
    before = _location_name(admin)
    data = {"csrf_token": csrf_of(admin), "source": "Aushang", "name": "=1+1"}
    resp = admin.post("/verwaltung/standorte/bemerode", data=data, follow_redirects=False)
    assert resp.status_code == 400, resp.text[:300]
    assert _location_name(admin) == before


def test_json_error_bodies_stay_in_the_shared_shape(client: TestClient) -> None:
    resp = client.get("/api/appointments/slots", params={"service": "x", "limit": str(2**63)})
    assert set(resp.json()) == {"error", "detail", "fields"}
    assert resp.json()["fields"] == {"limit": "Wert zu groß"}  # named, as every 422 names them
    assert json.dumps(resp.json())
