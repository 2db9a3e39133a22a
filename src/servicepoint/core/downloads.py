"""Files staff download (a case's documents, a video call's, an export): always as an
attachment with a safe name, never shown inline, so a browser never runs an uploaded file."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import Response


def attachment(filename: str) -> str:
    """Content-Disposition for a download: an ASCII name for old clients and the real one
    (RFC 5987) for the rest."""
    plain = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in filename
    )
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_download(data: bytes, *, filename: str, content_type: str) -> Response:
    """`data` as a download of `filename`; the type as checked on upload, not sniffed."""
    headers = {"Content-Disposition": attachment(filename), "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type=content_type, headers=headers)
