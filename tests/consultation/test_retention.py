"""A video call's documents go video_upload_retention_days after the call, its note and rating
with the booking's personal data; the worker does both, and any number of times."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.casework import uploads as casework_uploads
from servicepoint.config import Settings
from servicepoint.consultation import service
from servicepoint.consultation import uploads as consultation_uploads
from servicepoint.consultation.models import Consultation, ConsultationUpload
from servicepoint.core.clock import utcnow
from servicepoint.worker import run_once
from tests.consultation.support import PDF, clerk, in_call, video_booking

DAY = dt.timedelta(days=1)


@pytest.fixture
def local(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(
        update={
            "state_dir": tmp_path,
            "video_upload_retention_days": 7,
            "booking_retention_days": 14,
        }
    )


def _upload(session: Session, local: Settings, consultation: Consultation) -> ConsultationUpload:
    return service.add_upload(
        session, consultation_id=consultation.id, source=PDF, filename="a.pdf", settings=local
    )


def _file(local: Settings, row: ConsultationUpload) -> Path:
    return consultation_uploads.upload_dir(local) / row.storage_key


def _rows(session: Session, consultation: Consultation) -> list[ConsultationUpload]:
    stmt = select(ConsultationUpload).where(ConsultationUpload.consultation_id == consultation.id)
    return list(session.scalars(stmt))


def test_documents_go_some_days_after_the_call_ended(session: Session, local: Settings) -> None:
    booking = video_booking(session)
    consultation = in_call(session, local, booking)
    row = _upload(session, local, consultation)
    ended = utcnow()
    service.end(session, code=booking.code, clerk=clerk(session), now=ended)
    kept = run_once(session, settings=local, now=ended + 7 * DAY - dt.timedelta(minutes=1))
    assert kept.consultations_purged == 0 and _file(local, row).exists()
    report = run_once(session, settings=local, now=ended + 7 * DAY + dt.timedelta(minutes=1))
    assert report.consultations_purged == 1 and report.video_uploads_swept == 1
    assert _rows(session, consultation) == [] and not _file(local, row).exists()
    again = run_once(session, settings=local, now=ended + 8 * DAY)
    assert (again.consultations_purged, again.video_uploads_swept) == (0, 0)


def test_a_call_never_ended_counts_from_the_booked_end(session: Session, local: Settings) -> None:
    booking = video_booking(session)
    consultation = in_call(session, local, booking)
    row = _upload(session, local, consultation)
    assert service.purge(session, settings=local, now=booking.end + 7 * DAY - DAY) == 0
    assert service.purge(session, settings=local, now=booking.end + 7 * DAY + DAY) == 1
    session.flush()
    consultation_uploads.sweep(session, local, booking.end + 8 * DAY)
    assert not _file(local, row).exists()


def test_note_and_rating_go_with_the_bookings_personal_data(
    session: Session, local: Settings
) -> None:
    booking = video_booking(session)
    consultation = in_call(session, local, booking)
    service.add_note(session, code=booking.code, text="Ausweis gesehen")
    service.end(session, code=booking.code, clerk=None)
    service.rate(session, consultation_id=consultation.id, rating=5)
    service.purge(session, settings=local, now=booking.end + 14 * DAY - dt.timedelta(minutes=1))
    session.refresh(consultation)
    assert consultation.note == "Ausweis gesehen" and consultation.purged_at is None
    due = booking.end + 14 * DAY + dt.timedelta(minutes=1)
    assert service.purge(session, settings=local, now=due) == 1
    purged = session.get(Consultation, consultation.id, populate_existing=True)
    assert purged is not None
    assert (purged.note, purged.rating, purged.purged_at) == (None, None, due)
    assert consultation.state == "ended"  # the anonymous facts stay for the figures
    assert service.purge(session, settings=local, now=due + DAY) == 0
    with pytest.raises(Exception) as caught:
        service.add_note(session, code=booking.code, text="zu spät")
    assert getattr(caught.value, "status_code", None) == 409


def test_the_two_sweeps_leave_each_others_files_alone(session: Session, local: Settings) -> None:
    booking = video_booking(session)
    consultation = in_call(session, local, booking)
    video_file = _file(local, _upload(session, local, consultation))
    case_file = casework_uploads.store_upload(PDF, filename="b.pdf", settings=local)
    later = utcnow() + 2 * DAY
    # No CaseUpload names the video file, no ConsultationUpload the case file: each sweep
    # looks only into its own folder.
    assert casework_uploads.sweep(session, local, later) == 1  # the unnamed case file
    assert video_file.exists()
    stray = consultation_uploads.store(PDF, filename="c.pdf", settings=local)
    assert consultation_uploads.sweep(session, local, later) == 1  # the stray, not the named
    assert video_file.exists()
    assert not (consultation_uploads.upload_dir(local) / stray.storage_key).exists()
    assert not (casework_uploads.upload_dir(local) / case_file.storage_key).exists()
