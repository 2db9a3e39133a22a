"""Documents citizens upload with an application: PDF and images only, stored outside the web root.

The type is decided by the content, never by the name or the browser's Content-Type: a renamed
program is refused. Files live under `settings.state_dir / "uploads"` with a random name; the
database keeps that key and the sanitised display name. Requests only ever add files; a file
goes when no row refers to it any more (replaced, purged, or written by a request that then
failed), swept by the worker (`sweep`), so a rolled-back transaction never loses a file its
rows still name.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import secrets
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import filetype
from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from servicepoint.casework.models import CaseUpload
from servicepoint.config import Settings
from servicepoint.core.i18n import N_
from servicepoint.errors import NotFound, PayloadTooLarge, Unprocessable, UnsupportedMediaType

ALLOWED_TYPES = ("application/pdf", "image/jpeg", "image/png")
FILENAME_MAX = 120
_CHUNK = 64 * 1024
_SNIFF = 8192  # as much as filetype ever looks at
_KEY = re.compile(r"[0-9a-f]{32}")
_EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_UNSAFE = frozenset('"<>:|?*')
_INCOMING = ".incoming-"  # a file being written (renamed to its key once checked)
# A request writes its file before its transaction commits; younger files are left alone.
SWEEP_GRACE = dt.timedelta(hours=1)
_SWEEP_BATCH = 500


# Citizens post documents on the application pages and on one route of a video call; there a
# multipart body may carry a few files (the application) or one file (the call) at the upload
# limit each, plus the form's text; everywhere else the small limit. A pattern is a path prefix,
# or with "*" one path segment in between (web.middleware.path_matches).
UPLOAD_PATHS = ("/antrag/",)
SINGLE_UPLOAD_PATHS = ("/video/*/dokument",)
FILES_PER_REQUEST = 3
FORM_OVERHEAD = 64 * 1024


def multipart_limits(settings: Settings) -> tuple[tuple[str, int], ...]:
    """The body limits web.middleware.RequestContextMiddleware applies to multipart forms."""
    several = settings.upload_max_bytes * FILES_PER_REQUEST + FORM_OVERHEAD
    one = settings.upload_max_bytes + FORM_OVERHEAD
    return tuple((p, several) for p in UPLOAD_PATHS) + tuple((p, one) for p in SINGLE_UPLOAD_PATHS)


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class StoredFile:
    storage_key: str
    filename: str
    content_type: str
    size: int


def upload_dir(settings: Settings) -> Path:
    return Path(settings.state_dir) / "uploads"


def store_upload(
    data: bytes | Readable, *, filename: str, settings: Settings, directory: Path | None = None
) -> StoredFile:
    """Check and write one upload atomically; raises 413, 415 or 422 and leaves nothing behind.
    `directory`: another domain's folder (video calls), which this module's sweep never sees."""
    directory = directory or upload_dir(settings)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    fd, temp = tempfile.mkstemp(dir=directory, prefix=_INCOMING)
    try:
        with os.fdopen(fd, "wb") as out:
            head, size = _copy(source, out, limit=settings.upload_max_bytes)
            out.flush()
            os.fsync(out.fileno())
        content_type = sniff(head)
        key = secrets.token_hex(16)
        os.replace(temp, directory / key)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return StoredFile(key, display_name(filename, content_type), content_type, size)


def _copy(source: Readable, out: BinaryIO, *, limit: int) -> tuple[bytes, int]:
    """Copy at most `limit` bytes; return the first bytes (for sniffing) and the size."""
    head, size = b"", 0
    while chunk := source.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                N_("Die Datei ist zu groß (höchstens %(mb)s MB)."), mb=_megabytes(limit)
            )
        if len(head) < _SNIFF:
            head += chunk[: _SNIFF - len(head)]
        out.write(chunk)
    if size == 0:
        raise Unprocessable(N_("Die Datei ist leer."), code="empty_file")
    return head, size


def _megabytes(limit: int) -> str:
    return f"{limit / 1_000_000:g}"


def sniff(head: bytes) -> str:
    """The content type the bytes really have, if it is one we accept; else 415."""
    kind = filetype.guess(head)
    mime = kind.mime if kind is not None else None
    if mime in ALLOWED_TYPES and _looks_whole(mime, head):
        return str(mime)
    raise UnsupportedMediaType(N_("Bitte laden Sie eine PDF-Datei oder ein Bild (JPEG, PNG) hoch."))


def _looks_whole(mime: str, head: bytes) -> bool:
    """More than the magic number: the header a reader needs to open the file at all."""
    if mime == "application/pdf":
        return head.startswith(b"%PDF-")
    if mime == "image/png":
        return head.startswith(_PNG_SIGNATURE) and head[12:16] == b"IHDR"
    return head.startswith(b"\xff\xd8\xff") and len(head) > 4


def display_name(filename: str, content_type: str) -> str:
    """The name shown to staff: no folders, no control or invisible characters, short."""
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = " ".join("".join(_shown(ch) for ch in name).split()).strip(" .")
    if not name:
        return "upload" + _EXTENSIONS[content_type]
    if len(name) <= FILENAME_MAX:
        return name
    stem, dot, ext = name.rpartition(".")
    if dot and 0 < len(ext) <= 8:
        return stem[: FILENAME_MAX - len(ext) - 1].rstrip(" .") + "." + ext
    return name[:FILENAME_MAX]


def _shown(ch: str) -> str:
    """Control and invisible characters (bidi overrides, zero width) go; odd spaces become one;
    quotes and the characters Windows forbids become "_" so the name is safe in a download."""
    category = unicodedata.category(ch)
    if ch.isspace() or category.startswith("Z"):
        return " "
    if category.startswith("C"):
        return ""
    return "_" if ch in _UNSAFE else ch


def _path(key: str, settings: Settings, directory: Path | None) -> Path:
    if not _KEY.fullmatch(key):  # also keeps "../" and absolute paths out
        raise NotFound(N_("Die Datei wurde nicht gefunden."), code="upload_not_found")
    return (directory or upload_dir(settings)) / key


def open_upload(key: str, settings: Settings, directory: Path | None = None) -> bytes:
    try:
        return _path(key, settings, directory).read_bytes()
    except FileNotFoundError:
        raise NotFound(N_("Die Datei wurde nicht gefunden."), code="upload_not_found") from None


def delete_upload(key: str, settings: Settings, directory: Path | None = None) -> None:
    """Remove a stored file; one already gone is fine (the purge may run twice)."""
    _path(key, settings, directory).unlink(missing_ok=True)


def sweep(
    session: Session,
    settings: Settings,
    now: dt.datetime,
    *,
    directory: Path | None = None,
    column: InstrumentedAttribute[str] = CaseUpload.storage_key,
) -> int:
    """Delete the stored files no CaseUpload row refers to and older than SWEEP_GRACE (a
    replaced upload, a purged case's files, the file of a request that failed, a write cut
    off half way); returns how many went. Idempotent: the worker runs it every pass.
    Another domain sweeps its own `directory` against its own key `column`."""
    directory = directory or upload_dir(settings)
    if not directory.is_dir():
        return 0
    cutoff = (now - SWEEP_GRACE).timestamp()
    old = [p for p in directory.iterdir() if _sweepable(p.name) and _older(p, cutoff)]
    removed = 0
    for start in range(0, len(old), _SWEEP_BATCH):
        batch = old[start : start + _SWEEP_BATCH]
        names = [p.name for p in batch]
        kept = set(session.scalars(select(column).where(column.in_(names))))
        for path in batch:
            if path.name not in kept:
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def _sweepable(name: str) -> bool:
    return bool(_KEY.fullmatch(name)) or name.startswith(_INCOMING)


def _older(path: Path, cutoff: float) -> bool:
    try:
        return path.is_file() and path.stat().st_mtime < cutoff
    except FileNotFoundError:  # swept by another worker meanwhile
        return False
