"""Staff pages of online applications: the work queue, a case, its actions, downloads, export;
login, role and CSRF on each; bad input answered with a clear 4xx."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.account.models import AuditEntry
from servicepoint.casework import documents, uploads
from servicepoint.casework.models import Application, CaseUpload
from servicepoint.config import Settings
from servicepoint.core.clock import utcnow
from tests.casework.case_support import ERIKA, local_settings
from tests.conftest import csrf_in, login, make_user

SERVICE = "meldebescheinigung"
BASE = "/mitarbeiter/antraege"
NOBODY = "0" * 16  # a well-formed code no case has


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The shared test settings, with uploads and the signing key in a folder of this test."""
    return local_settings(settings, tmp_path / "var")


@pytest.fixture
def clerk(client: TestClient, session: Session) -> Iterator[TestClient]:
    make_user(session, "sachbearbeiterin", "staff")
    login(client, "sachbearbeiterin")
    yield client


def add_case(
    session: Session, *, days_ago: float, status: str = "in_review", **kw: Any
) -> Application:
    """A submitted case as the rules left it, `days_ago` days old, due after five days."""
    submitted = utcnow() - dt.timedelta(days=days_ago)
    values: dict[str, Any] = {
        "code": documents.new_verification_code(),
        "service_id": SERVICE,
        "status": status,
        "proposal": "approved",
        "lang": "de",
        "applicant": dict(ERIKA),
        "data": {},
        "findings": [
            {
                "rule": "resident_found",
                "outcome": "review",
                "detail": "Die Anschrift ist im Melderegister nicht zu finden.",
                "detail_en": "The address is not in the register of residents.",
            }
        ],
        "trace": [
            {
                "rule": "resident_found",
                "values": {"records.resident.found": False},
                "result": False,
            }
        ],
        "rules_version": "2026-12-01",
        "submitted_at": submitted,
        "due_at": submitted + dt.timedelta(days=5),
    }
    values.update(kw)
    case = Application(**values)
    session.add(case)
    session.commit()
    return case


def csrf(client: TestClient, path: str = BASE) -> str:
    return csrf_in(client.get(path).text)


def post(
    client: TestClient, path: str, data: dict[str, str] | None = None, page: str = BASE
) -> Any:
    body = {"csrf_token": csrf(client, page), **(data or {})}
    return client.post(path, data=body, follow_redirects=False)


def reload(session: Session, case: Application) -> Application:
    session.expire_all()
    found = session.get(Application, case.id)
    assert found is not None
    return found


def audit_of(session: Session, case: Application) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.target == case.code)))


def message(html: str) -> str:
    found = re.search(r'id="case-message"[^>]*>([^<]*)<', html)
    return found.group(1) if found else ""


