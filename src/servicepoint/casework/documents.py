"""The result document of an approved case: what it states, and its PDF/A with a QR code.

Pure: no database, no web. The statement is built from the case and the form file's `document:`
block; the PDF is HTML (templates/casework/document.html) rendered by WeasyPrint as PDF/A-3a
(tagged and Unicode, so screen readers and text search work) with the fonts embedded. The QR
code and the printed address lead to the public verification page /nachweis/{code}.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Any, Protocol

import segno
from jinja2 import Environment
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

from servicepoint.casework.formspec import FormField, FormSpec
from servicepoint.core import i18n
from servicepoint.core.clock import utcnow
from servicepoint.core.templating import build_env

# PDF/A-3a: archivable (ISO 19005-3) and accessible (tagged structure, Unicode text). PDF/A-3
# also allows the signature pyHanko adds afterwards as an incremental update.
PDF_VARIANT = "pdf/a-3a"
TEMPLATE = "casework/document.html"
# {applicant.given_name} or {data.kind}: the only placeholders a document line may use.
_PLACEHOLDER = re.compile(r"\{(applicant|data)\.([a-z][a-z0-9_]{0,39})\}")
_LOOSE_COMMA = re.compile(r"\s+,")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
CODE_LENGTH = 16
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


@dataclasses.dataclass(frozen=True)
class ResultDocument:
    """What a result document states, in one language; the PDF and the verification page
    show exactly this."""

    title: str
    case_code: str  # for staff and logs only: it opens the status page, so no page prints it
    verification_code: str
    issued_at: dt.datetime  # aware; shown in Europe/Berlin
    service_name: str
    lines: tuple[tuple[str, str], ...]
    authority: str  # the issuing authority (the catalog service's `responsible`); "" = unknown


class Case(Protocol):
    """The parts of a case (casework.models.Application) a document is built from."""

    @property
    def code(self) -> str: ...
    @property
    def verification_code(self) -> str | None: ...
    @property
    def applicant(self) -> Mapping[str, Any] | None: ...
    @property
    def data(self) -> Mapping[str, Any] | None: ...
    @property
    def decided_at(self) -> dt.datetime | None: ...


@contextmanager
def _language(lang: str) -> Iterator[str]:
    """Translate in `lang` for the duration (gettext and the date filters read the context)."""
    chosen: i18n.Lang = "en" if lang == "en" else "de"
    token = i18n.current_lang.set(chosen)
    try:
        yield chosen
    finally:
        i18n.current_lang.reset(token)


def _date_text(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).strftime("%d.%m.%Y")
    except ValueError:
        return value


def _choice_label(field: FormField | None, value: str, lang: str) -> str:
    for choice in field.choices if field else ():
        if choice.value == value:
            return str(getattr(choice.label, lang))
    return value


def value_text(value: object, field: FormField | None, lang: str) -> str:
    """One answer as a reader of the document understands it: a choice by its label, yes/no,
    a date as 12.08.1964, a list joined; nothing (None) as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return i18n.translate(lang, "Ja") if value else i18n.translate(lang, "Nein")
    if isinstance(value, list):
        return ", ".join(value_text(item, field, lang) for item in value)
    text = str(value)
    if (field is not None and field.type == "date") or _ISO_DATE.match(text):
        return _date_text(text)
    return _choice_label(field, text, lang)


def fill(template: str, case: Case, form: FormSpec, lang: str) -> str:
    """Fill {applicant.x} and {data.x}; an unknown or missing key becomes empty, never an error.
    Anything else in braces stays as written (the text is the city's, not the citizen's)."""
    sources = {"applicant": case.applicant or {}, "data": case.data or {}}
    fields = form.fields

    def one(match: re.Match[str]) -> str:
        source, name = match.groups()
        return value_text(sources[source].get(name), fields.get(name), lang)

    text = " ".join(_PLACEHOLDER.sub(one, template).split())
    # "{street} {house_number}, {postcode}" with nothing known reads "", not ",".
    return _LOOSE_COMMA.sub(",", text).strip(" ,;")


def build_result_document(
    case: Case, form: FormSpec, service_name: str, lang: str, *, authority: str = ""
) -> ResultDocument:
    """What the document of an approved case states, in `lang` ("de" or "en")."""
    lang = "en" if lang == "en" else "de"
    lines = tuple(
        (str(getattr(line.label, lang)), fill(line.value, case, form, lang))
        for line in form.document.lines
    )
    return ResultDocument(
        title=str(getattr(form.document.title, lang)),
        case_code=case.code,
        verification_code=case.verification_code or "",
        issued_at=case.decided_at or utcnow(),
        service_name=service_name,
        lines=lines,
        authority=authority,
    )


def new_verification_code() -> str:
    """A fresh verification code: 16 characters of Crockford's base32 (80 random bits), so it
    cannot be guessed, and read aloud or typed without confusing 0/O or 1/I/L."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """A code as typed (lower case, grouped with hyphens or spaces, O for 0, I or L for 1)
    in its stored spelling."""
    plain = "".join(text.split()).replace("-", "").upper()
    return plain.translate(_LOOKALIKES)


def grouped(code: str) -> str:
    """The code in groups of four for reading: 7K2M-…"""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def verification_url(base_url: str, code: str) -> str:
    """The public page that confirms the document (what the QR code encodes)."""
    return f"{base_url.rstrip('/')}/nachweis/{code}"


def qr_data_uri(url: str) -> str:
    """The QR code of `url` as a PNG data URI, one pixel per module (the template scales it up
    unsmoothed; an SVG costs WeasyPrint a tenth more time). Error correction M survives a
    crease or a stamp over the code."""
    return str(segno.make_qr(url, error="m").png_data_uri(scale=1, border=4))


@cache
def _env() -> Environment:
    return build_env()


_fonts = threading.local()


def _font_config() -> FontConfiguration:
    """One font configuration per thread: reusing it saves a fifth of the time per document,
    and Pango's font map must not be shared between threads."""
    config: FontConfiguration | None = getattr(_fonts, "config", None)
    if config is None:
        config = _fonts.config = FontConfiguration()
    return config


def document_html(doc: ResultDocument, *, site_name: str, base_url: str, lang: str) -> str:
    """The document as the HTML WeasyPrint lays out."""
    url = verification_url(base_url, doc.verification_code)
    with _language(lang) as chosen:
        context = {
            "doc": doc,
            "lang": chosen,
            "site_name": site_name,
            "url": url,
            "qr": qr_data_uri(url),
            "code": grouped(doc.verification_code),
        }
        return _env().get_template(TEMPLATE).render(context)


def render_pdf(doc: ResultDocument, *, site_name: str, base_url: str, lang: str) -> bytes:
    """The document as PDF/A-3a bytes (unsigned; casework.signing signs them)."""
    html = document_html(doc, site_name=site_name, base_url=base_url, lang=lang)
    pdf: bytes = HTML(string=html).write_pdf(
        pdf_variant=PDF_VARIANT, pdf_tags=True, font_config=_font_config()
    )
    return pdf
