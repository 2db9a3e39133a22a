"""The casework workflow with the database (SQLite and PostgreSQL): drafts step by step,
submission and the § 35a decision, the document, fees and payment, staff decisions, waiting
for a document, events, audit and the rules version that stays with the case."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from servicepoint.account.models import AuditEntry
from servicepoint.casework import documents, payment, service, signing, uploads
from servicepoint.casework.errors import CaseClosed, CaseNotFound, FormNotFound, InvalidApplication
from servicepoint.casework.models import Application
from servicepoint.config import Settings
from servicepoint.core.clock import utcnow
from servicepoint.core.events import Event
from servicepoint.errors import Unprocessable, UnsupportedMediaType
from tests.casework.case_support import (
    CERTIFICATE,
    DOG,
    ELSEWHERE,
    ERIKA,
    PDF,
    apply,
    city_with_form,
    in_review,
    local_settings,
    mails_to,
    reject,
)

TODAY = dt.date(2026, 12, 7)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return local_settings(settings, tmp_path / "var")


def _events(session: Session, kind: str) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.kind == kind)))


def _audit(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# --- drafts --------------------------------------------------------------------------------------


def test_a_draft_is_resumed_by_its_code_typed_any_way(session: Session, settings: Settings) -> None:
    draft = service.start_draft(
        session, settings=settings, service_id="meldebescheinigung", lang="en"
    )
    assert draft.status == "draft" and draft.lang == "en" and len(draft.code) == 16
    typed = documents.grouped(draft.code).lower().replace("0", "o")
    assert service.get_case(session, code=typed).id == draft.id
    assert service.get_case(session, code=f" {draft.code[:8]} {draft.code[8:]} ").id == draft.id


@pytest.mark.parametrize("code", ["", "X", "A" * 16, "a\x00b", "0" * 40])
def test_unknown_codes_are_404(session: Session, code: str) -> None:
    with pytest.raises(CaseNotFound):
        service.get_case(session, code=code)


def test_a_service_without_a_form_has_no_draft(session: Session, settings: Settings) -> None:
    with pytest.raises(FormNotFound):
        service.start_draft(session, settings=settings, service_id="reisepass", lang="de")


def _fill(session: Session, settings: Settings, case: Application, answers: dict[str, Any]) -> None:
    form = service.form_for(settings, case.service_id)
    for index, step in enumerate(form.all_steps):
        raw = {f.name: answers.get(f.name) for f in step.fields}
        errors = service.save_step(
            session, settings=settings, case=case, index=index, raw=raw, today=TODAY
        )
        assert errors == [], errors


def test_steps_store_answers_and_errors_keep_the_draft_on_the_step(
    session: Session, settings: Settings
) -> None:
    case = service.start_draft(
        session, settings=settings, service_id="meldebescheinigung", lang="de"
    )
    errors = service.save_step(
        session,
        settings=settings,
        case=case,
        index=0,
        raw={**ERIKA, "birth_date": "31.02.1964"},
        today=TODAY,
    )
    assert [e.field for e in errors] == ["birth_date"]
    assert case.step == 0 and case.applicant["given_name"] == "Erika"
    _fill(session, settings, case, {**ERIKA, **CERTIFICATE})
    assert case.step == 2
    assert case.applicant == {**ERIKA} and case.data == CERTIFICATE
    with pytest.raises(Exception, match="Schritt"):
        service.save_step(session, settings=settings, case=case, index=9, raw={}, today=TODAY)


def test_review_shows_answers_by_label_and_an_unknown_fee(
    session: Session, settings: Settings
) -> None:
    case = service.start_draft(
        session, settings=settings, service_id="meldebescheinigung", lang="de"
    )
    _fill(session, settings, case, {**ERIKA, **CERTIFICATE})
    shown = service.review(session, settings=settings, case=case, lang="de")
    assert shown.ready and shown.problems == [] and shown.uploads == []
    assert shown.fees is None and shown.fee_cents is None  # the catalog lists no fee
    rows = dict(shown.steps[0].rows)
    assert rows["Geburtsdatum"] == "12.08.1964"
    assert (
        dict(shown.steps[1].rows)["Welche Bescheinigung brauchen Sie?"]
        == "Einfache Meldebescheinigung"
    )


def test_review_counts_the_catalog_fee(session: Session, settings: Settings) -> None:
    case = service.start_draft(session, settings=settings, service_id="hundesteuer", lang="en")
    _fill(session, settings, case, {**ERIKA, **DOG})
    shown = service.review(session, settings=settings, case=case, lang="en")
    assert shown.fee_cents == 15000
    assert shown.fees is not None and shown.fees[0].label.startswith("Dog tax")


# --- submission and the decision ------------------------------------------------------------------


def test_erika_is_approved_at_once_with_a_signed_document(
    session: Session, settings: Settings
) -> None:
    case = apply(session, settings)
    assert case.status == "approved" and case.proposal == "approved"
    assert case.decided_by is None and case.decided_at == case.submitted_at
    assert {f["outcome"] for f in case.findings} == {"pass"}
    assert case.rules_version == "2026-12-07"
    assert case.delete_after == case.decided_at + dt.timedelta(days=180)
    assert case.statement is not None and case.document is None  # the PDF: on first request
    name, pdf = service.document_of(session, settings=settings, code=case.code)
    assert pdf.startswith(b"%PDF") and case.document == pdf and name.endswith(".pdf")
    assert signing.verify_pdf(pdf, settings=settings).ok
    assert case.verification_code and case.verification_code != case.code
    assert [m.kind for m in mails_to(session, ERIKA["email"])] == ["case_approved"]
    assert len(_events(session, "application_auto_decided")) == 1


def test_an_unknown_address_goes_to_staff_with_the_reason(
    session: Session, settings: Settings
) -> None:
    case = in_review(session, settings)
    assert case.status == "in_review" and case.proposal == "approved"
    assert case.document is None and case.decided_at is None and case.delete_after is None
    assert case.due_at == case.submitted_at + dt.timedelta(days=5)
    failed = [f["rule"] for f in case.findings if f["outcome"] != "pass"]
    assert failed == ["address_matches"]
    trace = {t["rule"]: t for t in case.trace}
    assert trace["address_matches"]["values"] == {"records.resident.address_matches": False}
    assert [m.kind for m in mails_to(session, ERIKA["email"])] == ["case_submitted"]
    assert len(_events(session, "application_prepared")) == 1


def test_submit_checks_everything_again(session: Session, settings: Settings) -> None:
    case = service.start_draft(
        session, settings=settings, service_id="meldebescheinigung", lang="de"
    )
    with pytest.raises(InvalidApplication) as caught:
        service.submit(session, settings=settings, case=case)
    assert {"given_name", "birth_date", "kind", "own_data"} <= set(caught.value.fields)
    assert case.status == "draft"


def test_a_sent_case_is_no_draft_any_more(session: Session, settings: Settings) -> None:
    case = apply(session, settings)
    with pytest.raises(CaseClosed):
        service.submit(session, settings=settings, case=case)
    with pytest.raises(CaseClosed):
        service.save_step(session, settings=settings, case=case, index=0, raw=ERIKA, today=TODAY)


def test_required_uploads_are_named_and_then_accepted(session: Session, settings: Settings) -> None:
    case = service.start_draft(
        session, settings=settings, service_id="bewohnerparkausweis", lang="de"
    )
    answers = {**ERIKA, "zone": "BPZ-L1", "renewal": False, "plate": "H-AB 123", "keeper": "self"}
    _fill(session, settings, case, answers)
    with pytest.raises(InvalidApplication) as caught:
        service.submit(session, settings=settings, case=case)
    assert list(caught.value.fields) == ["vehicle_registration"]
    service.add_upload(
        session,
        settings=settings,
        case=case,
        name="vehicle_registration",
        filename="schein.pdf",
        data=PDF,
    )
    again = service.add_upload(
        session,
        settings=settings,
        case=case,
        name="vehicle_registration",
        filename="neu.pdf",
        data=PDF,
    )
    assert [u.filename for u in case.uploads] == ["neu.pdf"]
    session.flush()  # the replaced file stays until the worker's sweep finds it unreferenced
    assert len(list((settings.state_dir / "uploads").iterdir())) == 2
    assert uploads.sweep(session, settings, utcnow() + dt.timedelta(hours=2)) == 1
    assert [p.name for p in (settings.state_dir / "uploads").iterdir()] == [again.storage_key]
    with pytest.raises(UnsupportedMediaType):
        service.add_upload(
            session,
            settings=settings,
            case=case,
            name="vehicle_registration",
            filename="x.pdf",
            data=b"MZ\x90\x00",
        )
    assert [u.filename for u in case.uploads] == ["neu.pdf"]  # a refused file replaces nothing
    assert (settings.state_dir / "uploads" / again.storage_key).exists()
    service.submit(session, settings=settings, case=case)
    assert case.status == "in_review"  # parking permits are never decided by the machine
    assert again.content_type == "application/pdf"


def test_the_fee_is_recorded_through_the_invoice_provider(
    session: Session, settings: Settings
) -> None:
    case = apply(session, settings, service_id="hundesteuer", data=DOG)
    assert case.fee_cents == 15000
    assert case.payment == {
        "provider": "invoice",
        "method": "invoice",
        "state": "open",
        "amount_cents": 15000,
        "reference": case.payment["reference"],
    }
    # A reference of its own: the case code opens the status page, so it stays with the citizen.
    assert re.fullmatch(r"SP-[0-9A-HJKMNP-TV-Z]{10}", case.payment["reference"])
    assert case.code not in case.payment["reference"]
    assert (
        apply(session, settings, service_id="hundesteuer", data=DOG).payment["reference"]
        != (case.payment["reference"])
    )


class CardProvider:
    """A stand-in e-payment provider, plugged in by its dotted path like a real one."""

    def __init__(self, settings: Settings) -> None:
        self.site = settings.site_name

    def start(self, case: Application, amount_cents: int) -> dict[str, Any]:
        return {
            "provider": "card",
            "method": "card",
            "state": "open",
            "amount_cents": amount_cents,
            "reference": f"PAY-{case.code}",
            "url": f"https://pay.example/{case.code}",
        }

    def cancel(self, case: Application) -> dict[str, Any]:
        return {**case.payment, "state": "cancelled"}


def test_another_payment_provider_plugs_in_by_dotted_path(
    session: Session, settings: Settings
) -> None:
    plugged = settings.model_copy(update={"payment_provider": f"{__name__}.CardProvider"})
    case = apply(session, plugged, service_id="hundesteuer", data=DOG)
    assert case.payment["provider"] == "card" and case.payment["url"].endswith(case.code)
    assert isinstance(payment.provider_for(plugged), CardProvider)
    broken = settings.model_copy(update={"payment_provider": "no.such.Provider"})
    with pytest.raises(payment.ProviderNotFound):
        payment.provider_for(broken)


def test_the_rules_version_stays_with_the_case(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    first = settings.model_copy(
        update={"data_dir": city_with_form(tmp_path / "v1", "meldebescheinigung", version="v1")}
    )
    case = in_review(session, first)
    assert case.rules_version == "v1"
    later = settings.model_copy(
        update={"data_dir": city_with_form(tmp_path / "v2", "meldebescheinigung", version="v2")}
    )
    service.confirm(session, settings=later, case=case, username="clerk")
    assert case.status == "approved" and case.rules_version == "v1"
    assert apply(session, later).rules_version == "v2"


# --- staff ----------------------------------------------------------------------------------------


def test_confirming_the_proposal_approves_and_counts_as_unchanged(
    session: Session, settings: Settings
) -> None:
    case = in_review(session, settings)
    service.confirm(session, settings=settings, case=case, username="clerk")
    assert case.status == "approved" and case.decided_by == "clerk" and case.statement
    assert [m.kind for m in mails_to(session, ERIKA["email"])] == [
        "case_submitted",
        "case_approved",
    ]
    assert len(_events(session, "application_confirmed")) == 1
    assert [a.target for a in _audit(session, "case_confirm")] == [case.code]
    with pytest.raises(CaseClosed):
        service.confirm(session, settings=settings, case=case, username="clerk")


def test_a_case_decided_meanwhile_is_not_decided_again(
    session: Session, settings: Settings
) -> None:
    case = in_review(session, settings)
    session.flush()
    decided = update(Application).where(Application.id == case.id).values(status="rejected")
    session.execute(decided.execution_options(synchronize_session=False))
    assert case.status == "in_review"  # this clerk's page still shows it open
    with pytest.raises(CaseClosed):
        service.confirm(session, settings=settings, case=case, username="clerk")
    assert case.status == "rejected" and case.document is None and case.statement is None


def test_a_rejection_needs_a_reason_and_a_person(session: Session, settings: Settings) -> None:
    case = in_review(session, settings)
    for reason in ("", "   ", None, "x" * 2001):
        with pytest.raises(Unprocessable) as caught:
            reject(session, settings, case, reason)
        assert list(caught.value.fields) == ["reason"]
    assert case.status == "in_review"
    reject(session, settings, case, "Nicht gemeldet.")
    assert case.status == "rejected" and case.decision_reason
    assert case.decision_reason.startswith("Nicht gemeldet.\n\nRechtsbehelfsbelehrung:")
    assert case.delete_after == case.decided_at + dt.timedelta(days=180)
    assert case.document is None
    assert len(_events(session, "application_changed")) == 1
    body = mails_to(session, ERIKA["email"])[-1].body
    assert "Nicht gemeldet." in body and "abgelehnt" in body


def test_a_proposed_rejection_is_confirmed_only_with_the_clerks_own_reason(
    session: Session, settings: Settings
) -> None:
    lena = {
        **ERIKA,
        "given_name": "Lena",
        "family_name": "Wagner",
        "birth_date": "1990-04-30",
        "street": "Podbielskistraße",
        "house_number": "150",
        "postcode": "30163",
    }
    case = apply(
        session,
        settings,
        service_id="briefwahl",
        applicant=lena,
        data={"election": "testwahl-2027", "delivery": "home", "own_application": True},
    )
    assert case.status == "in_review" and case.proposal == "rejected"  # never rejected by itself
    for reason in (None, "", "  "):  # the rules' texts speak to staff: never the final reason
        with pytest.raises(Unprocessable) as caught:
            service.confirm(session, settings=settings, case=case, username="clerk", reason=reason)
        assert set(getattr(caught.value, "fields", {})) == {"reason"}
        assert case.status == "in_review"
    written = "Sie sind bei der Wahl am 7. März 2027 nicht wahlberechtigt."
    service.confirm(session, settings=settings, case=case, username="clerk", reason=written)
    assert case.status == "rejected" and case.decided_by == "clerk"
    # The postal vote's remedy is not a court action: the city's data names none, none is added.
    assert case.decision_reason == written
    assert len(_events(session, "application_confirmed")) == 1


def test_asking_for_a_document_makes_the_case_wait_until_it_comes(
    session: Session, settings: Settings
) -> None:
    case = in_review(session, settings)
    service.request_document(
        session, settings=settings, case=case, username="clerk", what="Mietvertrag"
    )
    assert case.status == "waiting" and case.requested_upload == "Mietvertrag"
    assert "Mietvertrag" in mails_to(session, ERIKA["email"])[-1].body
    upload = service.add_upload(
        session, settings=settings, case=case, name="whatever", filename="m.pdf", data=PDF
    )
    assert upload.name == "requested" and case.status == "in_review"
    kinds = [m.kind for m in mails_to(session, ERIKA["email"])]
    assert kinds == ["case_submitted", "case_waiting", "case_in_review"]
    assert [a.target for a in _audit(session, "case_request_document")] == [case.code]
    with pytest.raises(Unprocessable):
        service.request_document(session, settings=settings, case=case, username="clerk", what=" ")


def test_uploads_are_refused_on_closed_cases(session: Session, settings: Settings) -> None:
    case = apply(session, settings)
    with pytest.raises(CaseClosed):
        service.add_upload(
            session, settings=settings, case=case, name="x", filename="a.pdf", data=PDF
        )


def test_the_queue_lists_open_cases_oldest_first_and_take_next_assigns_once(
    session: Session, settings: Settings
) -> None:
    first, second = in_review(session, settings), in_review(session, settings)
    second.submitted_at = first.submitted_at + dt.timedelta(seconds=1)
    first.due_at = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    rows = [
        r
        for r in service.work_queue(session, now=dt.datetime.now(dt.UTC))
        if r.case.id in (first.id, second.id)
    ]
    assert [r.case.id for r in rows] == [first.id, second.id]
    assert [r.overdue for r in rows] == [True, False]
    taken = service.take_next(session, username="anna")
    assert taken is not None and taken.assigned_to == "anna"
    other = service.take_next(session, username="ben")
    assert other is None or other.id != taken.id
    assert _audit(session, "case_take")


def test_notes_stay_with_staff(session: Session, settings: Settings) -> None:
    case = in_review(session, settings)
    note = service.add_note(session, case=case, username="anna", text="  Rückruf vereinbart ")
    assert note.text == "Rückruf vereinbart" and case.notes == [note]
    assert [a.target for a in _audit(session, "case_note")] == [case.code]


def test_events_stay_anonymous(session: Session, settings: Settings) -> None:
    case = in_review(session, settings)
    service.confirm(session, settings=settings, case=case, username="clerk")
    for kind in ("application_submitted", "application_prepared", "application_confirmed"):
        found = _events(session, kind)
        assert found and all(e.service_id == "meldebescheinigung" for e in found)
        text = str([e.data for e in found])
        assert "Erika" not in text and case.code not in text and "clerk" not in text
    decided = _events(session, "application_confirmed")[-1]
    assert decided.data["seconds_to_decision"] >= 0


# --- the API's view -------------------------------------------------------------------------------


def test_public_status_shows_waiting_as_in_review_and_findings_in_the_language(
    session: Session, settings: Settings
) -> None:
    case = in_review(session, settings)
    service.request_document(session, settings=settings, case=case, username="clerk", what="Pass")
    view = service.public_status(case, lang="en", base_url="https://stadt.example/")
    assert view["status"] == "in_review" and view["document_url"] is None
    assert view["status_url"] == f"https://stadt.example/antrag/status/{case.code}"
    failed = [f for f in view["findings"] if f["outcome"] == "review"]
    assert failed[0]["detail"] == "A member of staff will check your details."
    assert "address_matches" not in {f["rule"] for f in view["findings"]}  # staff only


def test_drafts_are_not_shown_through_the_api(session: Session, settings: Settings) -> None:
    draft = service.start_draft(
        session, settings=settings, service_id="meldebescheinigung", lang="de"
    )
    with pytest.raises(CaseNotFound):
        service.submitted_case(session, code=draft.code)


def test_elsewhere_keeps_the_typed_address(session: Session, settings: Settings) -> None:
    case = in_review(session, settings)
    assert case.applicant["street"] == ELSEWHERE["street"]


def test_the_worker_makes_the_pdfs_nobody_fetched(session: Session, settings: Settings) -> None:
    from servicepoint.casework import documents_store

    case = apply(session, settings)
    assert case.document is None
    assert documents_store.issue_pending(session, settings=settings) == 1
    assert case.document is not None and signing.verify_pdf(case.document, settings=settings).ok
    assert documents_store.issue_pending(session, settings=settings) == 0
