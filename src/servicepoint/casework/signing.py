"""Sign result documents (PAdES, pyHanko) and check a signed one.

The key and certificate come from the settings. Without them a development key and a
self-signed certificate are made once in state_dir/signing/ and reused: documents are signed
in development and tests as in production, but nobody outside can trust that key, so the log
says so. The signature certifies the document (DocMDP "no changes"): any later change to the
file, even an appended revision, fails the check.

pyHanko runs its own event loop per call. From synchronous code (a `def` route, a service, the
worker) that costs nothing; called inside a running event loop (an `async def` route) the work
moves to a helper thread, and the loop waits the ~15 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import io
import logging
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import TypeVar

from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from servicepoint.config import Settings
from servicepoint.core.clock import utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")

FIELD_NAME = "Signatur"
DEV_FILE = "development-signing.pem"  # key and certificate in one file: one atomic rename
DEV_YEARS = 10


@dataclasses.dataclass(frozen=True)
class Credentials:
    key: asn1_keys.PrivateKeyInfo
    cert: asn1_x509.Certificate  # the signer's certificate: the one the check trusts
    chain: tuple[asn1_x509.Certificate, ...]  # intermediates that came after it in the file


@dataclasses.dataclass(frozen=True)
class VerifyResult:
    """The check of a signed document, in plain fields. `ok` is the verdict."""

    signed: bool  # the document carries a signature at all
    intact: bool  # the signed bytes are unchanged
    valid: bool  # the signature value matches the signer's key
    trusted: bool  # the signer is the configured certificate
    whole_file: bool  # nothing was added after signing
    signer: str | None = None
    signed_at: dt.datetime | None = None
    error: str | None = None  # why the document could not be checked at all

    @property
    def ok(self) -> bool:
        return self.signed and self.intact and self.valid and self.trusted and self.whole_file


def _cert_to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _load_key(data: bytes, password: str | None) -> asn1_keys.PrivateKeyInfo:
    """A PEM or DER private key (PKCS#8 or traditional, encrypted or not) in pyHanko's form."""
    secret = password.encode() if password else None
    if b"-----BEGIN" in data:
        key = serialization.load_pem_private_key(data, password=secret)
    else:
        key = serialization.load_der_private_key(data, password=secret)
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return asn1_keys.PrivateKeyInfo.load(der)


def _load_certs(data: bytes) -> list[x509.Certificate]:
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def _credentials(key_data: bytes, cert_data: bytes, password: str | None) -> Credentials:
    certs = [_cert_to_asn1(c) for c in _load_certs(cert_data)]
    key = _load_key(key_data, password)
    return Credentials(key=key, cert=certs[0], chain=tuple(certs[1:]))


def _development_pem() -> bytes:
    """A new P-256 key with a self-signed certificate for 'document signing', as one PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "servicepoint development signing key"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "NOT FOR PRODUCTION"),
        ]
    )
    now = utcnow()
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * DEV_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem + cert.public_bytes(serialization.Encoding.PEM)


def _publish_once(path: Path, data: bytes) -> None:
    """Write `data` to `path` unless another process or thread was first; both then use the
    same file. A hard link of a complete temp file publishes it atomically and never replaces
    an existing one (a rename would let two processes sign with different keys)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def development_key_file(state_dir: Path) -> Path:
    """The development key (made on first use), for instances without a configured key."""
    path = state_dir / "signing" / DEV_FILE
    if not path.exists():
        _publish_once(path, _development_pem())
        log.warning(
            "No signing key configured: result documents are signed with a development key "
            "(%s) that nobody outside trusts. Production must set SERVICEPOINT_SIGNING_KEY_FILE "
            "and SERVICEPOINT_SIGNING_CERT_FILE.",
            path,
        )
    return path


@cache
def _cached_credentials(
    key_file: Path, cert_file: Path, password: str | None, stamp: tuple[int, int]
) -> Credentials:
    # `stamp` (the files' modification times) makes a replaced key take effect without restart.
    return _credentials(key_file.read_bytes(), cert_file.read_bytes(), password)


def credentials(settings: Settings) -> Credentials:
    """The configured key and certificate, or the development pair."""
    key_file, cert_file = settings.signing_key_file, settings.signing_cert_file
    if (key_file is None) != (cert_file is None):
        raise ValueError("set both SERVICEPOINT_SIGNING_KEY_FILE and SIGNING_CERT_FILE, or none")
    if key_file is None or cert_file is None:
        key_file = cert_file = development_key_file(settings.state_dir)
    stamp = (key_file.stat().st_mtime_ns, cert_file.stat().st_mtime_ns)
    return _cached_credentials(key_file, cert_file, settings.signing_key_password, stamp)


def _signer(creds: Credentials) -> signers.SimpleSigner:
    certs = [creds.cert, *creds.chain]
    registry = SimpleCertificateStore.from_certs(certs)  # type: ignore[no-untyped-call]
    return signers.SimpleSigner(
        signing_cert=creds.cert, signing_key=creds.key, cert_registry=registry
    )


def _outside_event_loop(work: Callable[[], T]) -> T:
    """Run `work` where pyHanko may start its own event loop (asyncio.run refuses to inside
    a running one)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def sign_pdf(pdf: bytes, *, settings: Settings) -> bytes:
    """The document certified with the instance's key (an invisible signature, PAdES)."""
    return _outside_event_loop(lambda: _sign(pdf, settings))


def _sign(pdf: bytes, settings: Settings) -> bytes:
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=SigSeedSubFilter.PADES,
        certify=True,
        docmdp_permissions=MDPPerm.NO_CHANGES,
        md_algorithm="sha256",
    )
    creds = credentials(settings)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    out = signers.sign_pdf(writer, meta, signer=_signer(creds), bytes_reserved=_room(creds))
    return bytes(out.getvalue())


def _room(creds: Credentials) -> int:
    """Hex digits to reserve for the signature container: its certificates plus ample room
    for the signed attributes and the signature value (RSA-4096: 512 bytes). Saying so spares
    pyHanko a trial signature to measure it, a third of the time."""
    return 2 * (4096 + sum(len(cert.dump()) for cert in (creds.cert, *creds.chain)))


def _unchecked(error: str, signed: bool = False) -> VerifyResult:
    return VerifyResult(
        signed=signed, intact=False, valid=False, trusted=False, whole_file=False, error=error
    )


def verify_pdf(pdf: bytes, *, settings: Settings) -> VerifyResult:
    """Check the document's signature against the configured certificate (never raises)."""
    return _outside_event_loop(lambda: _verify(pdf, settings))


def _verify(pdf: bytes, settings: Settings) -> VerifyResult:
    # Any bytes may arrive here, and pyHanko's parser fails on damaged ones with whatever the
    # layer below raised (zlib.error, struct.error, AssertionError, ...): every failure means
    # "not confirmed", said as such, never a crash.
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = reader.embedded_signatures
    except Exception as exc:
        return _unchecked(f"not a readable PDF: {exc}")
    if not embedded:
        return _unchecked("the document carries no signature")
    trust = credentials(settings).cert
    context = ValidationContext(trust_roots=[trust], allow_fetching=False)
    try:
        status = validate_pdf_signature(embedded[-1], context)
    except Exception as exc:
        return _unchecked(f"the signature could not be checked: {exc}", signed=True)
    return VerifyResult(
        signed=True,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=status.signing_cert.subject.human_friendly,
        signed_at=status.signer_reported_dt,
    )
