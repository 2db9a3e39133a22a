"""Online applications: the citizen's side of a case (draft, steps, uploads, review, submit,
status), the API's one-call application, and the purge of personal data.

The staff's functions live in casework.staff and are importable from here too, so pages and
the API call one module. Services take `session` first, the rest keyword-only, and never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from servicepoint.casework import documents, documents_store, logic, mail, uploads, workflow
from servicepoint.casework.errors import CaseClosed, CaseNotFound, InvalidApplication
from servicepoint.casework.formspec import APPLICANT_FIELDS, FormSpec
from servicepoint.casework.logic import FieldError
from servicepoint.casework.models import Application, CaseUpload
from servicepoint.casework.staff import (
    QueueRow,
    add_note,
    confirm,
    decide_by_staff,
    export_case,
    handover,
    request_document,
    take_next,
    work_queue,
)
from servicepoint.casework.workflow import form_for
from servicepoint.catalog import service as catalog_service
from servicepoint.config import Settings
from servicepoint.core.clock import today_local, utcnow
from servicepoint.core.i18n import N_, translate
from servicepoint.errors import FieldMessage, NotFound

__all__ = [
    "QueueRow",
    "Review",
    "add_note",
    "add_upload",
    "apply_via_api",
    "confirm",
    "decide_by_staff",
    "document_of",
    "export_case",
    "form_for",
    "get_case",
    "handover",
    "has_document",
    "public_status",
    "purge_cases",
    "request_document",
    "review",
    "save_step",
    "start_draft",
    "submit",
    "submitted_case",
    "take_next",
    "work_queue",
]

REQUESTED = "requested"  # CaseUpload.name of the document staff asked for
API_STATUS = {"submitted": "submitted", "in_review": "in_review", "waiting": "in_review"}
_INVALID = N_("Der Antrag ist unvollständig oder enthält ungültige Angaben.")
_UPLOAD_MISSING = N_("Bitte laden Sie dieses Dokument hoch.")
_NOT_WAITING = N_("Für diesen Antrag wird keine Unterlage mehr erwartet.")


# --- the case code ------------------------------------------------------------------------------


def get_case(session: Session, *, code: str) -> Application:
    """The case behind a code as typed (any case, grouped with hyphens or spaces)."""
    plain = documents.normalise_code(code)
    valid = len(plain) == documents.CODE_LENGTH and set(plain) <= set(documents.CODE_ALPHABET)
    case = session.scalar(select(Application).where(Application.code == plain)) if valid else None
    if case is None:
        raise CaseNotFound(N_("Zu diesem Code gibt es keinen Antrag."))
    return case


def submitted_case(session: Session, *, code: str) -> Application:
    """A case as the API shows it: a draft is still private to its browser, so unknown here."""
    case = get_case(session, code=code)
    if case.status == "draft":
        raise CaseNotFound(N_("Zu diesem Code gibt es keinen Antrag."))
    return case


def document_of(session: Session, *, settings: Settings, code: str) -> tuple[str, bytes]:
    """(file name, signed PDF) of an approved case, made on the first request; 404 while there
    is none."""
    case = submitted_case(session, code=code)
    if case.status == "approved" and case.document is None:
        case.document = documents_store.issue(case=case, settings=settings)
    if case.status != "approved" or case.document is None:
        raise NotFound(N_("Zu diesem Antrag gibt es kein Dokument."), code="document_not_found")
    return f"{case.service_id}-{case.code}.pdf", case.document


def _document_url(base: str, case: Application) -> str | None:
    return f"{base}/api/applications/{case.code}/document" if has_document(case) else None


def has_document(case: Application) -> bool:
    """Whether the case has a result document (its PDF may still be made on first request)."""
    return case.status == "approved" and case.statement is not None


# --- drafts, step by step -----------------------------------------------------------------------


def start_draft(session: Session, *, settings: Settings, service_id: str, lang: str) -> Application:
    """A new, empty draft; its code resumes it and later shows its status."""
    form_for(settings, service_id)
    return _new_case(session, service_id=service_id, lang=lang)


def _new_case(session: Session, *, service_id: str, lang: str) -> Application:
    case = Application(
        code=documents.new_verification_code(),  # the same unguessable kind of code
        service_id=service_id,
        status="draft",
        lang="en" if lang == "en" else "de",
        applicant={},
        data={},
        findings=[],
        trace=[],
        payment={},
        step=0,
    )
    session.add(case)
    session.flush()
    return case


def _require_draft(case: Application) -> None:
    if case.status != "draft":
        raise CaseClosed(workflow.ALREADY_SENT)


def _stored(form: FormSpec, case: Application) -> dict[str, Any]:
    """The draft's answers under the form's current fields (a field since removed is dropped)."""
    answers = {**(case.data or {}), **(case.applicant or {})}
    return {name: answers[name] for name in form.fields if name in answers}


def save_step(
    session: Session,
    *,
    settings: Settings,
    case: Application,
    index: int,
    raw: Mapping[str, object],
    today: dt.date,
) -> list[FieldError]:
    """Store one step's visible answers; without problems the draft moves past the step."""
    _require_draft(case)
    form = form_for(settings, case.service_id)
    if not 0 <= index < len(form.all_steps):
        raise NotFound(N_("Diesen Schritt gibt es nicht."), code="step_not_found")
    step = form.step(index)
    earlier = _stored(form, case)
    kept, errors = logic.check_step(form, step, raw, earlier=earlier, today=today)
    hidden = {f.name for f in step.fields} - set(kept)
    answers = {k: v for k, v in {**earlier, **kept}.items() if k not in hidden}
    case.applicant, case.data = workflow.split_answers(answers)
    if not errors:
        case.step = max(case.step, index + 1)
    return errors


