"""The draft's uploads page: the documents these answers need, sent as a plain multipart form.

A file that is too large or of the wrong type is said beside its field, in the page's language,
with the status it earns (413, 415); the page never turns into a bare error page for it.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from servicepoint.casework import page_views as views
from servicepoint.casework import service as case_service
from servicepoint.casework.context import check_application_rate
from servicepoint.casework.formspec import FormSpec
from servicepoint.casework.models import Application
from servicepoint.casework.page_common import (
    PRIVATE,
    Posted,
    chosen_file,
    file_bytes,
    lang_of,
    open_answered_draft,
    service_context,
)
from servicepoint.core.db import SessionDep
from servicepoint.core.i18n import N_, error_text, translate
from servicepoint.core.inputs import Code
from servicepoint.core.security import csrf_protect
from servicepoint.core.templating import render
from servicepoint.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType

router = APIRouter(include_in_schema=False)
# What an upload can fail on that the citizen can fix by choosing another file.
FILE_PROBLEMS = (PayloadTooLarge, UnsupportedMediaType, Unprocessable)
MISSING = N_("Bitte laden Sie dieses Dokument hoch.")


def _page(
    session: Session,
    request: Request,
    case: Application,
    form: FormSpec,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = lang_of(request)
    uploads = views.upload_views(form, case, errors or {}, lang=lang)
    context = service_context(session, service_id=case.service_id, lang=lang)
    context.update(
        case=case,
        code=case.code,
        uploads=uploads,
        summary=views.summary(uploads),
        progress=views.progress(form, case, views.UPLOADS, lang=lang),
        last_step=len(form.all_steps) - 1,
        accept=views.ACCEPT,
        max_mb=f"{request.app.state.settings.upload_max_bytes / 1_000_000:g}",
        max_bytes=request.app.state.settings.upload_max_bytes,
    )
    return render(request, "casework/form_uploads.html", context, status_code=status_code)


@router.get("/antrag/entwurf/{code}/unterlagen", response_model=None, dependencies=[PRIVATE])
def uploads_page(
    code: Code, request: Request, session: Session = SessionDep
) -> HTMLResponse | RedirectResponse:
    """The documents this application needs, and what is uploaded already."""
    opened = open_answered_draft(session, request, code)
    if isinstance(opened, RedirectResponse):
        return opened
    case, form = opened
    if not views.needed_uploads(form, case):
        return RedirectResponse(views.draft_url(case.code, views.REVIEW), status_code=303)
    return _page(session, request, case, form)


@router.post(
    "/antrag/entwurf/{code}/unterlagen",
    response_model=None,
    dependencies=[Depends(csrf_protect), PRIVATE],
)
def upload(code: Code, request: Request, posted: Posted, session: Session = SessionDep) -> Response:
    """Store the chosen files; go on to the review once every needed document is there."""
    check_application_rate(request, "upload")
    opened = open_answered_draft(session, request, code)
    if isinstance(opened, RedirectResponse):
        return opened
    case, form = opened
    errors: dict[str, str] = {}
    status = 422
    lang = lang_of(request)
    for needed in views.needed_uploads(form, case):
        file = chosen_file(posted.get(needed.name))
        if file is None:
            continue
        try:
            case_service.add_upload(
                session,
                settings=request.app.state.settings,
                case=case,
                name=needed.name,
                filename=file.filename or "",
                data=file_bytes(file),
            )
        except FILE_PROBLEMS as exc:
            errors[needed.name] = error_text(exc, lang)
            status = exc.status_code if len(errors) == 1 else status
    if not errors and posted.get("action") == "next":
        missing = views.missing_uploads(form, case)
        errors = {name: translate(lang, MISSING) for name in missing}
    if errors:
        return _page(session, request, case, form, errors=errors, status_code=status)
    target = views.REVIEW if posted.get("action") == "next" else views.UPLOADS
    return RedirectResponse(views.draft_url(case.code, target), status_code=303)
