"""Uploads: PDF and images only, judged by content; size limits; stored outside the web root."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine

from servicepoint.app import create_app
from servicepoint.casework import uploads
from servicepoint.casework.uploads import StoredFile, delete_upload, open_upload, store_upload
from servicepoint.config import PACKAGE_DIR, Settings
from servicepoint.errors import NotFound, PayloadTooLarge, Unprocessable, UnsupportedMediaType

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def _image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


@pytest.fixture
def state(tmp_path: Path) -> Settings:
    return Settings(state_dir=tmp_path / "var", upload_max_bytes=20_000, secret_key="test")


def _stored(state: Settings, data: bytes, name: str) -> StoredFile:
    stored = store_upload(data, filename=name, settings=state)
    assert open_upload(stored.storage_key, state) == data
    assert stored.size == len(data)
    return stored


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (PDF, "Meldebescheinigung.pdf", "application/pdf"),
        (_image("PNG"), "scan.png", "image/png"),
        (_image("JPEG"), "foto.jpg", "image/jpeg"),
        (_image("JPEG"), "foto-ohne-endung", "image/jpeg"),  # the content decides, not the name
    ],
)
def test_pdf_and_images_are_stored(
    state: Settings, data: bytes, name: str, content_type: str
) -> None:
    stored = _stored(state, data, name)
    assert stored.content_type == content_type
    assert stored.filename == name
    path = uploads.upload_dir(state) / stored.storage_key
    assert path.is_file()
    assert not path.resolve().is_relative_to(PACKAGE_DIR)  # outside the package and web root
    assert [p.name for p in uploads.upload_dir(state).iterdir()] == [stored.storage_key]


def test_a_stream_is_stored_like_bytes(state: Settings) -> None:
    stored = store_upload(io.BytesIO(PDF), filename="a.pdf", settings=state)
    assert open_upload(stored.storage_key, state) == PDF


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (EXE, "antrag.pdf"),  # a program renamed .pdf
        (b"Hallo, ich bin nur Text.\n", "x.png"),
        (b"%PD", "kurz.pdf"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "bild.gif"),  # an image, but not one we take
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "kaputt.png"),  # PNG magic without a header
        (b"PK\x03\x04" + b"\x00" * 100, "dokument.pdf"),  # a zip (or .docx)
    ],
)
def test_other_content_is_refused_with_415(state: Settings, data: bytes, name: str) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        store_upload(data, filename=name, settings=state)
    assert caught.value.status_code == 415
    assert caught.value.code == "unsupported_media_type"
    assert list(uploads.upload_dir(state).iterdir()) == []  # no temporary file left behind


def test_an_empty_file_is_refused(state: Settings) -> None:
    with pytest.raises(Unprocessable) as caught:
        store_upload(b"", filename="leer.pdf", settings=state)
    assert 400 <= caught.value.status_code < 500
    assert list(uploads.upload_dir(state).iterdir()) == []


def test_an_oversized_file_is_refused_with_413(state: Settings) -> None:
    big = PDF + b"%" * 20_000
    with pytest.raises(PayloadTooLarge) as caught:
        store_upload(io.BytesIO(big), filename="gross.pdf", settings=state)
    assert caught.value.status_code == 413
    assert "0.02 MB" in str(caught.value)
    assert list(uploads.upload_dir(state).iterdir()) == []
    exact = PDF + b"%" * (20_000 - len(PDF))
    assert store_upload(exact, filename="genau.pdf", settings=state).size == 20_000


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\erika\\Scan 1.pdf", "Scan 1.pdf"),
        ("rechnung\u202egpj.exe.pdf", "rechnunggpj.exe.pdf"),  # the bidi override goes
        ("a\u200bb\u00a0c\tz.pdf", "ab c z.pdf"),  # zero width goes, odd spaces become one
        ("Übermittlungssperre – Straße.pdf", "Übermittlungssperre – Straße.pdf"),
        ("Cafe\u0301.png", "Café.png"),  # NFC: one character, not e + accent
        ('"<script>":x?.pdf', "__script___x_.pdf"),
        ("..", "upload.pdf"),
        ("", "upload.pdf"),
        ("   .pdf  ", "pdf"),
    ],
)
def test_the_display_name_is_sanitised(state: Settings, name: str, shown: str) -> None:
    assert store_upload(PDF, filename=name, settings=state).filename == shown


def test_a_long_name_is_cut_to_120_characters_keeping_the_extension(state: Settings) -> None:
    stored = store_upload(PDF, filename="ä" * 300 + ".pdf", settings=state)
    assert len(stored.filename) == 120
    assert stored.filename.endswith("ä.pdf")
    assert len(uploads.display_name("x" * 300, "image/png")) == 120


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "..",
        "/etc/passwd",
        "0" * 31,
        "0" * 33,
        "A" * 32,  # keys are lower-case hex
        "0" * 30 + "/.",
        "0" * 31 + "\x00",
    ],
)
def test_keys_that_are_not_ours_are_refused(state: Settings, key: str) -> None:
    secret = uploads.upload_dir(state).parent / "secret"
    secret.parent.mkdir(parents=True)
    secret.write_bytes(b"not yours")
    with pytest.raises(NotFound):
        open_upload(key, state)
    with pytest.raises(NotFound):
        delete_upload(key, state)
    assert secret.exists()


def test_delete_removes_the_file_and_a_missing_one_is_fine(state: Settings) -> None:
    stored = store_upload(PDF, filename="a.pdf", settings=state)
    delete_upload(stored.storage_key, state)
    with pytest.raises(NotFound):
        open_upload(stored.storage_key, state)
    delete_upload(stored.storage_key, state)  # the purge may run twice


def test_keys_are_random(state: Settings) -> None:
    keys = {store_upload(PDF, filename="a.pdf", settings=state).storage_key for _ in range(20)}
    assert len(keys) == 20


# --- the request body limit: multipart forms on the application pages may carry uploads ----


@pytest.fixture
def settings(engine: Engine, tmp_path: Path) -> Settings:
    return Settings(
        database_url=str(engine.url.render_as_string(hide_password=False)),
        secret_key="test-secret",
        redis_url=None,
        state_dir=tmp_path / "var",
    )


@pytest.fixture
def uploader(settings: Settings) -> Iterator[TestClient]:
    """The app with a stand-in upload route under /antrag/ (the real pages post the same way)."""
    application: FastAPI = create_app(settings)

    async def receive(request: Request) -> dict[str, object]:
        form = await request.form()
        file = form["file"]
        assert not isinstance(file, str)
        stored = store_upload(file.file, filename=file.filename or "", settings=settings)
        return {"filename": stored.filename, "size": stored.size, "type": stored.content_type}

    application.add_api_route("/antrag/probe/upload", receive, methods=["POST"])
    application.add_api_route("/verwaltung/probe/upload", receive, methods=["POST"])
    with TestClient(application) as client:
        yield client
    application.state.engine.dispose()


def _pdf_of(size: int) -> bytes:
    return PDF + b"%" * (size - len(PDF))


def test_a_multipart_upload_above_the_general_limit_passes_on_the_application_pages(
    uploader: TestClient, settings: Settings
) -> None:
    data = _pdf_of(2_000_000)  # over max_body_bytes (1 MB), under upload_max_bytes (5 MB)
    resp = uploader.post("/antrag/probe/upload", files={"file": ("Scan.pdf", data)})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"filename": "Scan.pdf", "size": 2_000_000, "type": "application/pdf"}


def test_a_file_over_the_upload_limit_is_a_413_in_the_users_language(
    uploader: TestClient, settings: Settings
) -> None:
    data = _pdf_of(settings.upload_max_bytes + 1)
    resp = uploader.post(
        "/antrag/probe/upload?lang=en",
        files={"file": ("Scan.pdf", data)},
        headers={"accept": "application/json"},
    )
    assert resp.status_code == 413
    assert resp.json()["error"] == "payload_too_large"
    assert "5 MB" in resp.json()["detail"]
    assert list(uploads.upload_dir(settings).iterdir()) == []


def _multipart(size: int) -> tuple[bytes, str]:
    boundary = "grenze"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    body = head + _pdf_of(size) + tail
    return body, f"multipart/form-data; boundary={boundary}"


def test_an_oversized_multipart_body_is_refused_before_it_is_read(
    uploader: TestClient, settings: Settings
) -> None:
    """Refused on its Content-Length: a citizen sees the error page in their language."""
    limit = dict(uploads.multipart_limits(settings))["/antrag/"]
    body, content_type = _multipart(limit + 1)
    headers = {"content-type": content_type, "accept": "text/html"}
    resp = uploader.post("/antrag/probe/upload", content=body, headers=headers)
    assert resp.status_code == 413
    assert "text/html" in resp.headers["content-type"]
    assert "Die Anfrage ist zu groß." in resp.text
    resp = uploader.post("/antrag/probe/upload?lang=en", content=body, headers=headers)
    assert "The request is too large." in resp.text
    headers["accept"] = "application/json"
    resp = uploader.post("/antrag/probe/upload", content=body, headers=headers)
    assert resp.json() == {"error": "payload_too_large", "detail": "Die Anfrage ist zu groß."}


def test_an_oversized_chunked_multipart_body_is_a_413_too(
    uploader: TestClient, settings: Settings
) -> None:
    """Without Content-Length the limit stops the body while it streams in."""
    limit = dict(uploads.multipart_limits(settings))["/antrag/"]
    body, content_type = _multipart(limit + 1)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 1_000_000):
            yield body[start : start + 1_000_000]

    headers = {"content-type": content_type, "accept": "application/json"}
    resp = uploader.post("/antrag/probe/upload?lang=en", content=chunks(), headers=headers)
    assert resp.status_code == 413
    assert resp.json()["detail"] == "The request is too large."


def test_other_bodies_keep_the_small_limit(uploader: TestClient) -> None:
    big_json = json.dumps({"text": "x" * 1_000_001})
    resp = uploader.post(
        "/antrag/probe/upload", content=big_json, headers={"content-type": "application/json"}
    )
    assert resp.status_code == 413
    form = {"text": "x" * 1_000_001}
    assert uploader.post("/antrag/probe/upload", data=form).status_code == 413
    # a multipart upload elsewhere than the application pages keeps the 1 MB limit too
    files = {"file": ("Scan.pdf", _pdf_of(2_000_000))}
    assert uploader.post("/verwaltung/probe/upload", files=files).status_code == 413
    assert uploader.post("/api/services", files=files).status_code == 413


def test_an_upload_with_a_bad_file_name_is_refused_by_the_input_guard(uploader: TestClient) -> None:
    """The guard checks a file part's name like any text; the content is ours to judge."""
    files = {"file": ("rechnung\u202egpj.exe.pdf", PDF)}  # a bidi override disguises a name
    assert uploader.post("/antrag/probe/upload", files=files).status_code == 422
    body, content_type = _multipart(1000)
    body = body.replace(b'filename="a.pdf"', b'filename="a\x00.pdf"')
    resp = uploader.post(
        "/antrag/probe/upload", content=body, headers={"content-type": content_type}
    )
    assert resp.status_code == 422
    resp = uploader.post("/antrag/probe/upload", files={"file": ("antrag.pdf", EXE)})
    assert resp.status_code == 415
    assert "Bitte laden Sie eine PDF-Datei oder ein Bild (JPEG, PNG) hoch." in resp.text
    json_only = {"accept": "application/json"}
    resp = uploader.post("/antrag/probe/upload", files={"file": ("a.pdf", EXE)}, headers=json_only)
    assert resp.json()["error"] == "unsupported_media_type"
