"""What every citizen page of an online application needs: language, form, the open draft."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from servicepoint.casework import page_views as views
from servicepoint.casework import service as case_service
from servicepoint.casework.formspec import FormSpec
from servicepoint.casework.models import Application
from servicepoint.catalog import present
from servicepoint.catalog import service as catalog_service
from servicepoint.config import Settings
from servicepoint.core.i18n import N_, translate
from servicepoint.core.security import mark_private

# Pages that show a case's answers: no browser or proxy keeps them (shared PCs).
PRIVATE = Depends(mark_private)


async def posted_form(request: Request) -> FormData:
    """The posted form, read on the event loop (Starlette keeps it for the request). The routes
    that take it stay plain functions, which FastAPI runs in a worker thread, so their database
    calls (SQLite may wait for its lock) never stop the other requests."""
    return await request.form()


Posted = Annotated[FormData, Depends(posted_form)]


def lang_of(request: Request) -> str:
    return str(getattr(request.state, "lang", "de"))


def form_of(request: Request, service_id: str) -> FormSpec:
    return case_service.form_for(request.app.state.settings, service_id)


def open_draft(
    session: Session, request: Request, code: str
) -> tuple[Application, FormSpec] | RedirectResponse:
    """The draft and its form; a sent case answers with its status page instead."""
    case = case_service.get_case(session, code=code)
    if case.status != "draft":
        return RedirectResponse(f"/antrag/status/{case.code}", status_code=303)
    return case, form_of(request, case.service_id)


def open_answered_draft(
    session: Session, request: Request, code: str
) -> tuple[Application, FormSpec] | RedirectResponse:
    """The draft whose steps are all answered (for its uploads and review); with a step still
    open, that step instead, and a sent case its status page."""
    opened = open_draft(session, request, code)
    if isinstance(opened, RedirectResponse):
        return opened
    case, form = opened
    if not views.forms_done(form, case):
        return RedirectResponse(views.resume_url(form, case), status_code=303)
    return case, form


def service_context(session: Session, *, service_id: str, lang: str) -> dict[str, Any]:
    """The catalog's service: its name, the facts and the tutorial shown beside the form."""
    svc = catalog_service.get_service(session, service_id=service_id)
    detail = present.service_detail(svc, base="", lang=lang)
    name = svc.name_en if lang == "en" else svc.name_de
    return {"svc": svc, "detail": detail, "service_name": name, "tutorial": detail.tutorial}


def start_view(
    session: Session, *, settings: Settings, service_id: str, lang: str
) -> dict[str, Any]:
    """What the start page shows: the service with its tutorial, the steps, the documents
    needed, the fees and how long a draft is kept."""
    form = case_service.form_for(settings, service_id)
    context = service_context(session, service_id=service_id, lang=lang)
    context.update(
        form=form,
        steps=[views.text_of(s.title, lang) for s in form.all_steps],
        uploads=[views.text_of(u.label, lang) for u in form.uploads],
        fees=views.start_fees(form, context["svc"], lang=lang),
        draft_days=settings.case_draft_days,
    )
    return context


def review_view(
    session: Session,
    *,
    settings: Settings,
    case: Application,
    form: FormSpec,
    consent: str,
    consent_missing: bool,
    lang: str,
) -> dict[str, Any]:
    """What the review page shows: every answer, the fee, the uploads, what still stops sending
    and the confirmation box (said to be missing when it was not ticked)."""
    review = case_service.review(session, settings=settings, case=case, lang=lang)
    missing = translate(lang, N_("Bitte bestätigen Sie, dass Ihre Angaben stimmen."))
    box = views.consent_view(consent, missing if consent_missing else None, lang=lang)
    problems = views.review_problems(form, case, review.problems, lang=lang)
    problems.items.extend(views.summary([box]).items)
    context = service_context(session, service_id=case.service_id, lang=lang)
    context.update(
        case=case,
        code=case.code,
        shown_code=views.shown_code(case.code),
        review=review,
        summary=problems,
        consent=box,
        progress=views.progress(form, case, views.REVIEW, lang=lang),
        draft_days=settings.case_draft_days,
    )
    return context


def file_bytes(file: UploadFile) -> bytes:
    """The whole file, read in the route's worker thread (Starlette spooled it already)."""
    file.file.seek(0)
    return file.file.read()


def chosen_file(value: object) -> UploadFile | None:
    """A file the citizen chose; an empty file field (nothing chosen) is None."""
    if not isinstance(value, UploadFile):
        return None
    if not value.filename and not value.size:
        return None
    return value
