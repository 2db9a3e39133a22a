"""The citizen's status page of a sent application, its document, and the upload staff ask for."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from servicepoint.casework import page_views as views
from servicepoint.casework import service as case_service
from servicepoint.casework import status_view
from servicepoint.casework.context import check_application_rate
from servicepoint.casework.models import Application
from servicepoint.casework.page_common import (
    PRIVATE,
    Posted,
    chosen_file,
    file_bytes,
    form_of,
    lang_of,
    service_context,
)
from servicepoint.casework.page_uploads import FILE_PROBLEMS, MISSING
from servicepoint.core.db import SessionDep
from servicepoint.core.i18n import error_text, translate
from servicepoint.core.inputs import Code
from servicepoint.core.security import csrf_protect
from servicepoint.core.templating import render

router = APIRouter(include_in_schema=False)
REQUESTED = "requested"  # the upload name of a document staff asked for


def _page(
    session: Session,
    request: Request,
    case: Application,
    *,
    upload_error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = lang_of(request)
    context = service_context(session, service_id=case.service_id, lang=lang)
    context.update(
        case=case,
        code=case.code,
        shown_code=views.shown_code(case.code),
        status=status_view.status_of(case, lang=lang),
        findings=status_view.findings_of(case, lang=lang),
        payment=status_view.payment_of(case, lang=lang),
        upload_error=upload_error,
        accept=views.ACCEPT,
        max_mb=f"{request.app.state.settings.upload_max_bytes / 1_000_000:g}",
        max_bytes=request.app.state.settings.upload_max_bytes,
        new=request.query_params.get("neu") == "1",
        sent=request.query_params.get("hochgeladen") == "1",
        requested_files=[u.filename for u in case.uploads if u.name == REQUESTED],
    )
    return render(request, "casework/status.html", context, status_code=status_code)


@router.get("/antrag/status/{code}", response_model=None, dependencies=[PRIVATE])
def status_page(
    code: Code, request: Request, session: Session = SessionDep
) -> HTMLResponse | RedirectResponse:
    """Where the application stands, why, and the document once it is approved."""
    case = case_service.get_case(session, code=code)
    if case.status == "draft":  # not sent yet: go on filling it in
        return RedirectResponse(views.resume_url(form_of(request, case.service_id), case), 303)
    return _page(session, request, case)


@router.post(
    "/antrag/status/{code}/unterlagen",
    response_model=None,
    dependencies=[Depends(csrf_protect), PRIVATE],
)
def send_requested(
    code: Code, request: Request, posted: Posted, session: Session = SessionDep
) -> Response:
    """Send the document staff asked for; the case goes back to review."""
    check_application_rate(request, "upload")
    case = case_service.get_case(session, code=code)
    if case.status != "waiting":
        return RedirectResponse(f"/antrag/status/{case.code}", status_code=303)
    file = chosen_file(posted.get("document"))
    lang = lang_of(request)
    if file is None:
        return _page(session, request, case, upload_error=translate(lang, MISSING), status_code=422)
    try:
        case_service.add_upload(
            session,
            settings=request.app.state.settings,
            case=case,
            name=REQUESTED,
            filename=file.filename or "",
            data=file_bytes(file),
        )
    except FILE_PROBLEMS as exc:
        error = error_text(exc, lang)
        return _page(session, request, case, upload_error=error, status_code=exc.status_code)
    return RedirectResponse(f"/antrag/status/{case.code}?hochgeladen=1", status_code=303)


@router.get("/antrag/status/{code}/dokument.pdf", dependencies=[PRIVATE])
def document(code: Code, request: Request, session: Session = SessionDep) -> Response:
    """The signed result document of an approved application."""
    name, pdf = case_service.document_of(session, settings=request.app.state.settings, code=code)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )
