"""Uploaded files are never deleted inside a request: the worker sweeps the ones no row names,
once they are older than an hour, so a rollback never strands a row without its file and a
failed request leaves no file behind for ever. The instance folder is absolute from start-up."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from servicepoint.casework import service, uploads
from servicepoint.casework.models import Application
from servicepoint.config import Settings
from servicepoint.core.clock import utcnow
from servicepoint.worker import run_once
from tests.casework.case_support import PDF, local_settings

LATER = dt.timedelta(hours=2)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return local_settings(settings, tmp_path / "var")


def _files(settings: Settings) -> set[str]:
    return {p.name for p in uploads.upload_dir(settings).iterdir()}


def _draft_with_upload(session: Session, settings: Settings) -> tuple[Application, str]:
    case = service.start_draft(
        session, settings=settings, service_id="bewohnerparkausweis", lang="de"
    )
    first = service.add_upload(
        session,
        settings=settings,
        case=case,
        name="vehicle_registration",
        filename="schein.pdf",
        data=PDF,
    )
    return case, first.storage_key


def test_a_rolled_back_replacement_keeps_the_file_the_row_still_names(
    session: Session, settings: Settings
) -> None:
    case, first = _draft_with_upload(session, settings)
    session.commit()
    with session.begin_nested() as request:  # a request that replaces the file, then fails
        service.add_upload(
            session,
            settings=settings,
            case=case,
            name="vehicle_registration",
            filename="neu.pdf",
            data=PDF,
        )
        request.rollback()
    session.expire_all()
    assert [u.storage_key for u in case.uploads] == [first]
    assert uploads.open_upload(first, settings) == PDF  # still there for the row
    assert len(_files(settings)) == 2  # and the failed request's file, until the sweep
    assert uploads.sweep(session, settings, utcnow() + LATER) == 1
    assert _files(settings) == {first}


def test_files_younger_than_an_hour_are_left_to_their_request(
    session: Session, settings: Settings
) -> None:
    stray = uploads.store_upload(PDF, filename="x.pdf", settings=settings)  # no row yet
    assert uploads.sweep(session, settings, utcnow()) == 0
    assert uploads.sweep(session, settings, utcnow() + dt.timedelta(minutes=50)) == 0
    assert stray.storage_key in _files(settings)
    assert uploads.sweep(session, settings, utcnow() + LATER) == 1
    assert _files(settings) == set()


def test_a_half_written_file_and_foreign_names(session: Session, settings: Settings) -> None:
    directory = uploads.upload_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / ".incoming-abc123").write_bytes(b"%PDF-")  # a write cut off by a crash
    (directory / "README").write_text("not ours")  # never a stored upload's name: kept
    old = (utcnow() - LATER).timestamp()
    for path in directory.iterdir():
        os.utime(path, (old, old))
    assert uploads.sweep(session, settings, utcnow()) == 1
    assert _files(settings) == {"README"}


def test_the_worker_sweeps_replaced_and_purged_files(session: Session, settings: Settings) -> None:
    case, _ = _draft_with_upload(session, settings)
    replaced = service.add_upload(
        session,
        settings=settings,
        case=case,
        name="vehicle_registration",
        filename="neu.pdf",
        data=PDF,
    )
    session.flush()
    report = run_once(session, settings=settings, now=utcnow() + LATER)
    assert report.uploads_swept == 1 and _files(settings) == {replaced.storage_key}
    stale = utcnow() + dt.timedelta(days=settings.case_draft_days + 1)
    report = run_once(session, settings=settings, now=stale)  # the draft is purged: its file too
    assert report.cases_purged >= 1 and report.uploads_swept == 1
    assert _files(settings) == set()


def test_the_instance_folder_is_absolute_from_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    loaded = Settings(state_dir=Path("var"), secret_key="x")
    assert loaded.state_dir == tmp_path.resolve() / "var" and loaded.state_dir.is_absolute()
    monkeypatch.setenv("SERVICEPOINT_STATE_DIR", "instance")
    assert Settings(secret_key="x").state_dir == tmp_path.resolve() / "instance"
