"""One e-mail per status change of an application, sent by the worker over real SMTP on
loopback (aiosmtpd): received, waiting for a document, document received, approved, rejected."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from servicepoint.casework import service
from servicepoint.config import Settings
from servicepoint.worker import run_once
from tests.casework.case_support import ERIKA, PDF, apply, in_review, local_settings, reject
from tests.mail_support import Collector


@pytest.fixture
def settings(settings: Settings, tmp_path: Path, smtp_server: tuple[Collector, int]) -> Settings:
    mailing = local_settings(settings, tmp_path / "var")
    return mailing.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server[1],
            "smtp_timeout": 5,
            "base_url": "https://stadt.example",
        }
    )


def deliver(session: Session, settings: Settings, smtp: Collector) -> list[EmailMessage]:
    """Run the worker once; the messages it sent."""
    before = len(smtp.messages)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    run_once(session, settings=settings, now=later)
    return [message for _, message in smtp.messages[before:]]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_each_status_change_sends_one_mail(
    session: Session, settings: Settings, smtp: Collector
) -> None:
    case = in_review(session, settings)
    link = f"https://stadt.example/antrag/status/{case.code}"
    sent = deliver(session, settings, smtp)
    assert [m["Subject"] for m in sent] == [
        "Ihr Antrag ist eingegangen: Meldebescheinigung beantragen"
    ]
    assert sent[0]["To"] == ERIKA["email"]
    assert link in text_of(sent[0]) and "Guten Tag Erika Mustermann," in text_of(sent[0])

    service.request_document(
        session, settings=settings, case=case, username="clerk", what="Ihren Mietvertrag"
    )
    (waiting,) = deliver(session, settings, smtp)
    assert waiting["Subject"].startswith("Bitte reichen Sie eine Unterlage nach")
    assert "Ihren Mietvertrag" in text_of(waiting) and link in text_of(waiting)

    service.add_upload(
        session, settings=settings, case=case, name="requested", filename="v.pdf", data=PDF
    )
    (received,) = deliver(session, settings, smtp)
    assert received["Subject"].startswith("Ihre Unterlage ist eingegangen")

    service.confirm(session, settings=settings, case=case, username="clerk")
    (approved,) = deliver(session, settings, smtp)
    assert approved["Subject"] == "Ihr Antrag ist bewilligt: Meldebescheinigung beantragen"
    assert deliver(session, settings, smtp) == []  # nothing sent twice


def test_an_automatic_approval_sends_only_the_approval(
    session: Session, settings: Settings, smtp: Collector
) -> None:
    apply(session, settings, lang="en")
    (approved,) = deliver(session, settings, smtp)
    subject = str(approved["Subject"]).strip()  # a long subject is folded onto its own line
    assert subject == "Your application has been approved: Apply for a certificate of registration"
    assert "Hello Erika Mustermann," in text_of(approved)


def test_a_rejection_mail_gives_the_reason_and_no_register_facts(
    session: Session, settings: Settings, smtp: Collector
) -> None:
    case = in_review(session, settings)
    deliver(session, settings, smtp)
    reject(session, settings, case, "Sie wohnen nicht in Hannover.")
    (rejected,) = deliver(session, settings, smtp)
    text = text_of(rejected)
    assert rejected["Subject"].startswith("Entscheidung über Ihren Antrag")
    assert "Begründung: Sie wohnen nicht in Hannover." in text
    assert "Melderegister" not in text  # the findings stay on the status page