# --- uploads --------------------------------------------------------------------------------------


def add_upload(
    session: Session,
    *,
    settings: Settings,
    case: Application,
    name: str,
    filename: str,
    data: bytes,
) -> CaseUpload:
    """A draft's form upload (replacing one sent before), or the document staff asked for, which
    puts the waiting case back into review. 413/415/422 from casework.uploads store nothing."""
    if case.status == "waiting":
        return _requested_upload(
            session, settings=settings, case=case, filename=filename, data=data
        )
    _require_draft(case)
    if name not in {u.name for u in form_for(settings, case.service_id).uploads}:
        raise NotFound(
            N_("Dieses Dokument gehört nicht zu diesem Antrag."), code="upload_not_found"
        )
    replaced = [u for u in case.uploads if u.name == name]
    # The new file first: a refused one (413/415) leaves the one sent before in place. The old
    # file stays on disk until the worker's sweep finds no row naming it: deleted here, a
    # rollback would leave the old row pointing at nothing.
    upload = _store(session, settings=settings, case=case, name=name, filename=filename, data=data)
    for old in replaced:
        case.uploads.remove(old)
    return upload


def _requested_upload(
    session: Session, *, settings: Settings, case: Application, filename: str, data: bytes
) -> CaseUpload:
    # The file first (a refused one changes nothing), then the status: only if the case still
    # waits, so an upload beside a clerk's decision cannot reopen the decided case.
    stored = uploads.store_upload(data, filename=filename, settings=settings)
    workflow.transition(session, case, to="in_review", allowed=("waiting",), refused=_NOT_WAITING)
    upload = _attach(session, case=case, name=REQUESTED, stored=stored)
    # Staff's time limit starts again with the document (the wait's deadline is over).
    case.due_at = workflow.staff_due(settings, case, utcnow())
    workflow.notify(session, settings=settings, case=case, kind="in_review")
    return upload


def _store(
    session: Session,
    *,
    settings: Settings,
    case: Application,
    name: str,
    filename: str,
    data: bytes,
) -> CaseUpload:
    stored = uploads.store_upload(data, filename=filename, settings=settings)
    return _attach(session, case=case, name=name, stored=stored)


def _attach(
    session: Session, *, case: Application, name: str, stored: uploads.StoredFile
) -> CaseUpload:
    upload = CaseUpload(
        name=name,
        filename=stored.filename,
        content_type=stored.content_type,
        size=stored.size,
        storage_key=stored.storage_key,
    )
    case.uploads.append(upload)
    session.flush()
    return upload


# --- review and submission ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewStep:
    index: int
    title: str
    rows: list[tuple[str, str]]  # (label, the answer as shown)


@dataclass(frozen=True)
class UploadState:
    name: str
    label: str
    done: bool


@dataclass(frozen=True)
class Review:
    """Everything the citizen checks before sending."""

    steps: list[ReviewStep]
    fees: list[workflow.FeeItem] | None  # None: the fee is not known
    uploads: list[UploadState]
    problems: list[FieldError] = field(default_factory=list)

    @property
    def fee_cents(self) -> int | None:
        return workflow.fee_total(self.fees)

    @property
    def ready(self) -> bool:
        return not self.problems and all(u.done for u in self.uploads)


def review(session: Session, *, settings: Settings, case: Application, lang: str) -> Review:
    """The draft's answers by step and label, the fee, the uploads and anything still wrong."""
    form = form_for(settings, case.service_id)
    answers, problems = logic.check_all(form, _stored(form, case), today=today_local())
    values = logic.flat_values(form, answers)
    steps = [
        ReviewStep(
            index, str(getattr(step.title, lang, step.title.de)), _rows(step.fields, values, lang)
        )
        for index, step in enumerate(form.all_steps)
    ]
    sent = {u.name for u in case.uploads}
    needed = set(logic.required_uploads(form, values))
    states = [
        UploadState(u.name, str(getattr(u.label, lang, u.label.de)), u.name in sent)
        for u in form.uploads
        if u.name in needed or u.name in sent
    ]
    fees = workflow.fee_items(session, form, values, lang)
    return Review(steps, fees, states, problems)


