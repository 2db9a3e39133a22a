"""The public verification page /nachweis/{code}: what an approved case's document states, a
clear 404 for every code without one, and a 4xx for codes that are no codes."""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy.orm import Session

from servicepoint.casework import documents, documents_store, signing
from servicepoint.casework.formspec import forms_of
from servicepoint.casework.models import Application
from servicepoint.config import DATA_ROOT, Settings
from tests.casework.case_support import ERIKA

SERVICE = "meldebescheinigung"
ISSUED = dt.datetime(2026, 12, 7, 8, 30, tzinfo=dt.UTC)


def add_case(session: Session, **changes: Any) -> Application:
    """An approved case with the statement of its document, as the workflow leaves it."""
    values: dict[str, Any] = {
        "code": "A" + secrets.token_hex(6).upper(),
        "service_id": SERVICE,
        "status": "approved",
        "lang": "de",
        "applicant": dict(ERIKA),
        "data": {"kind": "simple"},
        "findings": [{"rule": "resident_found", "outcome": "pass", "detail": "geheim"}],
        "rules_version": "1",
        "decided_at": ISSUED,
        "verification_code": documents.new_verification_code(),
    }
    case = Application(**values)
    form = forms_of(DATA_ROOT / "hannover")[SERVICE]
    case.statement = documents_store.statement(session, case=case, form=form)
    for name, value in changes.items():
        setattr(case, name, value)
    session.add(case)
    session.commit()
    return case


def visible(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def needs_form(settings: Settings) -> None:
    if SERVICE not in forms_of(settings.city_dir):
        pytest.skip("the Meldebescheinigung form file is not in the data folder")


def test_a_known_code_shows_what_the_document_states(
    client: TestClient, session: Session, settings: Settings
) -> None:
    needs_form(settings)
    case = add_case(session)
    resp = client.get(f"/nachweis/{case.verification_code}")
    assert resp.status_code == 200
    assert resp.headers["cache-control"] == "no-store"  # name and address: kept nowhere
    page = visible(resp.text)
    assert "Dieses Dokument ist echt." in page
    assert "Meldebescheinigung" in page and "07.12.2026 09:30" in page
    assert "Erika Mustermann" in page and "12.08.1964" in page and "Lister Meile 10" in page
    assert documents.grouped(case.verification_code or "") in page
    # Only what the paper states: no case code (it opens the status page), no e-mail, no
    # findings of the rules.
    assert case.code not in resp.text
    assert "erika@example.org" not in resp.text and "geheim" not in resp.text


def test_the_page_is_one_accessible_page_in_the_readers_language(
    client: TestClient, session: Session, settings: Settings
) -> None:
    needs_form(settings)
    case = add_case(session)
    resp = client.get(f"/nachweis/{case.verification_code}?lang=en")
    assert resp.status_code == 200
    assert '<html lang="en">' in resp.text
    assert resp.text.count("<h1") == 1 and '<main id="main"' in resp.text
    page = visible(resp.text)
    assert "This document is genuine." in page
    assert "Certificate of registration" in page and "Date of birth" in page


def test_a_code_is_found_however_it_was_typed(client: TestClient, session: Session) -> None:
    case = add_case(session)
    typed = documents.grouped(case.verification_code or "").lower()
    resp = client.get(f"/nachweis/{typed}")
    assert resp.status_code == 200
    assert "Dieses Dokument ist echt." in visible(resp.text)


def test_the_document_states_what_it_stated_when_issued(
    client: TestClient, session: Session
) -> None:
    # The form file changed, or was withdrawn, since: the statement fixed at the decision holds.
    case = add_case(session, service_id="beglaubigung", rules_version="0")
    resp = client.get(f"/nachweis/{case.verification_code}")
    assert resp.status_code == 200
    page = visible(resp.text)
    assert "Dieses Dokument ist echt." in page and "Meldebescheinigung" in page


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "in_review"},  # not decided: no document exists yet
        {"status": "rejected"},
        {"statement": None},  # nothing was fixed: no document to confirm
    ],
)
def test_a_case_without_a_valid_document_is_not_confirmed(
    client: TestClient, session: Session, changes: dict[str, Any]
) -> None:
    case = add_case(session, **changes)
    resp = client.get(f"/nachweis/{case.verification_code}")
    assert resp.status_code == 404
    assert "Kein Dokument mit diesem Prüfcode" in visible(resp.text)


def test_an_unknown_code_is_a_clear_404(client: TestClient) -> None:
    resp = client.get(f"/nachweis/{documents.new_verification_code()}")
    assert resp.status_code == 404
    page = visible(resp.text)
    assert "Kein Dokument mit diesem Prüfcode" in page
    assert "Dieses Dokument ist echt" not in page
    english = client.get("/nachweis/UNKNOWN?lang=en")
    assert english.status_code == 404
    assert "No document with this verification code" in visible(english.text)


@pytest.mark.parametrize(
    "code", ["%00", "A%00B", "X" * 33, "%E2%80%AE" + "A" * 10, "%0A", "..%2F..%2Fetc"]
)
def test_codes_that_are_no_codes_get_a_4xx(client: TestClient, code: str) -> None:
    resp = client.get(f"/nachweis/{code}")
    assert 400 <= resp.status_code < 500, (code, resp.status_code)


def test_issue_makes_the_signed_document_the_page_confirms(
    client: TestClient, session: Session, settings: Settings, tmp_path: Path
) -> None:
    needs_form(settings)
    settings.state_dir = tmp_path
    case = add_case(session, lang="en")
    case.document = documents_store.issue(case=case, settings=settings)
    session.commit()
    assert signing.verify_pdf(case.document, settings=settings).ok
    reader = PdfFileReader(io.BytesIO(case.document))
    assert reader.root["/Lang"] == "en"  # in the citizen's language
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    links = [a.get_object() for a in page["/Annots"] if a.get_object()["/Subtype"] == "/Link"]
    (url,) = [str(link["/A"]["/URI"]) for link in links]
    assert url == documents.verification_url(settings.base_url, case.verification_code or "")
    assert client.get(url.removeprefix(settings.base_url)).status_code == 200
