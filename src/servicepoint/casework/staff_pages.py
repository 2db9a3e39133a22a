"""Staff pages of online applications: the work queue, one case with its findings and the trace
of what the rules read, and the actions on it (confirm, decide, ask for a document, note, export).

Every page needs the staff role; every form posts with the CSRF token; the answers are private
(no-store, set by the account dependency). Each action calls one service function, which checks
the case's state and writes the audit entry.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal, Protocol

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from servicepoint.account.deps import require
from servicepoint.account.models import User
from servicepoint.casework import service, staff_view
from servicepoint.casework.models import Application
from servicepoint.core.clock import utcnow
from servicepoint.core.db import SessionDep
from servicepoint.core.downloads import attachment, file_download
from servicepoint.core.i18n import N_, error_text, translate
from servicepoint.core.inputs import Code, Id, LongText
from servicepoint.core.security import csrf_protect
from servicepoint.core.templating import render
from servicepoint.errors import ServicePointError

router = APIRouter(include_in_schema=False)
BASE = "/mitarbeiter/antraege"
STAFF = Depends(require("staff"))
CSRF = [Depends(csrf_protect)]

# ?ok=<key> after an action names what was done; an unknown key shows nothing.
DONE = {
    "bestaetigt": N_("Der Vorschlag ist bestätigt."),
    "entschieden": N_("Die Entscheidung ist gespeichert."),
    "angefordert": N_("Die Unterlage ist angefordert. Der Antrag wartet, bis sie hochgeladen ist."),
    "notiz": N_("Die Notiz ist gespeichert."),
}
OkKey = Annotated[str, Query(max_length=20)]
ServiceFilter = Annotated[str, Query(max_length=64)]


# -- the work queue ------------------------------------------------------------------------------
@router.get(BASE, response_class=HTMLResponse)
def work_queue(
    request: Request,
    leistung: ServiceFilter = "",
    leer: bool = False,
    user: User = STAFF,
    session: Session = SessionDep,
) -> HTMLResponse:
    """Cases in review or waiting for a document, the oldest first, with their due dates."""
    context = staff_view.queue_view(session, now=utcnow(), chosen=leistung, lang=request.state.lang)
    context.update(
        nothing_left=leer,
        proposal_text=staff_view.proposal_text,
        status_text=staff_view.status_text,
    )
    return render(request, "casework/staff_queue.html", context)


@router.post(f"{BASE}/naechster", dependencies=CSRF)
def take_next(user: User = STAFF, session: Session = SessionDep) -> RedirectResponse:
    """Assign the oldest case no one has taken to me, and open it."""
    case = service.take_next(session, username=user.username)
    if case is None:
        return RedirectResponse(f"{BASE}?leer=1", status_code=303)
    return RedirectResponse(f"{BASE}/{case.code}", status_code=303)


# -- one case ------------------------------------------------------------------------------------
def _case_page(
    request: Request,
    session: Session,
    case: Application,
    *,
    done: str = "",
    error: str = "",
    error_field: str = "",
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    settings = request.app.state.settings
    context = staff_view.case_view(session, settings=settings, case=case, lang=request.state.lang)
    context.update(done=done, error=error, error_field=error_field, typed=typed or {})
    return render(request, "casework/staff_case.html", context, status_code=status_code)


@router.get(BASE + "/{code}", response_class=HTMLResponse)
def case_page(
    code: Code, request: Request, ok: OkKey = "", user: User = STAFF, session: Session = SessionDep
) -> HTMLResponse:
    """A case: answers, uploads, findings with the values read, proposal, notes and actions."""
    case = staff_view.open_case(session, code=code, username=user.username)
    done = translate(request.state.lang, DONE[ok]) if ok in DONE else ""
    return _case_page(request, session, case, done=done)


class Action(Protocol):
    """One service call on the case, all but the case given (a functools.partial)."""

    def __call__(self, *, case: Application) -> object: ...


def _act(
    request: Request,
    session: Session,
    code: str,
    done: str,
    action: Action,
    typed: dict[str, str] | None = None,
) -> Response:
    """Run one action on the case. Refused (e.g. decided meanwhile): the case page again with
    the reason and all that was typed; the savepoint keeps anything half done from staying."""
    case = staff_view.staff_case(session, code=code)
    try:
        with session.begin_nested():
            action(case=case)
    except ServicePointError as exc:
        fields = getattr(exc, "fields", None) or {}  # the form field the refusal is about
        return _case_page(
            request,
            session,
            case,
            error=error_text(exc, request.state.lang),
            error_field=next(iter(fields), ""),
            typed=typed,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"{BASE}/{case.code}?ok={done}", status_code=303)


@router.post(BASE + "/{code}/bestaetigen", response_model=None, dependencies=CSRF)
def confirm(
    code: Code, request: Request, user: User = STAFF, session: Session = SessionDep
) -> Response:
    """Confirm the prepared proposal unchanged (one click)."""
    settings = request.app.state.settings
    action = partial(service.confirm, session, settings=settings, username=user.username)
    return _act(request, session, code, "bestaetigt", action)


@router.post(BASE + "/{code}/entscheiden", response_model=None, dependencies=CSRF)
def decide(
    code: Code,
    request: Request,
    outcome: Annotated[Literal["approved", "rejected"], Form()],
    reason: Annotated[LongText, Form()] = "",
    user: User = STAFF,
    session: Session = SessionDep,
) -> Response:
    """Approve or reject with a reason (a rejection always needs one)."""
    settings = request.app.state.settings
    action = partial(
        service.decide_by_staff,
        session,
        settings=settings,
        username=user.username,
        outcome=outcome,
        reason=reason,
    )
    return _act(request, session, code, "entschieden", action, {"reason": reason})


@router.post(BASE + "/{code}/unterlage", response_model=None, dependencies=CSRF)
def request_document(
    code: Code,
    request: Request,
    what: Annotated[LongText, Form()] = "",
    user: User = STAFF,
    session: Session = SessionDep,
) -> Response:
    """Ask the citizen for a missing document; the case waits for the upload."""
    settings = request.app.state.settings
    action = partial(
        service.request_document, session, settings=settings, username=user.username, what=what
    )
    return _act(request, session, code, "angefordert", action, {"what": what})


@router.post(BASE + "/{code}/notiz", response_model=None, dependencies=CSRF)
def add_note(
    code: Code,
    request: Request,
    text: Annotated[LongText, Form()] = "",
    user: User = STAFF,
    session: Session = SessionDep,
) -> Response:
    """Add a note to the case (seen by staff only)."""
    action = partial(service.add_note, session, username=user.username, text=text)
    return _act(request, session, code, "notiz", action, {"note": text})


# -- files ---------------------------------------------------------------------------------------
@router.get(BASE + "/{code}/unterlagen/{upload_id}")
def download(
    code: Code,
    upload_id: Id,
    request: Request,
    user: User = STAFF,
    session: Session = SessionDep,
) -> Response:
    """One uploaded document, always as a download (a browser never runs it inline)."""
    upload, data = staff_view.upload_download(
        session,
        settings=request.app.state.settings,
        code=code,
        upload_id=upload_id,
        username=user.username,
    )
    return file_download(data, filename=upload.filename, content_type=upload.content_type)


@router.get(BASE + "/{code}/export.json")
def export(
    code: Code, request: Request, user: User = STAFF, session: Session = SessionDep
) -> JSONResponse:
    """The decided case in the documented exchange shape, for a back-office system."""
    case = staff_view.staff_case(session, code=code)
    settings = request.app.state.settings
    body = service.handover(session, settings=settings, case=case, username=user.username)
    headers = {"Content-Disposition": attachment(f"{case.code}.json")}
    return JSONResponse(body, headers=headers)