def _rows(fields: list[Any], values: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    return [
        (str(getattr(f.label, lang, f.label.de)), documents.value_text(values.get(f.name), f, lang))
        for f in fields
        if logic.visible(f, values)
    ]


def _checked(form: FormSpec, raw: Mapping[str, object], uploads_sent: set[str]) -> dict[str, Any]:
    """All answers read and checked at once; every problem named by field (InvalidApplication)."""
    answers, errors = logic.check_all(form, raw, today=today_local())
    missing = set(logic.required_uploads(form, logic.flat_values(form, answers))) - uploads_sent
    errors += [FieldError(name, _UPLOAD_MISSING) for name in sorted(missing)]
    if errors:
        raise InvalidApplication(_INVALID, fields=_messages(errors))
    return answers


def _messages(errors: list[FieldError]) -> dict[str, FieldMessage]:
    messages: dict[str, FieldMessage] = {}
    for error in errors:
        messages.setdefault(error.field, (error.message, dict(error.params)))
    return messages


def submit(
    session: Session, *, settings: Settings, case: Application, today: dt.date | None = None
) -> Application:
    """Send a draft: check everything again, run the rules, decide or prepare, tell the citizen.
    Problems raise InvalidApplication naming the fields (form field or upload names)."""
    _require_draft(case)
    form = form_for(settings, case.service_id)
    answers = _checked(form, _stored(form, case), {u.name for u in case.uploads})
    day = today or today_local()
    return workflow.run_submission(
        session, settings=settings, case=case, form=form, answers=answers, today=day
    )


def apply_via_api(
    session: Session,
    *,
    settings: Settings,
    service_id: str,
    applicant: Mapping[str, object],
    data: Mapping[str, object],
    lang: str,
) -> Application:
    """A whole application in one call: checked, stored and decided at once. Problems name
    their fields as the request does: `applicant.birth_date`, `data.kind`, `uploads.x`."""
    catalog_service.get_service(session, service_id=service_id)
    form = form_for(settings, service_id)
    own = {k: v for k, v in data.items() if k not in APPLICANT_FIELDS}
    fields: dict[str, FieldMessage] = {
        f"data.{k}": N_("Dieses Feld gibt es im Antrag nicht.")
        for k in data
        if k in APPLICANT_FIELDS
    }
    try:
        answers = _checked(form, {**own, **applicant}, set())
    except InvalidApplication as exc:
        fields.update(_api_names(form, exc.fields, own))
    if fields:
        raise InvalidApplication(_INVALID, fields=fields)
    case = _new_case(session, service_id=service_id, lang=lang)
    return workflow.run_submission(
        session, settings=settings, case=case, form=form, answers=answers, today=today_local()
    )


def _api_names(
    form: FormSpec, fields: Mapping[str, FieldMessage], data: Mapping[str, object]
) -> dict[str, FieldMessage]:
    uploads_named = {u.name for u in form.uploads}

    def path(name: str) -> str:
        if name in APPLICANT_FIELDS:
            return f"applicant.{name}"
        return f"uploads.{name}" if name in uploads_named and name not in data else f"data.{name}"

    return {path(name): message for name, message in fields.items()}


def public_status(case: Application, *, lang: str, base_url: str) -> dict[str, Any]:
    """The API's view of a case (API.md): status, links and the findings in plain words."""
    base = base_url.rstrip("/")
    return {
        "code": documents.grouped(case.code),
        "status": API_STATUS.get(case.status, case.status),
        "status_url": mail.status_url(base, case.code),
        "document_url": _document_url(base, case),
        "findings": [_finding(f, lang) for f in logic.citizen_findings(case.findings, case.trace)],
    }


def _finding(finding: Mapping[str, Any], lang: str) -> dict[str, str]:
    """A rule's reason says what it means when the check fails; a passed one says so."""
    if finding["outcome"] == "pass":
        detail = translate(lang, logic.PASSED)
    else:
        detail = (finding.get("detail_en") if lang == "en" else None) or finding.get("detail", "")
    return {"rule": finding["rule"], "outcome": finding["outcome"], "detail": detail}


# --- retention ------------------------------------------------------------------------------------


def purge_cases(session: Session, *, settings: Settings, now: dt.datetime) -> int:
    """Delete closed cases past their retention date and drafts left too long; returns how many
    cases went. Their uploaded files go with the sweep after (uploads.sweep), once the deletion
    is committed. Idempotent (the worker runs it every pass)."""
    stale_draft = (Application.status == "draft") & (
        Application.updated_at < now - dt.timedelta(days=settings.case_draft_days)
    )
    expired = Application.delete_after.is_not(None) & (Application.delete_after < now)
    ids = list(session.scalars(select(Application.id).where(or_(expired, stale_draft))))
    if not ids:
        return 0
    session.execute(delete(Application).where(Application.id.in_(ids)))
    return len(ids)
