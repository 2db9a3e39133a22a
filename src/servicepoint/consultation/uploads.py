"""Documents sent during a video call: casework's checks (PDF, JPEG, PNG by content, size
limit: 413/415/422), stored in a folder of their own, `state_dir/video-uploads`, so the
casework sweep (which deletes files no case names) never touches them and ours never touches
theirs. Like casework, a request only adds files; files go with the worker's sweep once no row
names them (see followup.purge)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session

from servicepoint.casework import uploads as shared
from servicepoint.config import Settings
from servicepoint.consultation.models import ConsultationUpload

StoredFile = shared.StoredFile
Readable = shared.Readable


def upload_dir(settings: Settings) -> Path:
    return Path(settings.state_dir) / "video-uploads"


def store(source: bytes | Readable, *, filename: str, settings: Settings) -> StoredFile:
    """Check and write one document; 413/415/422 leave nothing behind."""
    return shared.store_upload(
        source, filename=filename, settings=settings, directory=upload_dir(settings)
    )


def read(key: str, settings: Settings) -> bytes:
    """A stored document's bytes; 404 when it is gone."""
    return shared.open_upload(key, settings, upload_dir(settings))


def sweep(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Delete files no ConsultationUpload row names (purged, or from a failed request)."""
    return shared.sweep(
        session,
        settings,
        now,
        directory=upload_dir(settings),
        column=ConsultationUpload.storage_key,
    )
