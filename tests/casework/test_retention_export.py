"""Personal data of applications goes on schedule (cases, their uploaded files, stale drafts),
and a case exports in the documented FIT-Connect-like shape (docs/casework-export.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from servicepoint.casework import service
from servicepoint.casework.export import canonical_json
from servicepoint.casework.models import Application, CaseUpload
from servicepoint.catalog.models import Service
from servicepoint.config import Settings
from servicepoint.worker import run_once
from tests.casework.case_support import (
    DOG,
    ELSEWHERE,
    ERIKA,
    PDF,
    apply,
    in_review,
    local_settings,
    reject,
)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return local_settings(settings, tmp_path / "var")


def _exists(session: Session, case_id: int) -> bool:
    session.expire_all()
    return session.get(Application, case_id) is not None


def _with_requested_upload(session: Session, settings: Settings) -> Application:
    case = in_review(session, settings)
    service.request_document(session, settings=settings, case=case, username="clerk", what="Pass")
    service.add_upload(
        session, settings=settings, case=case, name="requested", filename="pass.pdf", data=PDF
    )
    return case


def test_closed_cases_go_with_their_files_after_the_retention_period(
    session: Session, settings: Settings
) -> None:
    case = _with_requested_upload(session, settings)
    service.confirm(session, settings=settings, case=case, username="clerk")
    stored = settings.state_dir / "uploads" / case.uploads[0].storage_key
    assert stored.exists() and case.delete_after is not None
    case_id, due = case.id, case.delete_after
    assert run_once(session, settings=settings, now=due - dt.timedelta(minutes=1)).cases_purged == 0
    assert _exists(session, case_id) and stored.exists()
    assert run_once(session, settings=settings, now=due + dt.timedelta(minutes=1)).cases_purged == 1
    assert not _exists(session, case_id) and not stored.exists()
    assert (
        session.scalars(select(CaseUpload).where(CaseUpload.application_id == case_id)).all() == []
    )


def test_rejected_cases_go_too_and_open_ones_stay(session: Session, settings: Settings) -> None:
    rejected, still_open = in_review(session, settings), in_review(session, settings)
    reject(session, settings, rejected, "Nein.")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=181)
    ids = (rejected.id, still_open.id)
    assert service.purge_cases(session, settings=settings, now=later) >= 1
    assert not _exists(session, ids[0]) and _exists(session, ids[1])


def test_drafts_left_alone_go_after_the_draft_period(session: Session, settings: Settings) -> None:
    old = service.start_draft(
        session, settings=settings, service_id="meldebescheinigung", lang="de"
    )
    fresh = service.start_draft(
        session, settings=settings, service_id="meldebescheinigung", lang="de"
    )
    now = dt.datetime.now(dt.UTC)
    session.execute(
        update(Application)
        .where(Application.id == old.id)
        .values(updated_at=now - dt.timedelta(days=settings.case_draft_days + 1))
    )
    ids = (old.id, fresh.id)
    assert service.purge_cases(session, settings=settings, now=now) >= 1
    assert not _exists(session, ids[0]) and _exists(session, ids[1])


def test_purge_is_idempotent(session: Session, settings: Settings) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3650)
    service.purge_cases(session, settings=settings, now=later)
    assert service.purge_cases(session, settings=settings, now=later) == 0


# --- export ---------------------------------------------------------------------------------------


def test_an_approved_case_exports_like_a_fit_connect_submission(
    session: Session, settings: Settings
) -> None:
    case = _with_requested_upload(session, settings)
    service.confirm(session, settings=settings, case=case, username="clerk")
    assert case.document is None  # made on the first request, here the handover
    exported = service.handover(session, settings=settings, case=case, username="clerk")
    assert json.loads(json.dumps(exported)) == exported  # plain JSON
    assert exported["caseId"].replace("-", "") == case.code
    assert exported["serviceType"] == {
        "identifier": "urn:servicepoint:service:meldebescheinigung",
        "name": "Meldebescheinigung beantragen",
    }
    meta = exported["metadata"]
    assert meta["$schema"].startswith("https://schema.fitko.de/fit-connect/metadata/1.")
    assert meta["publicServiceType"] == exported["serviceType"]
    assert meta["replyChannel"] == {"eMail": {"address": ERIKA["email"]}}
    data_hash = meta["contentStructure"]["data"]["hash"]
    assert data_hash == {
        "type": "sha512",
        "content": hashlib.sha512(canonical_json(exported["data"])).hexdigest(),
    }
    assert exported["data"]["applicant"] == ELSEWHERE
    assert exported["data"]["answers"] == {"kind": "simple", "own_data": True}
    purposes = [a["purpose"] for a in exported["attachments"]]
    assert purposes == ["attachment", "report"]
    report = exported["attachments"][1]
    assert case.document is not None
    assert report["hash"]["content"] == hashlib.sha512(case.document).hexdigest()
    ids = [a["attachmentId"] for a in meta["contentStructure"]["attachments"]]
    assert ids == [a["attachmentId"] for a in exported["attachments"]]
    decision = exported["decision"]
    assert decision["status"] == "approved" and decision["decidedBy"] == "clerk"
    assert decision["automatic"] is False and decision["rulesVersion"] == case.rules_version
    upload = exported["attachments"][0]
    stored = (settings.state_dir / "uploads" / case.uploads[0].storage_key).read_bytes()
    assert upload["hash"] == {"type": "sha512", "content": hashlib.sha512(stored).hexdigest()}
    assert meta["contentStructure"]["attachments"][0]["hash"] == upload["hash"]
    assert service.export_case(case, settings=settings) == exported  # stable ids


def test_the_export_names_the_leika_key_and_the_invoice(
    session: Session, settings: Settings
) -> None:
    session.execute(
        update(Service).where(Service.id == "hundesteuer").values(leika="99108001000000")
    )
    case = apply(session, settings, service_id="hundesteuer", data=DOG)
    exported = service.export_case(case, settings=settings)
    assert exported["serviceType"]["identifier"] == "urn:de:fim:leika:leistung:99108001000000"
    assert exported["metadata"]["paymentInformation"] == {
        "paymentMethod": "INVOICE",
        "status": "INITIATED",
        "transactionReference": case.payment["reference"],
    }
    assert exported["fee"]["amountCents"] == 15000
    assert exported["decision"]["decidedAt"] is None
