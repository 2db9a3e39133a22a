"""POST/GET /api/applications over HTTP, on SQLite and PostgreSQL: Erika approved with her
signed PDF, a case for staff, 422 answers that name each field, 404s, bot protection."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepoint.casework import documents, signing
from servicepoint.casework.models import Application
from servicepoint.config import Settings
from tests.casework.case_support import CERTIFICATE, ELSEWHERE, ERIKA, local_settings, mails_to
from tests.conftest import proof_headers

URL = "/api/applications"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return local_settings(settings, tmp_path / "var")


def body(**changes: Any) -> dict[str, Any]:
    return {"service_id": "meldebescheinigung", "applicant": ERIKA, "data": CERTIFICATE, **changes}


def stored(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Application)) or 0)


def test_erika_gets_her_certificate_at_once(client: TestClient, settings: Settings) -> None:
    resp = client.post(URL, json=body())
    assert resp.status_code == 201, resp.text
    made = resp.json()
    assert set(made) == {"code", "status", "status_url", "document_url", "findings"}
    assert made["status"] == "approved"
    assert (
        made["document_url"]
        == f"{settings.base_url}/api/applications/{made['code'].replace('-', '')}/document"
    )
    assert {f["outcome"] for f in made["findings"]} == {"pass"}
    assert {f["detail"] for f in made["findings"]} == {"Geprüft: in Ordnung."}
    assert all(set(f) == {"rule", "outcome", "detail"} and f["detail"] for f in made["findings"])
    assert resp.headers["cache-control"] == "no-store"  # name, address, findings: kept nowhere
    pdf = client.get(made["document_url"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["cache-control"] == "no-store"
    assert pdf.headers["content-disposition"].startswith("attachment;")
    assert signing.verify_pdf(pdf.content, settings=settings).ok
    again = client.get(f"{URL}/{made['code'].lower()}")
    assert again.status_code == 200 and again.json() == made
    assert again.headers["cache-control"] == "no-store"


def test_an_unknown_address_is_in_review_without_a_document(client: TestClient) -> None:
    resp = client.post(URL, json=body(applicant=ELSEWHERE), params={"lang": "en"})
    assert resp.status_code == 201
    made = resp.json()
    assert made["status"] == "in_review" and made["document_url"] is None
    review = [f for f in made["findings"] if f["outcome"] == "review"]
    # What the register holds stays there: one neutral line, not "lives elsewhere".
    assert review == [
        {
            "rule": "register_check",
            "outcome": "review",
            "detail": "A member of staff will check your details.",
        }
    ]
    code = made["code"]
    assert client.get(f"{URL}/{code}/document").status_code == 404


def _fields(resp: Any) -> dict[str, str]:
    assert resp.status_code == 422, resp.text
    data = resp.json()
    assert data["error"] == "invalid_input" and data["detail"]
    return dict(data["fields"])


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        (
            {"applicant": {k: v for k, v in ERIKA.items() if k != "birth_date"}},
            "applicant.birth_date",
        ),
        ({"applicant": {**ERIKA, "birth_date": "1964-02-30"}}, "applicant.birth_date"),
        ({"applicant": {**ERIKA, "email": "erika at example"}}, "applicant.email"),
        ({"applicant": {**ERIKA, "postcode": "3016"}}, "applicant.postcode"),
        ({"data": {**CERTIFICATE, "colour": "blue"}}, "data.colour"),
        ({"data": {**CERTIFICATE, "kind": "gold"}}, "data.kind"),
        ({"data": {**CERTIFICATE, "kind": 12}}, "data.kind"),
        ({"data": {"own_data": True}}, "data.kind"),
        ({"data": {**CERTIFICATE, "given_name": "Eve"}}, "data.given_name"),
    ],
)
def test_invalid_answers_name_their_fields(
    client: TestClient, session: Session, changes: dict[str, Any], named: str
) -> None:
    before = stored(session)
    fields = _fields(client.post(URL, json=body(**changes)))
    assert fields.get(named), fields
    assert stored(session) == before


def test_field_messages_are_in_the_request_language(client: TestClient) -> None:
    applicant = {**ERIKA, "email": "nope"}
    german = _fields(client.post(URL, json=body(applicant=applicant)))
    english = _fields(client.post(URL, json=body(applicant=applicant), params={"lang": "en"}))
    assert german["applicant.email"].startswith("Bitte geben Sie eine gültige E-Mail-Adresse an")
    assert english["applicant.email"] != german["applicant.email"]
    assert "e-mail" in english["applicant.email"].lower()


def test_an_upload_the_api_cannot_carry_is_named(client: TestClient) -> None:
    data = {"zone": "BPZ-L1", "plate": "H-AB 123", "keeper": "self"}
    fields = _fields(client.post(URL, json=body(service_id="bewohnerparkausweis", data=data)))
    assert list(fields) == ["uploads.vehicle_registration"]


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({**body(), "data": {**CERTIFICATE, "kind": 10**30}}, "data.kind"),
        ({**body(), "data": {**CERTIFICATE, "kind": {"nested": {"deeper": 1}}}}, "data.kind"),
        ({**body(), "data": {**CERTIFICATE, "kind": 1.5}}, "data.kind"),
        ({**body(), "data": {**CERTIFICATE, "kind": ["a"] * 21}}, "data.kind"),
        ({**body(), "data": {**CERTIFICATE, "kind": [["a"]]}}, "data.kind"),
        ({**body(), "data": {**CERTIFICATE, "kind": "x" * 2001}}, "data.kind"),
        ({**body(), "data": {f"k{i}": "x" for i in range(61)}}, "data"),
        ({**body(), "applicant": {**ERIKA, "given_name": 12}}, "applicant.given_name"),
        ({**body(), "applicant": {**ERIKA, "nickname": "Eri"}}, "applicant.nickname"),
        ({**body(), "applicant": "Erika"}, "applicant"),
        ({**body(), "service_id": "x" * 65}, "service_id"),
        ({**body(), "extra": 1}, "extra"),
        ([1, 2], "body"),
    ],
)
def test_wrong_shapes_are_422_naming_the_field(
    client: TestClient, session: Session, raw: Any, named: str
) -> None:
    before = stored(session)
    resp = client.post(URL, content=json.dumps(raw), headers={"content-type": "application/json"})
    assert resp.status_code == 422, resp.text
    assert f"{named}:" in resp.json()["detail"]
    assert stored(session) == before


def test_nul_bytes_and_deep_json_are_refused_before_anything_runs(
    client: TestClient, session: Session
) -> None:
    before = stored(session)
    nul = client.post(URL, json=body(applicant={**ERIKA, "given_name": "Er\x00ika"}))
    assert nul.status_code == 422 and "applicant.given_name" in nul.json()["detail"]
    deep: Any = "x"
    for _ in range(40):
        deep = {"a": deep}
    nested = client.post(URL, json=body(data={"kind": deep}))
    assert nested.status_code == 422 and "verschachtelt" in nested.json()["detail"]
    huge = (
        b'{"service_id": "meldebescheinigung", "applicant": {}, "data": {"kind": 1'
        + b"0" * 5000
        + b"}}"
    )
    too_long = client.post(URL, content=huge, headers={"content-type": "application/json"})
    assert too_long.status_code == 422
    assert stored(session) == before


def test_unknown_service_and_service_without_form_are_404(client: TestClient) -> None:
    unknown = client.post(URL, json=body(service_id="no-such-service"))
    assert unknown.status_code == 404 and unknown.json()["error"] == "service_not_found"
    formless = client.post(URL, json=body(service_id="reisepass"))
    assert formless.status_code == 404 and formless.json()["error"] == "form_not_found"
    assert "Online-Antrag" in formless.json()["detail"]


@pytest.mark.parametrize("code", ["ABCD", "0" * 16, "ZZZZ-ZZZZ-ZZZZ-ZZZZ", "%00", "a" * 33])
def test_unknown_codes_are_404(client: TestClient, code: str) -> None:
    for path in (f"{URL}/{code}", f"{URL}/{code}/document"):
        resp = client.get(path)
        assert resp.status_code in (404, 422), (path, resp.status_code)
        assert set(resp.json()) - {"fields"} == {"error", "detail"}


def test_a_draft_is_not_visible_through_the_api(
    client: TestClient, session: Session, settings: Settings
) -> None:
    from servicepoint.casework import service

    draft = service.start_draft(
        session, settings=settings, service_id="meldebescheinigung", lang="de"
    )
    session.commit()
    assert client.get(f"{URL}/{draft.code}").status_code == 404


def test_an_application_needs_a_solved_challenge(app: FastAPI) -> None:
    with TestClient(app) as script:
        refused = script.post(URL, json=body())
        assert refused.status_code == 422 and refused.json()["error"] == "challenge_failed"
        headers = proof_headers(script)
        assert script.post(URL, json=body(), headers=headers).status_code == 201
        replay = script.post(URL, json=body(), headers=headers)
        assert replay.status_code == 422


def test_applications_per_client_are_limited(app: FastAPI, settings: Settings) -> None:
    app.state.settings = settings.model_copy(update={"application_rate_limit": 2})
    with TestClient(app) as script:
        answers = [script.post(URL, json=body(), headers=proof_headers(script)) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[-1].headers["retry-after"] == "3600"  # the limiter's window, as RFC 9110 asks


def test_links_come_from_the_base_url_never_from_the_host_header(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """Whoever sends the request chooses its Host: a link built from it would put an attacker's
    address into the citizen's e-mail and into the QR code of the signed document."""
    evil = {"host": "evil.example"}
    made = client.post(URL, json=body(), headers=evil).json()
    code = made["code"].replace("-", "")
    assert made["status_url"].startswith(settings.base_url + "/")
    assert made["document_url"].startswith(settings.base_url + "/")
    (mail,) = mails_to(session, ERIKA["email"])
    assert f"{settings.base_url}/antrag/status/{code}" in mail.body
    assert "evil.example" not in mail.body
    pdf = client.get(f"{URL}/{code}/document", headers=evil)  # made on this first download
    assert pdf.status_code == 200
    page = PdfFileReader(io.BytesIO(pdf.content)).root["/Pages"]["/Kids"][0].get_object()
    links = [a.get_object() for a in page["/Annots"] if a.get_object()["/Subtype"] == "/Link"]
    (url,) = [str(link["/A"]["/URI"]) for link in links]
    case = session.scalars(select(Application).where(Application.code == code)).one()
    assert url == documents.verification_url(settings.base_url, case.verification_code or "")
