"""The citizen's pages of an online application, as a browser without JavaScript uses them: start,
one step per page, field errors in words, save and resume by code, uploads, review, submit and the
status page with the signed PDF. Runs on SQLite and PostgreSQL (the `client` fixture)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from servicepoint.casework import service as case_service
from servicepoint.config import Settings
from servicepoint.web.routing import every_route
from tests.casework.case_support import ERIKA, PDF
from tests.conftest import csrf_in

# The smallest files that are what they say (casework.uploads judges by content).
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)
UPLOAD_LIMIT = 10_000


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One instance folder for the module: uploads, and the development signing key made once."""
    return tmp_path_factory.mktemp("state")


@pytest.fixture
def settings(settings: Settings, state_dir: Path) -> Settings:
    """The shared test settings, with this module's instance folder and a small upload limit."""
    return settings.model_copy(update={"state_dir": state_dir, "upload_max_bytes": UPLOAD_LIMIT})


# -- helpers: what a browser does ------------------------------------------------------------------
def _main(html: str) -> str:
    """The page's own content, without header, footer and the assistant widget."""
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def _start(client: TestClient, service_id: str) -> str:
    """Open the start page and press "Antrag starten"; returns the first step's address."""
    page = client.get(f"/antrag/{service_id}")
    assert page.status_code == 200
    resp = client.post(
        f"/antrag/{service_id}", data={"csrf_token": csrf_in(page.text)}, follow_redirects=False
    )
    assert resp.status_code == 303
    assert re.fullmatch(r"/antrag/entwurf/[0-9A-Z]{16}/0", resp.headers["location"])
    return str(resp.headers["location"])


def _post_step(
    client: TestClient, url: str, answers: dict[str, Any], action: str = "next", **kw: Any
) -> Any:
    """Fill a step as shown and press a button (the CSRF token read from the page itself)."""
    page = client.get(url)
    assert page.status_code == 200, page.text[:300]
    data = {"csrf_token": csrf_in(page.text), "action": action, **answers}
    if 'name="ziel" value="pruefen"' in page.text:  # the hidden field of a change from review
        data["ziel"] = "pruefen"
    return client.post(url.split("?")[0], data=data, follow_redirects=False, **kw)


def _code_of(url: str) -> str:
    found = re.search(r"/antrag/entwurf/([0-9A-Z]{16})/", url)
    assert found
    return found.group(1)


def _through_steps(client: TestClient, service_id: str, steps: list[dict[str, Any]]) -> str:
    """Start and fill every step; returns where the last "Weiter" leads."""
    url = _start(client, service_id)
    for answers in steps:
        resp = _post_step(client, url, answers)
        assert resp.status_code == 303, resp.text[:2000]
        url = resp.headers["location"]
    return str(url)


def _submit(client: TestClient, review_url: str) -> Any:
    page = client.get(review_url)
    assert page.status_code == 200
    data = {"csrf_token": csrf_in(page.text), "truthful": "true"}
    return client.post(review_url, data=data, follow_redirects=False)


MELDE_STEPS = [ERIKA, {"kind": "simple", "own_data": "true"}]
PARKING_STEPS = [
    ERIKA,
    {"zone": "BPZ-L1", "previous_permit": "not asked without renewal"},
    {"plate": "H-EM 1964", "keeper": "self"},
]


def _to_uploads(client: TestClient) -> str:
    url = _through_steps(client, "bewohnerparkausweis", PARKING_STEPS)
    assert url.endswith("/unterlagen")
    return url


def _upload(client: TestClient, url: str, files: dict[str, Any], action: str = "upload") -> Any:
    page = client.get(url)
    data = {"csrf_token": csrf_in(page.text), "action": action}
    return client.post(url, data=data, files=files, follow_redirects=False)


# -- the start page --------------------------------------------------------------------------------
def test_the_start_page_says_what_is_asked_and_that_the_fee_is_unknown(client: TestClient) -> None:
    page = _main(client.get("/antrag/meldebescheinigung").text)
    assert "Meldebescheinigung beantragen" in page
    for step in (
        "Angaben zu Ihrer Person",
        "Ihre Meldebescheinigung",
        "Angaben prüfen und absenden",
    ):
        assert step in page
    assert "Gebühr: nicht bekannt" in page  # the catalog lists none: never a guess
    assert "Antrag starten" in page
    assert 'action="/antrag/fortsetzen"' in page  # resume a draft by its code
    assert "Bundesmeldegesetz" in page  # which statute lets the machine approve


