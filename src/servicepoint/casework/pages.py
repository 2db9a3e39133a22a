"""Citizen pages of an online application: start, one step per page, uploads, review, resume.

Every page works without JavaScript (plain form posts, one step per page); form.js only adds
instant feedback from the same conditions. The case code in the address is the citizen's one
key to the draft, so every page showing answers is private (no-store).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from servicepoint.casework import logic, page_uploads, status_pages
from servicepoint.casework import page_views as views
from servicepoint.casework import service as case_service
from servicepoint.casework.context import check_application_rate
from servicepoint.casework.errors import CaseNotFound, InvalidApplication
from servicepoint.casework.formspec import FormSpec
from servicepoint.casework.models import Application
from servicepoint.casework.page_common import (
    PRIVATE,
    Posted,
    form_of,
    lang_of,
    open_answered_draft,
    open_draft,
    review_view,
    service_context,
    start_view,
)
from servicepoint.core.clock import today_local
from servicepoint.core.db import SessionDep
from servicepoint.core.i18n import N_
from servicepoint.core.inputs import Code, Key, Step
from servicepoint.core.security import csrf_protect
from servicepoint.core.templating import render

router = APIRouter(include_in_schema=False)
CONSENT = "truthful"


# --- start and resume ---------------------------------------------------------------------------


@router.get("/antrag/fortsetzen", response_class=HTMLResponse)
def resume_form(request: Request) -> HTMLResponse:
    """Enter the code of a saved draft or a sent application."""
    return render(request, "casework/form_resume.html", {"code": "", "unknown": False})


@router.post("/antrag/fortsetzen", response_model=None, dependencies=[Depends(csrf_protect)])
def resume(
    request: Request, posted: Posted, session: Session = SessionDep
) -> HTMLResponse | RedirectResponse:
    """Go on with the draft of this code, or see the status of the sent application."""
    code = posted.get("code")
    typed = code.strip()[:40] if isinstance(code, str) else ""
    try:
        case = case_service.get_case(session, code=typed) if typed else None
    except CaseNotFound:
        case = None
    if case is None:
        context = {"code": typed, "unknown": bool(typed)}
        return render(
            request, "casework/form_resume.html", context, status_code=404 if typed else 422
        )
    return RedirectResponse(
        views.resume_url(form_of(request, case.service_id), case), status_code=303
    )


@router.get("/antrag/{service_id}", response_class=HTMLResponse)
def start_page(service_id: Key, request: Request, session: Session = SessionDep) -> HTMLResponse:
    """What the application asks, needs and costs, with the tutorial beside it."""
    context = start_view(
        session,
        settings=request.app.state.settings,
        service_id=service_id,
        lang=lang_of(request),
    )
    return render(request, "casework/form_start.html", context)


@router.post("/antrag/{service_id}", response_model=None, dependencies=[Depends(csrf_protect)])
def start(service_id: Key, request: Request, session: Session = SessionDep) -> Response:
    """Create a draft and open its first step."""
    check_application_rate(request, "draft")
    case = case_service.start_draft(
        session, settings=request.app.state.settings, service_id=service_id, lang=lang_of(request)
    )
    return RedirectResponse(views.draft_url(case.code, 0), status_code=303)


# --- review and submit (before the step routes: "pruefen" is no step number) --------------------


def _review_page(
    session: Session,
    request: Request,
    case: Application,
    form: FormSpec,
    *,
    consent_missing: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    context = review_view(
        session,
        settings=request.app.state.settings,
        case=case,
        form=form,
        consent=CONSENT,
        consent_missing=consent_missing,
        lang=lang_of(request),
    )
    return render(request, "casework/form_review.html", context, status_code=status_code)


@router.get("/antrag/entwurf/{code}/pruefen", response_model=None, dependencies=[PRIVATE])
def review_page(
    code: Code, request: Request, session: Session = SessionDep
) -> HTMLResponse | RedirectResponse:
    """All answers, the fee and the uploads once more before sending."""
    opened = open_answered_draft(session, request, code)
    if isinstance(opened, RedirectResponse):
        return opened
    case, form = opened
    return _review_page(session, request, case, form)


@router.post(
    "/antrag/entwurf/{code}/pruefen",
    response_model=None,
    dependencies=[Depends(csrf_protect), PRIVATE],
)
def submit(code: Code, request: Request, posted: Posted, session: Session = SessionDep) -> Response:
    """Send the application; the rules run at once and the status page shows the result."""
    check_application_rate(request, "apply")
    opened = open_draft(session, request, code)
    if isinstance(opened, RedirectResponse):
        return opened
    case, form = opened
    if posted.get(CONSENT) not in ("true", "on", "1"):
        return _review_page(session, request, case, form, consent_missing=True, status_code=422)
    try:
        case_service.submit(session, settings=request.app.state.settings, case=case)
    except InvalidApplication as exc:
        return RedirectResponse(_problem_url(form, case, exc), status_code=303)
    return RedirectResponse(f"/antrag/status/{case.code}?neu=1", status_code=303)


def _problem_url(form: FormSpec, case: Application, exc: InvalidApplication) -> str:
    """The first step with a problem, showing it; a missing upload leads to the uploads."""
    steps = [views.step_of_field(form, name) for name in exc.fields]
    known = [s for s in steps if s is not None]
    if known:
        return views.draft_url(case.code, min(known)) + f"?pruefen=1&ziel={views.REVIEW}"
    return views.draft_url(case.code, views.UPLOADS)


# --- uploads of the draft -------------------------------------------------------------------------

router.include_router(page_uploads.router)


# --- one step per page --------------------------------------------------------------------------


def _step_page(
    session: Session,
    request: Request,
    case: Application,
    form: FormSpec,
    index: int,
    *,
    shown: dict[str, object] | None = None,
    errors: list[logic.FieldError] | None = None,
    status_code: int = 200,
    saved: bool = False,
    to_review: bool = False,
) -> HTMLResponse:
    lang, today = lang_of(request), today_local()
    step = form.step(index)
    fields = views.step_fields(
        step,
        shown if shown is not None else views.answers_of(case),
        errors or [],
        lang=lang,
        today=today,
    )
    context = service_context(session, service_id=case.service_id, lang=lang)
    context.update(
        case=case,
        form=form,
        index=index,
        step_title=views.text_of(step.title, lang),
        intro=views.text_of(step.intro, lang),
        fields=fields,
        summary=views.summary(fields),
        values=views.values_of(form, case),
        progress=views.progress(form, case, index, lang=lang),
        code=case.code,
        shown_code=views.shown_code(case.code),
        resume_link=request.app.state.settings.base_url.rstrip("/") + "/antrag/fortsetzen",
        saved=saved,
        to_review=to_review,
        draft_days=request.app.state.settings.case_draft_days,
    )
    return render(request, "casework/form_step.html", context, status_code=status_code)


def _open_step(
    session: Session, request: Request, code: str, index: int
) -> tuple[Application, FormSpec] | RedirectResponse:
    """The draft and its form for one step; a step not reached yet sends to the first open one
    (steps are filled in order), a sent case to its status page."""
    opened = open_draft(session, request, code)
    if isinstance(opened, RedirectResponse):
        return opened
    case, form = opened
    if index >= len(form.all_steps):
        raise CaseNotFound(N_("Diesen Schritt gibt es in diesem Antrag nicht."))
    if index > case.step:
        return RedirectResponse(views.resume_url(form, case), status_code=303)
    return case, form


@router.get("/antrag/entwurf/{code}/{index}", response_model=None, dependencies=[PRIVATE])
def step_page(
    code: Code, index: Step, request: Request, session: Session = SessionDep
) -> HTMLResponse | RedirectResponse:
    """One step of the form, with what was entered before."""
    opened = _open_step(session, request, code, index)
    if isinstance(opened, RedirectResponse):
        return opened
    case, form = opened
    query = request.query_params
    errors: list[logic.FieldError] = []
    if query.get("pruefen") == "1":  # sent here from the review: say what is wrong
        values = views.answers_of(case)
        _, errors = logic.check_step(
            form, form.step(index), values, earlier=values, today=today_local()
        )
    return _step_page(
        session,
        request,
        case,
        form,
        index,
        errors=errors,
        status_code=200,
        saved=query.get("gespeichert") == "1",
        to_review=query.get("ziel") == views.REVIEW,
    )


@router.post(
    "/antrag/entwurf/{code}/{index}",
    response_model=None,
    dependencies=[Depends(csrf_protect), PRIVATE],
)
def save_step(
    code: Code, index: Step, request: Request, posted: Posted, session: Session = SessionDep
) -> HTMLResponse | RedirectResponse:
    """Store the step's answers, then go on, back, or stop here with the code to resume."""
    opened = _open_step(session, request, code, index)
    if isinstance(opened, RedirectResponse):
        return opened
    case, form = opened
    raw = views.raw_answers(form.step(index), posted)
    action = posted.get("action")
    to_review = posted.get("ziel") == views.REVIEW
    errors = case_service.save_step(
        session,
        settings=request.app.state.settings,
        case=case,
        index=index,
        raw=raw,
        today=today_local(),
    )
    if action == "back":
        return RedirectResponse(views.draft_url(case.code, max(index - 1, 0)), status_code=303)
    if action == "save":  # what is blank may stay blank for now; what is wrong is said
        errors = [e for e in errors if not _blank(raw.get(e.field))]
    if errors:
        return _step_page(
            session,
            request,
            case,
            form,
            index,
            shown={**views.answers_of(case), **raw},
            errors=errors,
            status_code=422,
            saved=action == "save",
            to_review=to_review,
        )
    if action == "save":
        return RedirectResponse(
            views.draft_url(case.code, index) + "?gespeichert=1", status_code=303
        )
    if to_review and views.forms_done(form, case):
        return RedirectResponse(views.after_steps_url(form, case), status_code=303)
    return RedirectResponse(views.next_url(form, case, index), status_code=303)


def _blank(raw: object) -> bool:
    """Nothing entered: no value, a text of spaces, no box ticked."""
    return raw is None or raw == [] or (isinstance(raw, str) and not raw.strip())


# The status pages share the /antrag/ prefix; kept in their own module.
router.include_router(status_pages.router)
