"""The result document as pure code: what it states, and the PDF/A with its QR code."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import zlib
from collections.abc import Mapping
from typing import Any

import pytest
import segno
from pyhanko.pdf_utils.reader import PdfFileReader

from servicepoint.casework import documents
from servicepoint.casework.documents import ResultDocument
from servicepoint.casework.formspec import FormSpec
from tests.casework.case_support import ERIKA

BASE = "https://service.example.org"
ISSUED = dt.datetime(2026, 12, 7, 8, 30, tzinfo=dt.UTC)  # 09:30 in Hannover


@dataclasses.dataclass
class Case:
    code: str = "A7QKZ3M2XW4PBQ"
    verification_code: str | None = "V3KQ7M2XW4PBZT9C"
    applicant: Mapping[str, Any] | None = dataclasses.field(default_factory=lambda: dict(ERIKA))
    data: Mapping[str, Any] | None = dataclasses.field(default_factory=dict)
    decided_at: dt.datetime | None = ISSUED


def both(de: str, en: str | None = None) -> dict[str, str]:
    return {"de": de, "en": en or de}


def form(*lines: tuple[str, str]) -> FormSpec:
    return FormSpec.model_validate(
        {
            "service_id": "meldebescheinigung",
            "version": "1",
            "time_limit_days": 5,
            "steps": [
                {
                    "id": "details",
                    "title": both("Angaben"),
                    "fields": [
                        {
                            "name": "kind",
                            "type": "choice",
                            "label": both("Art"),
                            "choices": [
                                {"value": "simple", "label": both("einfach", "simple")},
                                {"value": "extended", "label": both("erweitert", "extended")},
                            ],
                        },
                        {"name": "moved_in", "type": "date", "label": both("Einzug")},
                        {"name": "copies", "type": "integer", "label": both("Anzahl")},
                        {"name": "urgent", "type": "boolean", "label": both("Eilig")},
                    ],
                }
            ],
            "rules": [{"name": "ok", "check": True, "outcome": "review", "reason": both("Grund")}],
            "document": {
                "title": both("Meldebescheinigung", "Certificate of registration"),
                "lines": [
                    {"label": both(label, label + " (en)"), "value": v} for label, v in lines
                ],
            },
        }
    )


def erika_document(lang: str = "de") -> ResultDocument:
    spec = form(
        ("Name", "{applicant.given_name} {applicant.family_name}"),
        ("Geburtsdatum", "{applicant.birth_date}"),
        ("Anschrift", "{applicant.street} {applicant.house_number}, {applicant.postcode}"),
    )
    return documents.build_result_document(
        Case(), spec, "Meldebescheinigung beantragen", lang, authority="Bürgeramt Testhausen"
    )


def test_the_statement_fills_the_placeholders_from_the_case() -> None:
    doc = erika_document()
    assert doc.title == "Meldebescheinigung"
    assert doc.lines == (
        ("Name", "Erika Mustermann"),
        ("Geburtsdatum", "12.08.1964"),
        ("Anschrift", "Lister Meile 10, 30161"),
    )
    assert doc.verification_code == "V3KQ7M2XW4PBZT9C"
    assert doc.issued_at == ISSUED
    assert doc.authority == "Bürgeramt Testhausen"


def test_answers_read_as_a_person_reads_them_in_each_language() -> None:
    spec = form(
        ("Art", "{data.kind}"),
        ("Einzug", "{data.moved_in}"),
        ("Anzahl", "{data.copies}"),
        ("Eilig", "{data.urgent}"),
    )
    case = Case(data={"kind": "extended", "moved_in": "2020-03-01", "copies": 2, "urgent": True})
    german = documents.build_result_document(case, spec, "x", "de")
    english = documents.build_result_document(case, spec, "x", "en")
    assert [v for _, v in german.lines] == ["erweitert", "01.03.2020", "2", "Ja"]
    assert [v for _, v in english.lines] == ["extended", "01.03.2020", "2", "Yes"]
    assert english.title == "Certificate of registration"
    assert english.lines[0][0] == "Art (en)"


@pytest.mark.parametrize(
    "template",
    [
        "{data.missing}",
        "{applicant.nobody}",
        "{data.kind}",  # the case has no answers at all
    ],
)
def test_a_missing_key_renders_empty_and_never_raises(template: str) -> None:
    spec = form(("Zeile", template))
    doc = documents.build_result_document(Case(data=None, applicant=None), spec, "x", "de")
    assert doc.lines == (("Zeile", ""),)


def test_separators_around_missing_answers_go_too() -> None:
    spec = form(("Anschrift", "{applicant.street} {applicant.house_number}, {applicant.postcode}"))
    doc = documents.build_result_document(Case(applicant={"postcode": "30161"}), spec, "x", "de")
    assert doc.lines == (("Anschrift", "30161"),)
    doc = documents.build_result_document(Case(applicant={}), spec, "x", "de")
    assert doc.lines == (("Anschrift", ""),)


def test_only_applicant_and_data_placeholders_are_filled() -> None:
    # Braces of any other kind are the city's text, kept as written; the citizen's own answer
    # containing braces is inserted as text and never filled a second time.
    spec = form(("Zeile", "{__class__} {data} {settings.secret_key} {data.note}"))
    doc = documents.build_result_document(
        Case(data={"note": "{applicant.given_name}"}), spec, "x", "de"
    )
    assert doc.lines == (
        ("Zeile", "{__class__} {data} {settings.secret_key} {applicant.given_name}"),
    )


def test_verification_codes_are_random_and_forgive_typing() -> None:
    codes = {documents.new_verification_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{16}", code)
        typed = documents.grouped(code).lower().replace("0", "o").replace("1", "l")
        assert documents.normalise_code(typed) == code
        assert documents.normalise_code(" ".join(documents.grouped(code).split("-"))) == code


def _pdf(doc: ResultDocument, lang: str = "de") -> PdfFileReader:
    pdf = documents.render_pdf(doc, site_name="TestServicePoint", base_url=BASE, lang=lang)
    assert pdf.startswith(b"%PDF-")
    return PdfFileReader(io.BytesIO(pdf))


def test_the_pdf_is_pdf_a_3a_with_title_language_and_embedded_fonts() -> None:
    reader = _pdf(erika_document())
    xmp = reader.root["/Metadata"].get_object().data.decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="A"' in xmp
    assert reader.root["/Lang"] == "de"
    assert "/StructTreeRoot" in reader.root  # tagged: readable by screen readers
    assert reader.root["/OutputIntents"][0]["/S"] == "/GTS_PDFA1"
    info = reader.trailer_view["/Info"].get_object()
    assert info["/Title"] == "Meldebescheinigung"
    assert info["/Author"] == "Bürgeramt Testhausen"
    fonts = _page(reader)["/Resources"]["/Font"]
    for font in fonts.values():
        descriptor = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert "/FontFile2" in descriptor.get_object()  # embedded, as PDF/A requires


def test_the_english_pdf_says_so() -> None:
    assert _pdf(erika_document("en"), "en").root["/Lang"] == "en"


def _page(reader: PdfFileReader) -> Any:
    return reader.root["/Pages"]["/Kids"][0].get_object()


def test_the_pdf_links_to_the_verification_page() -> None:
    annotations = [a.get_object() for a in _page(_pdf(erika_document())).get("/Annots", [])]
    uris = [a["/A"]["/URI"] for a in annotations if a["/Subtype"] == "/Link"]
    assert uris == [f"{BASE}/nachweis/V3KQ7M2XW4PBZT9C"]


def _unfilter_png_rows(raw: bytes, width: int, colors: int) -> list[bytes]:
    """Undo the PNG row predictors (PDF /Predictor 15) of an image stream."""
    stride = width * colors
    rows: list[bytes] = []
    previous = bytes(stride)
    for start in range(0, len(raw), stride + 1):
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - colors] if i >= colors else 0
            up, corner = previous[i], previous[i - colors] if i >= colors else 0
            guess = {0: 0, 1: left, 2: up, 3: (left + up) // 2}.get(kind)
            if guess is None:  # Paeth
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                guess = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + guess) % 256
        rows.append(bytes(line))
        previous = bytes(line)
    return rows


def test_the_qr_code_in_the_pdf_encodes_the_verification_url() -> None:
    (image,) = [
        x.get_object() for x in _page(_pdf(erika_document()))["/Resources"]["/XObject"].values()
    ]
    assert bool(image["/Interpolate"]) is False  # PDF/A forbids smoothing; modules stay sharp
    width, colors = image["/Width"], image["/DecodeParms"]["/Colors"]
    rows = _unfilter_png_rows(zlib.decompress(image.encoded_data), width, colors)
    dark = [[row[x * colors] < 128 for x in range(width)] for row in rows]
    expected = segno.make_qr(f"{BASE}/nachweis/V3KQ7M2XW4PBZT9C", error="m")
    assert dark == [[bool(m) for m in row] for row in expected.matrix_iter(scale=1, border=4)]


def test_the_document_prints_the_code_and_address_but_not_the_case_code() -> None:
    html = documents.document_html(erika_document(), site_name="T", base_url=BASE, lang="de")
    assert "V3KQ-7M2X-W4PB-ZT9C" in html
    assert f"{BASE}/nachweis/V3KQ7M2XW4PBZT9C" in html
    assert "Erika Mustermann" in html and "07.12.2026 09:30" in html
    # The case code opens the citizen's status page; the paper goes to employers and banks.
    assert "A7QKZ3M2XW4PBQ" not in html


def test_the_document_text_is_escaped() -> None:
    spec = form(("Name", "{applicant.given_name}"))
    case = Case(applicant={"given_name": "<script>alert(1)</script>"})
    doc = documents.build_result_document(case, spec, "x", "de")
    html = documents.document_html(doc, site_name="T", base_url=BASE, lang="de")
    assert "<script>" not in html and "&lt;script&gt;" in html
