"""Result documents and the database: issue one for an approved case, find one by its code.

What a document states is fixed at the decision (`Application.statement`, in German and
English): the PDF, made on first request, and the verification page both read it, so a later
change of the form file changes neither.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from servicepoint.casework import documents, signing
from servicepoint.casework.documents import ResultDocument
from servicepoint.casework.formspec import FormSpec
from servicepoint.casework.models import Application
from servicepoint.catalog import service as catalog_service
from servicepoint.config import Settings
from servicepoint.core.inputs import first_bad_char


def _service_texts(session: Session, service_id: str, lang: str) -> tuple[str, str]:
    """The service's name and its responsible authority in `lang` ("" when unknown)."""
    svc = catalog_service.services_by_ids(session, ids=[service_id]).get(service_id)
    if svc is None:
        return service_id, ""
    name = svc.name_en if lang == "en" else svc.name_de
    authority = (svc.data.get("responsible") or {}).get("name") or {}
    return name, str(authority.get(lang) or authority.get("de") or "")


def statement(session: Session, *, case: Application, form: FormSpec) -> dict[str, Any]:
    """What the approved case's document states, in German and English, fixed at the decision."""
    fixed: dict[str, Any] = {}
    for lang in ("de", "en"):
        name, authority = _service_texts(session, case.service_id, lang)
        doc = documents.build_result_document(case, form, name, lang, authority=authority)
        fixed[lang] = {
            "title": doc.title,
            "service_name": doc.service_name,
            "authority": doc.authority,
            "lines": [list(line) for line in doc.lines],
        }
    return fixed


def result_document(case: Application, *, lang: str) -> ResultDocument | None:
    """The document of a decided case as its statement fixed it, in `lang` (None: none)."""
    fixed = (case.statement or {}).get("en" if lang == "en" else "de")
    if not fixed or case.decided_at is None:
        return None
    return ResultDocument(
        title=str(fixed["title"]),
        case_code=case.code,
        verification_code=case.verification_code or "",
        issued_at=case.decided_at,
        service_name=str(fixed["service_name"]),
        lines=tuple((str(label), str(value)) for label, value in fixed["lines"]),
        authority=str(fixed["authority"]),
    )


def issue(*, case: Application, settings: Settings) -> bytes | None:
    """The signed PDF/A of an approved case, in the case's language (None: nothing to issue)."""
    doc = result_document(case, lang=case.lang)
    if doc is None:
        return None
    pdf = documents.render_pdf(
        doc, site_name=settings.site_name, base_url=settings.base_url, lang=case.lang
    )
    return signing.sign_pdf(pdf, settings=settings)


def issue_pending(session: Session, *, settings: Settings, limit: int = 50) -> int:
    """Make the PDFs of approved cases that nobody has fetched yet (the worker's pass)."""
    stmt = (
        select(Application)
        .where(
            Application.status == "approved",
            Application.statement.is_not(None),
            Application.document.is_(None),
        )
        .order_by(Application.decided_at)
        .limit(limit)
    )
    made = 0
    for case in session.scalars(stmt):
        case.document = issue(case=case, settings=settings)
        made += case.document is not None
    return made


def _approved_case(session: Session, code: str) -> Application | None:
    """The approved case whose document carries `code` (without loading the PDF itself)."""
    return session.scalar(
        select(Application)
        .where(
            Application.verification_code == code,
            Application.status == "approved",
            Application.statement.is_not(None),
        )
        .options(defer(Application.document))
    )


def document_by_verification(session: Session, *, code: str, lang: str) -> ResultDocument | None:
    """What the document with this verification code states, or None when there is none
    (unknown code, a case not approved, or its personal data already deleted)."""
    code = documents.normalise_code(code)
    if not code or len(code) > documents.CODE_LENGTH * 2 or first_bad_char(code) is not None:
        return None
    case = _approved_case(session, code)
    return None if case is None else result_document(case, lang=lang)
