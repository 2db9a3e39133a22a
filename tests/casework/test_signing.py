"""Signed result documents: a signed one checks out; a changed byte, an appended revision or
another key does not."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import random
import re
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from servicepoint.casework import documents, signing
from servicepoint.config import Settings
from tests.casework.test_documents import BASE, erika_document


def settings_in(state_dir: Path, **extra: object) -> Settings:
    return Settings(state_dir=state_dir, secret_key="test", **extra)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return documents.render_pdf(erika_document(), site_name="T", base_url=BASE, lang="de")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_in(tmp_path / "var")


def test_a_signed_document_checks_out(pdf: bytes, settings: Settings) -> None:
    result = signing.verify_pdf(signing.sign_pdf(pdf, settings=settings), settings=settings)
    assert result.ok, result
    assert result.intact and result.valid and result.trusted and result.whole_file
    assert result.signer is not None and "development" in result.signer
    assert result.signed_at is not None
    assert abs(result.signed_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)


def test_the_signed_document_stays_pdf_a(pdf: bytes, settings: Settings) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(signing.sign_pdf(pdf, settings=settings)))
    xmp = reader.root["/Metadata"].get_object().data.decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="A"' in xmp


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_one_changed_byte_breaks_the_signature(pdf: bytes, settings: Settings) -> None:
    signed = signing.sign_pdf(pdf, settings=settings)
    # A byte of the document's title in the signed part: the file still reads, the hash differs.
    at = signed.index(b"Meldebescheinigung")
    tampered = signing.verify_pdf(_flip(signed, at), settings=settings)
    assert tampered.signed and not tampered.intact and not tampered.ok
    assert tampered.error is None  # a clear verdict, not a crash


def test_any_changed_bit_in_the_signed_range_fails_and_never_crashes(
    pdf: bytes, settings: Settings
) -> None:
    signed = signing.sign_pdf(pdf, settings=settings)
    found = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", signed)
    assert found is not None
    start1, length1, start2, length2 = (int(g) for g in found.groups())
    assert start1 == 0 and start2 + length2 == len(signed)  # everything but the signature
    rnd = random.Random(15)
    for _ in range(60):
        at = rnd.choice([rnd.randrange(length1), rnd.randrange(start2, len(signed))])
        damaged = bytearray(signed)
        damaged[at] ^= 1 << rnd.randrange(8)
        result = signing.verify_pdf(bytes(damaged), settings=settings)
        assert not result.ok, at
        assert not result.intact or not result.valid or result.error is not None, at


def test_the_check_works_inside_an_event_loop(pdf: bytes, settings: Settings) -> None:
    async def from_an_async_route() -> signing.VerifyResult:
        return signing.verify_pdf(signing.sign_pdf(pdf, settings=settings), settings=settings)

    assert asyncio.run(from_an_async_route()).ok


def test_a_revision_appended_after_signing_fails(pdf: bytes, settings: Settings) -> None:
    signed = signing.sign_pdf(pdf, settings=settings)
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    info = writer.trailer["/Info"].get_object()
    from pyhanko.pdf_utils.generic import TextStringObject

    info["/Title"] = TextStringObject("Erweiterte Meldebescheinigung")
    writer.update_container(info)
    out = io.BytesIO()
    writer.write(out)
    result = signing.verify_pdf(out.getvalue(), settings=settings)
    assert result.intact  # the signed revision itself is untouched ...
    assert not result.whole_file and not result.ok  # ... but something came after it


def test_a_document_signed_with_another_key_is_not_trusted(
    pdf: bytes, settings: Settings, tmp_path: Path
) -> None:
    other = settings_in(tmp_path / "elsewhere")
    result = signing.verify_pdf(signing.sign_pdf(pdf, settings=other), settings=settings)
    assert result.intact and result.valid  # a sound signature ...
    assert not result.trusted and not result.ok  # ... by a key this instance does not know


def test_what_is_no_signed_pdf_gets_a_clear_answer(pdf: bytes, settings: Settings) -> None:
    unsigned = signing.verify_pdf(pdf, settings=settings)
    assert not unsigned.signed and not unsigned.ok and unsigned.error
    garbage = signing.verify_pdf(b"%PDF-1.7\nnot really", settings=settings)
    assert not garbage.ok and garbage.error
    assert not signing.verify_pdf(b"", settings=settings).ok


def test_the_development_key_is_made_once_and_reused(
    pdf: bytes, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="servicepoint.casework.signing"):
        first = signing.credentials(settings)
        second = signing.credentials(settings)
    assert first.cert.dump() == second.cert.dump()
    key_file = settings.state_dir / "signing" / signing.DEV_FILE
    assert key_file.stat().st_mode & 0o077 == 0  # readable by the owner only
    warnings = [r for r in caplog.records if "development key" in r.getMessage()]
    assert len(warnings) == 1
    # A restart (an empty cache) reads the same key from the instance folder.
    assert signing._credentials(key_file.read_bytes(), key_file.read_bytes(), None).cert.dump() == (
        first.cert.dump()
    )


def test_threads_starting_at_once_share_one_development_key(tmp_path: Path) -> None:
    settings = settings_in(tmp_path / "race")
    barrier = threading.Barrier(8)
    certs: list[bytes] = []

    def start() -> None:
        barrier.wait()
        certs.append(signing.credentials(settings).cert.dump())

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(certs) == 8 and len(set(certs)) == 1
    assert [p.name for p in (settings.state_dir / "signing").iterdir()] == [signing.DEV_FILE]


def _configured_key(folder: Path, password: str) -> tuple[Path, Path]:
    """An RSA key (password protected) and its certificate, as an operator would configure."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Stadt Testhausen Dokumente")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = folder / "key.pem", folder / "cert.pem"
    encryption = serialization.BestAvailableEncryption(password.encode())
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


def test_a_configured_key_signs_and_no_development_key_is_made(pdf: bytes, tmp_path: Path) -> None:
    key_file, cert_file = _configured_key(tmp_path, "geheim")
    settings = settings_in(
        tmp_path / "var",
        signing_key_file=key_file,
        signing_cert_file=cert_file,
        signing_key_password="geheim",
    )
    result = signing.verify_pdf(signing.sign_pdf(pdf, settings=settings), settings=settings)
    assert result.ok, result
    assert result.signer is not None and "Testhausen" in result.signer
    assert not (tmp_path / "var").exists()
    # The development key's instance does not trust the city's key, and the other way round.
    assert not signing.verify_pdf(
        signing.sign_pdf(pdf, settings=settings), settings=settings_in(tmp_path / "dev")
    ).ok


def test_a_key_without_its_certificate_is_a_configuration_error(tmp_path: Path) -> None:
    key_file, _ = _configured_key(tmp_path, "x")
    with pytest.raises(ValueError, match="SIGNING"):
        signing.credentials(settings_in(tmp_path, signing_key_file=key_file))