def test_the_start_page_shows_the_catalog_fees_and_the_tutorial_beside(client: TestClient) -> None:
    page = _main(client.get("/antrag/hundesteuer").text)
    assert re.search(r"\d+,\d\d €", page)  # the catalog's fee items the form charges
    assert "Gebühr: nicht bekannt" not in page
    assert 'class="form-aside"' in page and "Hund online an- oder abmelden" in page


def test_a_service_without_an_online_form_is_a_404(client: TestClient) -> None:
    resp = client.get("/antrag/personalausweis")
    assert resp.status_code == 404
    assert "keinen Online-Antrag" in resp.text


def test_starting_needs_the_forms_csrf_token(client: TestClient) -> None:
    client.get("/antrag/meldebescheinigung")
    assert client.post("/antrag/meldebescheinigung", data={}).status_code == 403


# -- Erika's application, end to end without JavaScript --------------------------------------------
def test_erika_applies_without_javascript_and_downloads_the_signed_pdf(client: TestClient) -> None:
    url = _start(client, "meldebescheinigung")
    page = client.get(url)
    assert page.headers["cache-control"] == "no-store"  # answers never stay in a shared browser
    main = _main(page.text)
    assert "Schritt 1 von 3" in main
    assert re.search(r'<li aria-current="step">\s*<span>Angaben zu Ihrer Person', main)
    assert '<form method="post"' in main and "data-casework-form" in main
    assert 'autocomplete="given-name"' in main and 'autocomplete="bday"' in main
    assert 'type="date"' in main and 'type="email"' in main
    assert 'id="casework-values"' in page.text

    resp = _post_step(client, url, ERIKA)
    assert resp.status_code == 303
    step1 = resp.headers["location"]
    assert step1.endswith("/1")
    main = _main(client.get(step1).text)
    assert "Schritt 2 von 3" in main
    assert re.search(r"<fieldset[^>]*>\s*<legend>Welche Bescheinigung", main)  # a radio group
    assert 'type="radio"' in main and 'value="simple"' in main

    resp = _post_step(client, step1, {"kind": "simple", "own_data": "true"})
    review = resp.headers["location"]
    assert review.endswith("/pruefen")
    main = _main(client.get(review).text)
    assert "Schritt 3 von 3" in main
    for shown in ("Erika", "Mustermann", "12.08.1964", "Lister Meile", "30161"):
        assert shown in main
    assert "Einfache Meldebescheinigung" in main  # a choice by its label, not its value
    assert main.count(">Ändern<") == 2  # one link per step
    assert "Gebühr: nicht bekannt" in main

    resp = _submit(client, review)
    assert resp.status_code == 303
    status_url = resp.headers["location"].split("?")[0]
    code = _code_of(url)
    assert status_url == f"/antrag/status/{code}"
    status = client.get(resp.headers["location"])
    assert status.headers["cache-control"] == "no-store"
    main = _main(status.text)
    assert "Bewilligt" in main
    assert "Version 2026-12-07" in main  # the rule set the case was checked by
    assert "2 von 2 Prüfungen sind ohne Befund" in main  # the register checks count as one
    pdf_link = f"/antrag/status/{code}/dokument.pdf"
    assert f'href="{pdf_link}"' in main
    pdf = client.get(pdf_link)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["cache-control"] == "no-store"
    assert pdf.content.startswith(b"%PDF") and b"/ByteRange" in pdf.content  # signed

    # A sent case is no draft any more: its step pages lead to the status.
    again = client.get(url, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == f"/antrag/status/{code}"


def test_an_unknown_address_is_reviewed_without_telling_what_the_register_holds(
    client: TestClient,
) -> None:
    stranger = {**ERIKA, "given_name": "Erna", "street": "Nirgendweg", "house_number": "1"}
    review = _through_steps(client, "meldebescheinigung", [stranger, MELDE_STEPS[1]])
    status = client.get(_submit(client, review).headers["location"])
    main = _main(status.text)
    assert "In Prüfung" in main
    # Whoever typed a name and a birth date learns nothing about who is registered where.
    assert "Melderegister" not in main
    assert "Eine Mitarbeiterin oder ein Mitarbeiter prüft Ihre Angaben." in main
    assert "Wird von uns geprüft" in main and 'aria-hidden="true">?' in main  # words and sign
    assert "Bearbeitung geplant bis" in main
    assert "dokument.pdf" not in main
    code = status.url.path.rsplit("/", 1)[1]
    assert client.get(f"/antrag/status/{code}/dokument.pdf").status_code == 404


# -- field errors ----------------------------------------------------------------------------------
def test_field_errors_are_said_beside_each_field_and_summed_up_on_top(client: TestClient) -> None:
    url = _start(client, "meldebescheinigung")
    resp = _post_step(client, url, {**ERIKA, "family_name": "", "postcode": "3016", "email": "x@"})
    assert resp.status_code == 422
    main = _main(resp.text)
    assert resp.text.count("<title>Fehler:") == 1
    summary = main.split('id="fehler"', 1)[1].split("</div>", 1)[0]
    # The summary takes the focus (autofocus needs no JavaScript) and is announced.
    assert re.search(r'<div [^>]*role="alert" tabindex="-1" autofocus id="fehler"', main)
    assert '<a href="#f-family_name">Familienname: Bitte füllen Sie dieses Feld aus.</a>' in summary
    assert "Postleitzahl: Bitte mindestens 5 Zeichen eingeben." in summary
    assert "gültige E-Mail-Adresse" in summary
    assert re.search(r'id="f-postcode"[^>]*aria-describedby="h-postcode e-postcode"', main)
    assert re.search(r'id="f-postcode"[^>]*aria-invalid="true"', main)
    assert 'id="e-postcode"' in main
    assert 'value="Erika"' in main and 'value="3016"' in main  # what was typed stays
    assert not re.search(r'id="f-given_name"[^>]*aria-invalid', main)


def test_field_errors_in_english(client: TestClient) -> None:
    client.get("/sprache/en")
    url = _start(client, "meldebescheinigung")
    resp = _post_step(client, url, {**ERIKA, "family_name": "", "birth_date": "2999-01-01"})
    assert resp.status_code == 422
    main = _main(resp.text)
    assert "Family name: Please fill in this field." in main
    assert "Date of birth:" in main and "Bitte" not in main
    assert "Step 1 of 3" in main and ">Next</button>" in main


def test_a_choice_left_empty_says_to_choose(client: TestClient) -> None:
    review_or_step = _through_steps(client, "meldebescheinigung", [ERIKA])
    resp = _post_step(client, review_or_step, {})
    assert resp.status_code == 422
    main = _main(resp.text)
    assert '<a href="#f-kind-0">' in main  # the summary leads to the group's first option
    assert "Bitte wählen Sie hier etwas aus." in main
    assert "Bitte bestätigen Sie dies." in main


def test_a_nul_byte_in_a_field_is_a_422_in_the_users_language(client: TestClient) -> None:
    url = _start(client, "meldebescheinigung")
    token = csrf_in(client.get(url).text)
    data = {**ERIKA, "given_name": "Er\x00ika", "csrf_token": token, "action": "next"}
    resp = client.post(url, data=data)
    assert resp.status_code == 422
    assert "enthält unerlaubte Steuer- oder Sonderzeichen" in resp.text
    client.get("/sprache/en")
    resp = client.post(url, data=data)
    assert resp.status_code == 422
    assert "contains forbidden control or invisible characters" in resp.text


def test_steps_are_filled_in_order(client: TestClient) -> None:
    url = _start(client, "meldebescheinigung")
    code = _code_of(url)
    ahead = client.get(f"/antrag/entwurf/{code}/1", follow_redirects=False)
    assert ahead.status_code == 303 and ahead.headers["location"].endswith("/0")
    review = client.get(f"/antrag/entwurf/{code}/pruefen", follow_redirects=False)
    assert review.status_code == 303 and review.headers["location"].endswith("/0")
    assert client.get(f"/antrag/entwurf/{code}/9").status_code == 404
    assert client.get(f"/antrag/entwurf/{code}/51").status_code == 422  # bounded


# -- save and resume -------------------------------------------------------------------------------
def test_save_and_resume_later_by_code(client: TestClient, app: Any, settings: Settings) -> None:
    step1 = _through_steps(client, "meldebescheinigung", [ERIKA])
    code = _code_of(step1)
    resp = _post_step(client, step1, {"kind": "extended"}, action="save")
    assert resp.status_code == 303
    saved = client.get(resp.headers["location"])
    main = _main(saved.text)
    grouped = "-".join(code[i : i + 4] for i in range(0, 16, 4))
    assert grouped in main  # the code, prominently, to note down
    assert f"{settings.base_url}/antrag/fortsetzen" in main
    assert f"{settings.case_draft_days} Tage" in main

    with TestClient(app, base_url="http://testserver") as other:  # another browser, days later
        form = other.get("/antrag/fortsetzen")
        typed = grouped.lower()
        resp = other.post(
            "/antrag/fortsetzen",
            data={"csrf_token": csrf_in(form.text), "code": typed},
            follow_redirects=False,
        )
        assert resp.status_code == 303
        assert resp.headers["location"] == f"/antrag/entwurf/{code}/1"
        main = _main(other.get(resp.headers["location"]).text)
        assert re.search(r'value="extended" checked', main)  # what was saved is there
        back = other.get(f"/antrag/entwurf/{code}/0").text
        assert 'value="Mustermann"' in back


def test_saving_keeps_what_is_blank_without_complaint(client: TestClient) -> None:
    step1 = _through_steps(client, "meldebescheinigung", [ERIKA])
    resp = _post_step(client, step1, {}, action="save")
    assert resp.status_code == 303 and "gespeichert=1" in resp.headers["location"]


def test_back_goes_to_the_step_before(client: TestClient) -> None:
    step1 = _through_steps(client, "meldebescheinigung", [ERIKA])
    resp = _post_step(client, step1, {"kind": "simple"}, action="back")
    assert resp.status_code == 303 and resp.headers["location"].endswith("/0")


def test_an_unknown_code_is_a_friendly_404_without_hints(client: TestClient) -> None:
    form = client.get("/antrag/fortsetzen")
    resp = client.post(
        "/antrag/fortsetzen", data={"csrf_token": csrf_in(form.text), "code": "ABCD-EFGH-JKMN-PQRS"}
    )
    assert resp.status_code == 404
    main = _main(resp.text)
    assert "Zu diesem Code haben wir keinen Antrag gefunden" in main
    assert 'aria-invalid="true"' in main and 'value="ABCD-EFGH-JKMN-PQRS"' in main
    for path in (
        "/antrag/status/ABCDEFGHJKMNPQRS",
        "/antrag/status/ABCDEFGHJKMNPQRS/dokument.pdf",
        "/antrag/entwurf/ABCDEFGHJKMNPQRS/0",
        "/antrag/entwurf/ABCDEFGHJKMNPQRS/pruefen",
        "/antrag/entwurf/nonsense/unterlagen",
    ):
        assert client.get(path).status_code == 404, path
    client.get("/sprache/en")
    resp = client.post("/antrag/fortsetzen", data={"csrf_token": csrf_in(form.text), "code": "X"})
    assert resp.status_code == 404
    assert "We could not find an application with this code" in resp.text


# -- uploads ---------------------------------------------------------------------------------------
def test_uploads_too_large_or_of_the_wrong_type_are_said_in_the_page(client: TestClient) -> None:
    url = _to_uploads(client)
    main = _main(client.get(url).text)
    assert 'enctype="multipart/form-data"' in main
    assert "Zulassungsbescheinigung Teil I" in main
    assert 'name="usage_confirmation"' not in main  # only what these answers need (keeper: self)

    big = PDF + b"0" * UPLOAD_LIMIT
    resp = _upload(client, url, {"vehicle_registration": ("scan.pdf", big, "application/pdf")})
    assert resp.status_code == 413
    main = _main(resp.text)
    assert "Die Datei ist zu groß" in main
    assert re.search(r'id="u-vehicle_registration"[^>]*aria-invalid="true"', main)
    assert 'href="#u-vehicle_registration"' in main  # the error summary

    exe = b"MZ\x90\x00" + b"\x00" * 200
    resp = _upload(client, url, {"vehicle_registration": ("scan.pdf", exe, "application/pdf")})
    assert resp.status_code == 415
    assert "PDF-Datei oder ein Bild" in _main(resp.text)

    client.get("/sprache/en")
    resp = _upload(client, url, {"vehicle_registration": ("scan.exe", exe, "image/png")})
    assert resp.status_code == 415
    assert "Fehler" not in _main(resp.text) and "Error" in resp.text


def test_uploads_then_review_then_the_staff_queue(client: TestClient) -> None:
    url = _to_uploads(client)
    resp = _upload(client, url, {}, action="next")
    assert resp.status_code == 422  # the needed document is missing
    assert "Bitte laden Sie dieses Dokument hoch." in _main(resp.text)

    files = {"vehicle_registration": ("Fahrzeugschein.png", PNG, "image/png")}
    resp = _upload(client, url, files, action="next")
    assert resp.status_code == 303 and resp.headers["location"].endswith("/pruefen")
    main = _main(client.get(resp.headers["location"]).text)
    assert "hochgeladen" in main
    assert "not asked without renewal" not in main  # a hidden field's answer is not kept
    status = client.get(_submit(client, resp.headers["location"]).headers["location"])
    assert "In Prüfung" in _main(status.text)  # parking permits are prepared, not decided


def test_a_missing_upload_at_submit_leads_to_the_uploads(client: TestClient) -> None:
    url = _to_uploads(client)
    review = url.replace("/unterlagen", "/pruefen")
    main = _main(client.get(review).text)
    assert "fehlt noch" in main
    resp = _submit(client, review)
    assert resp.status_code == 303 and resp.headers["location"].endswith("/unterlagen")


def test_sending_needs_the_truthfulness_confirmation(client: TestClient) -> None:
    review = _through_steps(client, "meldebescheinigung", MELDE_STEPS)
    page = client.get(review)
    resp = client.post(review, data={"csrf_token": csrf_in(page.text)})
    assert resp.status_code == 422
    main = _main(resp.text)
    assert "Bitte bestätigen Sie, dass Ihre Angaben stimmen." in main
    assert re.search(r'id="f-truthful"[^>]*aria-invalid="true"', main)


# -- a document staff asked for --------------------------------------------------------------------
def test_the_citizen_sends_the_document_staff_asked_for(
    client: TestClient, session: Session, settings: Settings
) -> None:
    stranger = {**ERIKA, "given_name": "Erna"}
    review = _through_steps(client, "meldebescheinigung", [stranger, MELDE_STEPS[1]])
    status_url = _submit(client, review).headers["location"].split("?")[0]
    code = status_url.rsplit("/", 1)[1]
    case = case_service.get_case(session, code=code)
    case_service.request_document(
        session,
        settings=settings,
        case=case,
        username="clerk",
        what="Bitte laden Sie eine Kopie Ihres Personalausweises hoch.",
    )
    session.commit()

    main = _main(client.get(status_url).text)
    assert "Wartet auf Unterlagen" in main
    assert "Kopie Ihres Personalausweises" in main
    upload_url = f"{status_url}/unterlagen"
    token = csrf_in(client.get(status_url).text)

    resp = client.post(
        upload_url,
        data={"csrf_token": token},
        files={"document": ("ausweis.txt", b"just text", "text/plain")},
    )
    assert resp.status_code == 415
    assert "PDF-Datei oder ein Bild" in _main(resp.text)

    resp = client.post(
        upload_url,
        data={"csrf_token": token},
        files={"document": ("ausweis.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    main = _main(client.get(resp.headers["location"]).text)
    assert "Danke, Ihr Dokument ist angekommen" in main
    assert "In Prüfung" in main


@pytest.mark.parametrize(
    "path",
    [
        "/antrag/{}",
        "/antrag/entwurf/{}/0",
        "/antrag/entwurf/{}/pruefen",
        "/antrag/entwurf/{}/unterlagen",
        "/antrag/status/{}",
        "/antrag/status/{}/dokument.pdf",
    ],
)
@pytest.mark.parametrize("bad", ["a%00b", "abc%E2%80%AEgpj", "A" * 70])
def test_bad_codes_in_the_address_are_a_clear_4xx(client: TestClient, path: str, bad: str) -> None:
    resp = client.get(path.format(bad))
    assert resp.status_code in (404, 422), (path, resp.status_code)
    assert "text/html" in resp.headers["content-type"]


def test_a_problem_found_at_submit_leads_to_its_step_and_back_to_the_review(
    client: TestClient, session: Session
) -> None:
    """E.g. the form file gained a required field since the step was filled in."""
    review = _through_steps(client, "meldebescheinigung", MELDE_STEPS)
    case = case_service.get_case(session, code=_code_of(review))
    case.applicant = {k: v for k, v in case.applicant.items() if k != "city"}
    session.commit()
    assert "Ort: Bitte füllen Sie dieses Feld aus." in _main(client.get(review).text)  # listed
    resp = _submit(client, review)
    assert resp.status_code == 303
    step = resp.headers["location"]
    assert step.startswith(f"/antrag/entwurf/{case.code}/0?")
    main = _main(client.get(step).text)
    assert '<a href="#f-city">Ort: Bitte füllen Sie dieses Feld aus.</a>' in main
    resp = _post_step(client, step, ERIKA)
    assert resp.headers["location"] == review  # straight back, not through step 2 again


# -- the limit per client --------------------------------------------------------------------------
def _refused(resp: Any) -> str:
    """A friendly 429 page that says when to try again; its text."""
    assert resp.status_code == 429, resp.status_code
    assert resp.headers["retry-after"] == "3600"
    assert resp.headers["content-type"].startswith("text/html")
    return _main(resp.text)


def test_drafts_uploads_and_sending_have_the_api_limit_per_client(
    client: TestClient, app: FastAPI
) -> None:
    """The same limit as POST /api/applications: without it, the pages would be the way around."""
    app.state.settings.application_rate_limit = 2
    url = _to_uploads(client)  # the first draft
    _start(client, "meldebescheinigung")  # the second
    page = client.get("/antrag/meldebescheinigung?lang=en")
    resp = client.post(
        "/antrag/meldebescheinigung",
        data={"csrf_token": csrf_in(page.text)},
        follow_redirects=False,
    )
    assert "Too many requests from your connection" in _refused(resp)  # in her language

    client.get("/sprache/de")
    files = {"vehicle_registration": ("Fahrzeugschein.png", PNG, "image/png")}
    assert _upload(client, url, files).status_code == 303
    assert _upload(client, url, files).status_code == 303
    assert "Zu viele Anfragen" in _refused(_upload(client, url, files))

    review = url.replace("/unterlagen", "/pruefen")
    unconfirmed = {"csrf_token": csrf_in(client.get(review).text)}
    for _ in range(2):  # every press of "send" counts, confirmed or not
        assert client.post(review, data=unconfirmed).status_code == 422
    _refused(_submit(client, review))
    assert client.get(review).status_code == 200  # the draft is still there to send later


# -- the event loop --------------------------------------------------------------------------------
CASEWORK_PATHS = ("/antrag", "/nachweis", "/mitarbeiter/antraege", "/api/applications")


def test_no_casework_route_runs_on_the_event_loop(app: FastAPI) -> None:
    """A route that is a coroutine runs its database calls on the event loop, where one wait for
    SQLite's lock stops every other request; the posted form is read by a dependency instead."""
    routes = [r for r in every_route(app.routes) if isinstance(r, APIRoute)]
    ours = [r for r in routes if r.path.startswith(CASEWORK_PATHS)]
    assert any(r.path == "/antrag/entwurf/{code}/pruefen" for r in ours)  # the audit sees them
    on_loop = [r.path for r in ours if inspect.iscoroutinefunction(r.endpoint)]
    assert on_loop == []
