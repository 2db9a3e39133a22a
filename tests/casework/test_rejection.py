"""A rejection is a clerk's own words plus the legal remedy instructions from the city's data:
the rules' texts only draft the reason on the staff page, and are never confirmed in one click."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from servicepoint.casework import service, workflow
from servicepoint.config import Settings
from servicepoint.errors import Unprocessable
from tests.casework.case_support import (
    ERIKA,
    city_with_form,
    in_review,
    local_settings,
    mails_to,
    reject,
)
from tests.casework.test_staff_pages import BASE, add_case, clerk, csrf, post, reload

__all__ = ["clerk"]  # the logged-in staff client, a fixture of the staff page tests

APPEAL_DE = "Klage beim Verwaltungsgericht Hannover"
REASON = "Unter der angegebenen Anschrift sind Sie nicht gemeldet."


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return local_settings(settings, tmp_path / "var")


def test_a_rejection_carries_the_appeal_in_mail_status_and_export(
    session: Session, settings: Settings
) -> None:
    case = reject(session, settings, in_review(session, settings), REASON)
    assert case.decision_reason is not None
    reason, appeal = case.decision_reason.split("\n\n")
    assert reason == REASON
    assert appeal.startswith("Rechtsbehelfsbelehrung:") and APPEAL_DE in appeal
    assert "innerhalb eines Monats nach Bekanntgabe" in appeal
    body = mails_to(session, ERIKA["email"])[-1].body
    assert f"Begründung: {REASON}" in body and APPEAL_DE in body
    assert service.public_status(case, lang="de", base_url="http://x")["status"] == "rejected"
    assert APPEAL_DE in service.export_case(case, settings=settings)["decision"]["reason"]


def test_an_english_case_gets_the_appeal_in_english(session: Session, settings: Settings) -> None:
    case = service.apply_via_api(
        session,
        settings=settings,
        service_id="meldebescheinigung",
        applicant={**ERIKA, "street": "Am Nirgendwo"},
        data={"kind": "simple", "own_data": True},
        lang="en",
    )
    reject(session, settings, case, "You are not registered at this address.")
    assert case.decision_reason is not None
    assert "Administrative Court of Hannover" in case.decision_reason


def test_without_the_citys_text_no_appeal_is_made_up(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    bare = settings.model_copy(update={"data_dir": city_with_form(tmp_path, "meldebescheinigung")})
    case = reject(session, bare, in_review(session, bare), REASON)
    assert case.decision_reason == REASON


def test_the_reason_leaves_room_for_the_appeal(session: Session, settings: Settings) -> None:
    case = in_review(session, settings)
    room = workflow.reason_room(settings, case)
    assert 1000 < room < 2000
    with pytest.raises(Unprocessable) as caught:
        reject(session, settings, case, "x" * (room + 1))
    assert set(getattr(caught.value, "fields", {})) == {"reason"}
    reject(session, settings, case, "x" * room)
    assert case.decision_reason is not None and len(case.decision_reason) <= 2000


_REJECT_FINDING = {
    "rule": "address_in_zone",
    "outcome": "reject",
    "detail": "Ihre Anschrift liegt in keiner Zone. Eine Mitarbeiterin prüft das.",
    "detail_en": "Your address is in no zone. A member of staff checks this.",
}


def test_the_staff_page_drafts_the_reason_and_offers_no_one_click_rejection(
    clerk: TestClient, session: Session
) -> None:
    case = add_case(session, days_ago=1, proposal="rejected", findings=[_REJECT_FINDING])
    page = html.unescape(clerk.get(f"{BASE}/{case.code}").text)
    assert f"{BASE}/{case.code}/bestaetigen" not in page  # no confirm button
    assert "Vorschlag bestätigen" not in page
    textarea = page.split('id="decide-reason"', 1)[1].split("</textarea>", 1)[0]
    assert _REJECT_FINDING["detail"] in textarea  # for the clerk to rewrite
    assert "Rechtsbehelfsbelehrung wird angefügt" in page


def test_confirming_a_proposed_rejection_without_a_reason_is_422_naming_it(
    clerk: TestClient, session: Session
) -> None:
    case = add_case(session, days_ago=1, proposal="rejected", findings=[_REJECT_FINDING])
    page = f"{BASE}/{case.code}"
    resp = clerk.post(
        f"{page}/bestaetigen", data={"csrf_token": csrf(clerk, page)}, follow_redirects=False
    )
    assert resp.status_code == 422
    assert 'aria-invalid="true"' in resp.text
    assert reload(session, case).status == "in_review"
    # The way the page offers: the drafted reason, rewritten, through "Ablehnen".
    done = post(clerk, f"{page}/entscheiden", {"outcome": "rejected", "reason": REASON}, page)
    assert done.status_code == 303
    found = reload(session, case)
    assert found.status == "rejected" and (found.decision_reason or "").startswith(REASON)
