"""Validation messages are written for people: each admin form names the field by its label and
says what is wrong, in German and English, beside the field and keeping what was typed; no
pydantic developer text ('String should match pattern …') reaches a page."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session

from servicepoint.core.inputs import Name
from servicepoint.web import form_errors
from tests.conftest import csrf_of, login, make_user

DEVELOPER_TEXT = ("String should", "Input should", "Value error", "value_error", "Field required")


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def assert_for_people(page: str) -> None:
    for phrase in DEVELOPER_TEXT:
        assert phrase not in page, f"developer text on the page: {phrase!r}"


@pytest.fixture
def admin(client: TestClient, session: Session) -> TestClient:
    make_user(session, "boss", "admin")
    login(client, "boss")
    return client


def post(client: TestClient, url: str, lang: str, **values: Any) -> str:
    resp = client.post(
        f"{url}?lang={lang}", data={"csrf_token": csrf_of(client), **values}, follow_redirects=False
    )
    assert resp.status_code == 400, resp.status_code
    assert "<form" in resp.text  # the form again, not a bare error page
    assert_for_people(resp.text)
    return resp.text


BAD_CAPACITY = {
    "hours": "jeden Tag",
    "counters": "999",
    "walkin_percent": "viel",
    "grid_minutes": "3",
    "dec24": "manchmal",
}


def test_the_capacity_form_explains_each_field(admin: TestClient) -> None:
    url = "/verwaltung/kapazitaet/aegi"
    page = post(admin, url, "de", **BAD_CAPACITY)
    said = text_of(page)
    assert "Servicezeiten: Bitte so angeben: „Mo-Fr 08:00-12:00; Do 14:00-18:00“." in said
    assert "Schalter: Bitte höchstens 50 eingeben." in said
    assert "Anteil für Kunden ohne Termin: Bitte eine Zahl von 0 bis 100 eingeben." in said
    assert "Zeitraster: Bitte mindestens 5 eingeben." in said
    assert "24. Dezember: Bitte einen Eintrag aus der Liste wählen." in said
    assert 'value="jeden Tag"' in page and 'value="999"' in page  # what was typed stays
    english = text_of(post(admin, url, "en", **BAD_CAPACITY))
    assert "Counter: Please enter at most 50." in english
    assert "Service hours: Please write them like “Mo-Fr 08:00-12:00; Th 14:00-18:00”." in english


BAD_LOCATION = {"postcode": "3015", "lat": "Norden", "name": "=HYPERLINK(1)", "source": "Test"}


def test_the_location_form_explains_each_field_beside_it(admin: TestClient) -> None:
    url = "/verwaltung/standorte/aegi"
    page = post(admin, url, "de", **BAD_LOCATION)
    said = text_of(page)
    assert "Postleitzahl: Bitte fünf Ziffern eingeben, z. B. 30159." in said
    assert "Breitengrad: Bitte eine Zahl von -90 bis 90 eingeben, z. B. 52.37." in said
    assert "Name: Bitte nicht mit =, +, - oder @ beginnen." in said
    right_below = r'id="f-postcode"[^>]*>\s*(<small[^>]*>[^<]*</small>\s*)?<p class="field-error"'
    beside = re.search(right_below, page)
    assert beside, "the postcode's message is not beside the field"
    assert re.search(r'id="f-postcode"[^>]*aria-invalid="true"', page)
    assert 'value="3015"' in page
    english = text_of(post(admin, url, "en", **BAD_LOCATION))
    assert "Postcode: Please enter five digits, e.g. 30159." in english
    missing_source = text_of(post(admin, url, "de", postcode="30159", source=""))
    assert "Bitte geben Sie die Quelle der Angaben an." in missing_source


class _Everything(BaseModel):
    """A field of each kind the forms use, to meet every error type they can raise."""

    text: str = Field(min_length=3, max_length=5)
    code: str = Field(pattern=r"^\d+$")
    number: int = Field(ge=1, le=9)
    share: float = Field(gt=0, lt=1)
    flag: bool
    names: list[str] = Field(max_length=1)
    name: Name


@pytest.mark.parametrize("lang", ["de", "en"])
def test_no_pydantic_type_is_shown_in_its_own_words(lang: str) -> None:
    cases: list[dict[str, Any]] = [
        {},
        {"text": "x", "code": "a", "number": "eins", "share": "x", "flag": "vielleicht"},
        {"text": "xxxxxxx", "number": 10, "share": 1, "names": ["a", "b"], "name": "=1"},
        {"text": 5, "number": 0.5, "share": 0, "names": "a", "name": "a\u202eb"},
    ]
    for values in cases:
        with pytest.raises(ValidationError) as caught:
            _Everything.model_validate(values)
        for err in caught.value.errors():
            said = form_errors.explain(lang, err)
            assert said and err["msg"] not in said, (err["type"], said)
            assert_for_people(said)
    unknown = {"type": "brand_new_type", "msg": "Input should be shiny", "loc": ("x",)}
    assert form_errors.explain(lang, unknown) == form_errors.explain(lang, {"type": "?"})


def test_every_msgid_has_an_english_text() -> None:
    from servicepoint.core import i18n

    for table in (form_errors.FIELD_LABELS, form_errors.FORMAT_HINTS, form_errors.TYPE_TEXT):
        for key, msgid in table.items():
            assert i18n.translate("en", msgid) != msgid or key in ("name",), key
