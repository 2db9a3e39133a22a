"""What a video call leaves behind: the clerk's note, handover, rating, fallback and the
documents sent during the call (consultation.followup through consultation.service)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.account.models import AuditEntry
from servicepoint.appointment.models import OutboxMail
from servicepoint.config import Settings
from servicepoint.consultation import service
from servicepoint.consultation.errors import (
    AlreadyRated,
    InvalidInput,
    NoHandover,
    NotAdmitted,
    StateConflict,
)
from servicepoint.errors import PayloadTooLarge, UnsupportedMediaType
from tests.consultation.support import PDF, clerk, in_call, joined, kinds, video_booking, waiting

# --- note, handover, rating, fallback ------------------------------------------------------------


def test_notes_add_up_within_a_limit(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    in_call(session, settings, booking)
    service.add_note(session, code=booking.code, text=" Ausweis gesehen ", clerk=clerk(session))
    consultation = service.add_note(session, code=booking.code, text="Rückruf nötig")
    assert consultation.note == "Ausweis gesehen\n\nRückruf nötig"
    with pytest.raises(InvalidInput):
        service.add_note(session, code=booking.code, text="   ")
    with pytest.raises(InvalidInput):
        service.add_note(session, code=booking.code, text="x" * 4000)


def test_handover_to_an_appointment_mails_the_booking_link(
    session: Session, settings: Settings
) -> None:
    booking = video_booking(session, services=("gewerbe", "wohngeld"), lang="en")
    in_call(session, settings, booking)
    link = service.handover(
        session, code=booking.code, to="appointment", settings=settings, base_url="https://x.de/"
    )
    assert link == "https://x.de/termine?service=gewerbe"  # wohngeld is not booked in person
    mail = session.scalars(select(OutboxMail).where(OutboxMail.recipient == booking.email)).one()
    assert link in mail.body and mail.kind == "video_appointment"
    assert mail.body.startswith("Hello Erika Mustermann,")
    assert kinds(session, "handover") == [{"to": "appointment"}] * 2  # one per service
    assert joined(session, settings, booking).handover == "appointment"


def test_handover_to_an_application_needs_an_online_form(
    session: Session, settings: Settings
) -> None:
    booking = video_booking(session, services=("wohngeld",))
    in_call(session, settings, booking)
    with pytest.raises(NoHandover) as caught:
        service.handover(
            session, code=booking.code, to="application", settings=settings, base_url="http://h"
        )
    assert caught.value.status_code == 409
    with pytest.raises(NoHandover):
        service.handover(
            session, code=booking.code, to="appointment", settings=settings, base_url="http://h"
        )
    with pytest.raises(InvalidInput):
        service.handover(session, code=booking.code, to="nowhere", settings=settings, base_url="")
    # The clerk may name another service the call found out about.
    link = service.handover(
        session,
        code=booking.code,
        to="application",
        settings=settings,
        base_url="http://h",
        service_id="meldebescheinigung",
    )
    assert link == "http://h/antrag/meldebescheinigung"


def test_one_rating_after_the_end(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    consultation = in_call(session, settings, booking)
    with pytest.raises(StateConflict):
        service.rate(session, consultation_id=consultation.id, rating=5)
    service.end(session, code=booking.code, clerk=None)
    for bad in (0, 6, -1):
        with pytest.raises(InvalidInput):
            service.rate(session, consultation_id=consultation.id, rating=bad)
    service.rate(session, consultation_id=consultation.id, rating=4)
    with pytest.raises(AlreadyRated) as caught:
        service.rate(session, consultation_id=consultation.id, rating=5)
    assert caught.value.status_code == 409
    assert consultation.rating == 4 and kinds(session, "rated") == [{"rating": 4}]


def test_fallback_is_counted_once_per_mode(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    consultation = waiting(session, settings, booking)
    for mode in ("audio", "audio", "phone"):
        service.record_fallback(session, consultation_id=consultation.id, mode=mode)
    assert kinds(session, "fallback") == [{"mode": "audio"}, {"mode": "phone"}]
    assert consultation.fallback == "phone"
    with pytest.raises(InvalidInput):
        service.record_fallback(session, consultation_id=consultation.id, mode="carrier-pigeon")


# --- documents -----------------------------------------------------------------------------------


@pytest.fixture
def local(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"state_dir": tmp_path, "upload_max_bytes": 10_000})


def test_uploads_only_during_the_call(session: Session, local: Settings) -> None:
    booking = video_booking(session)
    consultation = waiting(session, local, booking)
    with pytest.raises(NotAdmitted) as caught:
        service.add_upload(
            session, consultation_id=consultation.id, source=PDF, filename="a.pdf", settings=local
        )
    assert caught.value.status_code == 409
    assert not (local.state_dir / "video-uploads").exists() or not any(
        (local.state_dir / "video-uploads").iterdir()
    )


def test_a_document_goes_to_staff(session: Session, local: Settings) -> None:
    booking = video_booking(session)
    consultation = in_call(session, local, booking)
    row = service.add_upload(
        session,
        consultation_id=consultation.id,
        source=PDF,
        filename="../Ausweis\u202e.pdf",
        settings=local,
    )
    assert (row.filename, row.content_type, row.size, row.sender) == (
        "Ausweis.pdf",
        "application/pdf",
        len(PDF),
        "citizen",
    )
    assert (local.state_dir / "video-uploads" / row.storage_key).read_bytes() == PDF
    assert not (local.state_dir / "uploads").exists()  # casework's folder stays untouched
    user = clerk(session)
    found, data = service.upload_for_staff(
        session, code=booking.code, upload_id=row.id, settings=local, clerk=user
    )
    assert found.id == row.id and data == PDF
    assert session.scalars(
        select(AuditEntry.target).where(AuditEntry.action == "video_upload_download")
    ).all() == [booking.code]
    other = video_booking(session)
    in_call(session, local, other, staff=clerk(session, "second-clerk"))
    with pytest.raises(Exception) as caught:
        service.upload_for_staff(session, code=other.code, upload_id=row.id, settings=local)
    assert getattr(caught.value, "status_code", None) == 404
    assert [u.id for u in service.uploads_of(session, consultation_id=consultation.id)] == [row.id]


def test_wrong_type_and_size_are_refused_by_content(session: Session, local: Settings) -> None:
    booking = video_booking(session)
    consultation = in_call(session, local, booking)
    with pytest.raises(UnsupportedMediaType) as wrong:
        service.add_upload(
            session,
            consultation_id=consultation.id,
            source=b"MZ\x90\x00 a program",
            filename="a.pdf",
            settings=local,
        )
    assert wrong.value.status_code == 415
    with pytest.raises(PayloadTooLarge) as big:
        service.add_upload(
            session,
            consultation_id=consultation.id,
            source=PDF + b"0" * 10_000,
            filename="big.pdf",
            settings=local,
        )
    assert big.value.status_code == 413
    folder = local.state_dir / "video-uploads"
    assert [p.name for p in folder.iterdir()] == []
    assert service.uploads_of(session, consultation_id=consultation.id) == []
