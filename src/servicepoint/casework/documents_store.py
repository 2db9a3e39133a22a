"""Result documents and the database: issue one for an approved case, find one by its code.

What a document states is not stored twice: it is rebuilt from the case (its answers and the
form file's `document:` block), the same way the PDF was built when the case was approved.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from servicepoint.casework import documents, signing
from servicepoint.casework.documents import ResultDocument
from servicepoint.casework.formspec import FormSpec, forms_of
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


def result_document(
    session: Session, *, case: Application, form: FormSpec, lang: str
) -> ResultDocument:
    """What the approved case's document states, in `lang`."""
    name, authority = _service_texts(session, case.service_id, lang)
    return documents.build_result_document(case, form, name, lang, authority=authority)


def issue(session: Session, *, case: Application, form: FormSpec, settings: Settings) -> bytes:
    """The signed PDF/A of an approved case, in the case's language. The caller has set
    `case.verification_code` (documents.new_verification_code()) and `case.decided_at`,
    and stores the bytes in `case.document`."""
    doc = result_document(session, case=case, form=form, lang=case.lang)
    pdf = documents.render_pdf(
        doc, site_name=settings.site_name, base_url=settings.base_url, lang=case.lang
    )
    return signing.sign_pdf(pdf, settings=settings)


def _approved_case(session: Session, code: str) -> Application | None:
    """The approved case whose document carries `code` (without loading the PDF itself)."""
    return session.scalar(
        select(Application)
        .where(
            Application.verification_code == code,
            Application.status == "approved",
            Application.document.is_not(None),
        )
        .options(defer(Application.document))
    )


def document_by_verification(
    session: Session, *, code: str, city_dir: Path, lang: str
) -> ResultDocument | None:
    """What the document with this verification code states, or None when there is none
    (unknown code, a case not approved, or its personal data already deleted)."""
    code = documents.normalise_code(code)
    if not code or len(code) > documents.CODE_LENGTH * 2 or first_bad_char(code) is not None:
        return None
    case = _approved_case(session, code)
    if case is None:
        return None
    form = forms_of(city_dir).get(case.service_id)
    if form is None:  # the form file was withdrawn: the document is still genuine
        name, authority = _service_texts(session, case.service_id, lang)
        return _without_form(case, name, authority)
    return result_document(session, case=case, form=form, lang=lang)


def _without_form(case: Application, service_name: str, authority: str) -> ResultDocument:
    return ResultDocument(
        title=service_name,
        case_code=case.code,
        verification_code=case.verification_code or "",
        issued_at=case.decided_at or case.updated_at,
        service_name=service_name,
        lines=(),
        authority=authority,
    )