# -- access ----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [BASE, f"{BASE}/{NOBODY}", f"{BASE}/{NOBODY}/export.json"])
def test_anonymous_is_sent_to_the_login(client: TestClient, path: str) -> None:
    resp = client.get(path, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/mitarbeiter/login?next=")


def test_a_planner_may_not_see_the_queue(client: TestClient, session: Session) -> None:
    make_user(session, "planerin", "planner")
    login(client, "planerin")
    assert client.get(BASE).status_code == 403


def test_the_staff_home_links_the_queue(clerk: TestClient) -> None:
    assert f'href="{BASE}"' in clerk.get("/mitarbeiter").text


def test_pages_are_private(clerk: TestClient, session: Session) -> None:
    case = add_case(session, days_ago=1)
    for path in (BASE, f"{BASE}/{case.code}"):
        resp = clerk.get(path)
        assert resp.status_code == 200
        assert "no-store" in resp.headers["cache-control"]


def test_posts_without_csrf_token_are_refused(clerk: TestClient, session: Session) -> None:
    case = add_case(session, days_ago=1)
    for path in (
        f"{BASE}/naechster",
        f"{BASE}/{case.code}/bestaetigen",
        f"{BASE}/{case.code}/notiz",
    ):
        assert clerk.post(path, data={"text": "x"}, follow_redirects=False).status_code == 403
    assert reload(session, case).status == "in_review"
    assert reload(session, case).assigned_to is None


# -- the queue -------------------------------------------------------------------------------
def test_queue_lists_open_cases_oldest_first_and_marks_overdue(
    clerk: TestClient, session: Session
) -> None:
    young = add_case(session, days_ago=1)
    old = add_case(session, days_ago=9)  # due four days ago
    waiting = add_case(session, days_ago=3, status="waiting", requested_upload="Vollmacht")
    done = add_case(session, days_ago=20, status="approved", decided_at=utcnow())
    draft = add_case(session, days_ago=30, status="draft", submitted_at=None, due_at=None)
    html = clerk.get(BASE).text
    positions = [html.find(c.code) for c in (old, waiting, young)]
    assert -1 not in positions and positions == sorted(positions)
    assert done.code not in html and draft.code not in html
    rows = html.split("<tr>")
    overdue = [row for row in rows if "überfällig" in row]
    assert len(overdue) == 1 and old.code in overdue[0]
    assert "bewilligen vorgeschlagen" in html
    assert "wartet auf Unterlage" in html


def test_queue_in_english(clerk: TestClient, session: Session) -> None:
    add_case(session, days_ago=9)
    clerk.get("/sprache/en?next=/")
    html = clerk.get(BASE).text
    assert "Take next case" in html and "overdue" in html and "approval proposed" in html


def test_take_next_assigns_the_oldest_case(clerk: TestClient, session: Session) -> None:
    add_case(session, days_ago=2)
    old = add_case(session, days_ago=4)
    resp = post(clerk, f"{BASE}/naechster")
    assert resp.status_code == 303
    assert resp.headers["location"] == f"{BASE}/{old.code}"
    assert reload(session, old).assigned_to == "sachbearbeiterin"
    assert audit_of(session, old)
    assert "sachbearbeiterin" in clerk.get(BASE).text


def test_take_next_with_nothing_left_says_so(clerk: TestClient, session: Session) -> None:
    resp = post(clerk, f"{BASE}/naechster")
    assert resp.status_code == 303 and resp.headers["location"] == f"{BASE}?leer=1"
    assert "keinen offenen Antrag" in clerk.get(resp.headers["location"]).text


# -- one case --------------------------------------------------------------------------------
def test_case_page_shows_answers_findings_and_trace(clerk: TestClient, session: Session) -> None:
    case = add_case(session, days_ago=1)
    html = clerk.get(f"{BASE}/{case.code.lower()}").text
    assert "Mustermann" in html and "12.08.1964" in html
    assert "Die Anschrift ist im Melderegister nicht zu finden." in html
    assert "records.resident.found" in html and "false" in html
    assert "2026-12-01" in html
    assert "Vorschlag bestätigen" in html
    (entry,) = audit_of(session, case)  # who looked at whose data
    assert (entry.action, entry.username) == ("case_view", "sachbearbeiterin")


def test_case_page_in_english_shows_the_english_reason(clerk: TestClient, session: Session) -> None:
    case = add_case(session, days_ago=1)
    clerk.get("/sprache/en?next=/")
    html = clerk.get(f"{BASE}/{case.code}").text
    assert "The address is not in the register of residents." in html
    assert "Confirm proposal" in html


def test_a_draft_is_not_shown_to_staff(clerk: TestClient, session: Session) -> None:
    draft = add_case(session, days_ago=0, status="draft", submitted_at=None, due_at=None)
    assert clerk.get(f"{BASE}/{draft.code}").status_code == 404


def test_confirm_approves_with_document_and_audit(clerk: TestClient, session: Session) -> None:
    case = add_case(session, days_ago=1)
    resp = post(clerk, f"{BASE}/{case.code}/bestaetigen", page=f"{BASE}/{case.code}")
    assert resp.status_code == 303, resp.text
    found = reload(session, case)
    assert found.status == "approved" and found.decided_by == "sachbearbeiterin"
    assert found.statement and found.verification_code  # the PDF is made on first request
    assert audit_of(session, case)
    page = clerk.get(resp.headers["location"]).text
    assert "Der Vorschlag ist bestätigt." in message(page)


def test_confirm_twice_is_a_conflict_shown_on_the_page(clerk: TestClient, session: Session) -> None:
    case = add_case(session, days_ago=1)
    page = f"{BASE}/{case.code}"
    token = csrf(clerk, page)
    assert (
        clerk.post(
            f"{page}/bestaetigen", data={"csrf_token": token}, follow_redirects=False
        ).status_code
        == 303
    )
    again = clerk.post(f"{page}/bestaetigen", data={"csrf_token": token}, follow_redirects=False)
    assert again.status_code == 409
    assert message(again.text) and 'role="alert"' in again.text and "autofocus" in again.text


def test_reject_without_reason_is_refused_and_changes_nothing(
    clerk: TestClient, session: Session
) -> None:
    case = add_case(session, days_ago=1, proposal="rejected")
    resp = post(
        clerk,
        f"{BASE}/{case.code}/entscheiden",
        {"outcome": "rejected", "reason": "  "},
        page=f"{BASE}/{case.code}",
    )
    assert resp.status_code == 422
    assert message(resp.text) == "Eine Ablehnung braucht eine Begründung."
    assert 'aria-invalid="true" aria-describedby="case-message"' in resp.text
    found = reload(session, case)
    assert found.status == "in_review" and found.decided_at is None


def test_a_refusal_is_in_the_page_language(clerk: TestClient, session: Session) -> None:
    case = add_case(session, days_ago=1)
    clerk.get("/sprache/en?next=/")
    resp = post(
        clerk, f"{BASE}/{case.code}/entscheiden", {"outcome": "rejected"}, f"{BASE}/{case.code}"
    )
    assert resp.status_code == 422
    assert message(resp.text) == "A rejection needs a reason."


def test_reject_with_reason(clerk: TestClient, session: Session) -> None:
    case = add_case(session, days_ago=1, proposal="rejected")
    resp = post(
        clerk,
        f"{BASE}/{case.code}/entscheiden",
        {"outcome": "rejected", "reason": "Keine Hauptwohnung in Hannover."},
        page=f"{BASE}/{case.code}",
    )
    assert resp.status_code == 303
    found = reload(session, case)
    assert found.status == "rejected" and found.decision_reason
    # The clerk's reason, then the legal remedy instructions from the city's casework.yaml.
    reason, appeal = found.decision_reason.split("\n\n")
    assert reason == "Keine Hauptwohnung in Hannover." and "Verwaltungsgericht Hannover" in appeal
    assert audit_of(session, case)


def test_request_document_makes_the_case_wait(clerk: TestClient, session: Session) -> None:
    case = add_case(session, days_ago=1)
    resp = post(
        clerk,
        f"{BASE}/{case.code}/unterlage",
        {"what": "Wohnungsgeberbestätigung"},
        page=f"{BASE}/{case.code}",
    )
    assert resp.status_code == 303
    found = reload(session, case)
    assert found.status == "waiting" and found.requested_upload == "Wohnungsgeberbestätigung"
    assert audit_of(session, case)


def test_a_note_is_kept_and_shown(clerk: TestClient, session: Session) -> None:
    case = add_case(session, days_ago=1)
    resp = post(
        clerk,
        f"{BASE}/{case.code}/notiz",
        {"text": "Rückruf vereinbart."},
        page=f"{BASE}/{case.code}",
    )
    assert resp.status_code == 303
    assert "Rückruf vereinbart." in clerk.get(f"{BASE}/{case.code}").text


def test_export_of_a_closed_case(clerk: TestClient, session: Session) -> None:
    case = add_case(session, days_ago=3)
    post(clerk, f"{BASE}/{case.code}/bestaetigen", page=f"{BASE}/{case.code}")
    resp = clerk.get(f"{BASE}/{case.code}/export.json")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    assert "attachment" in resp.headers["content-disposition"]
    body = resp.json()
    assert body["exportVersion"] and body["caseId"] == documents.grouped(case.code)
    assert body["data"]["applicant"]["family_name"] == "Mustermann"
    assert body["decision"]["status"] == "approved" and body["decision"]["findings"]
    assert audit_of(session, case)[-1].action == "case_export"


def test_an_open_case_is_not_exported(clerk: TestClient, session: Session) -> None:
    case = add_case(session, days_ago=1)
    assert clerk.get(f"{BASE}/{case.code}/export.json").status_code == 409


def test_upload_download_streams_with_its_type(
    clerk: TestClient, session: Session, settings: Settings
) -> None:
    png = io.BytesIO()
    Image.new("RGB", (3, 3), (0, 90, 200)).save(png, format="PNG")
    stored = uploads.store_upload(png.getvalue(), filename="Scan Ärger.png", settings=settings)
    case = add_case(session, days_ago=1)
    upload = CaseUpload(
        application_id=case.id,
        name="requested",
        filename=stored.filename,
        content_type=stored.content_type,
        size=stored.size,
        storage_key=stored.storage_key,
    )
    session.add(upload)
    session.commit()
    assert f"{BASE}/{case.code}/unterlagen/{upload.id}" in clerk.get(f"{BASE}/{case.code}").text
    resp = clerk.get(f"{BASE}/{case.code}/unterlagen/{upload.id}")
    assert resp.status_code == 200 and resp.content == png.getvalue()
    assert resp.headers["content-type"] == "image/png"
    assert resp.headers["content-disposition"].startswith("attachment;")
    assert "Scan%20%C3%84rger.png" in resp.headers["content-disposition"]
    assert resp.headers["x-content-type-options"] == "nosniff"
    downloads = [e for e in audit_of(session, case) if e.action == "case_upload_download"]
    assert [(e.username, e.detail["upload_id"]) for e in downloads] == [
        ("sachbearbeiterin", upload.id)
    ]
    other = add_case(session, days_ago=1)  # an upload is only found through its own case
    assert clerk.get(f"{BASE}/{other.code}/unterlagen/{upload.id}").status_code == 404


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        f"{BASE}/UNBEKANNT",
        f"{BASE}/A%00B",
        f"{BASE}/{'A' * 500}",
        f"{BASE}/{NOBODY}/unterlagen/99999999999999999999",
        f"{BASE}/{NOBODY}/unterlagen/-1",
        f"{BASE}/{NOBODY}/unterlagen/1",
        f"{BASE}/{NOBODY}/export.json",
        f"{BASE}?leistung={'x' * 500}",
        f"{BASE}?leistung=a%00b",
    ],
)
def test_bad_input_is_a_clear_4xx(clerk: TestClient, path: str) -> None:
    assert 400 <= clerk.get(path).status_code < 500


@pytest.mark.parametrize(
    "data",
    [
        {"outcome": "vielleicht"},
        {"outcome": "approved", "reason": "a\x00b"},
        {"outcome": "approved", "reason": "x" * 3000},
    ],
)
def test_bad_decisions_are_a_clear_4xx(
    clerk: TestClient, session: Session, data: dict[str, str]
) -> None:
    case = add_case(session, days_ago=1)
    resp = post(clerk, f"{BASE}/{case.code}/entscheiden", data, page=f"{BASE}/{case.code}")
    assert 400 <= resp.status_code < 500
    assert reload(session, case).status == "in_review"


def test_actions_on_an_unknown_case_are_404(clerk: TestClient) -> None:
    resp = post(clerk, f"{BASE}/{NOBODY}/notiz", {"text": "x"})
    assert resp.status_code == 404
