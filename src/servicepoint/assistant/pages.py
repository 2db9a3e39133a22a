"""Assistant pages: the full chat page (works without JavaScript) and the editors' list."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from servicepoint.account import service as account_service
from servicepoint.account.deps import require
from servicepoint.account.models import User
from servicepoint.assistant import actions, service
from servicepoint.assistant.errors import ServiceMissing
from servicepoint.assistant.schemas import MAX_MESSAGE, AskRequest
from servicepoint.catalog import service as catalog_service
from servicepoint.core.db import SessionDep
from servicepoint.core.i18n import N_
from servicepoint.core.security import csrf_protect
from servicepoint.core.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/assistent", response_class=HTMLResponse)
def page(request: Request) -> HTMLResponse:
    """The service assistant as a full page."""
    return render(request, "assistant/page.html", {"exchange": None, "max": MAX_MESSAGE})


@router.post("/assistent", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)])
def ask(
    request: Request,
    message: str = Form(..., min_length=1, max_length=MAX_MESSAGE),
    conversation_id: str = Form(default="", max_length=40),
    session: Session = SessionDep,
) -> HTMLResponse:
    """Ask without JavaScript: the answer is rendered into the page."""
    # No forced language: the answer follows the question's, the page's only where unclear.
    body = AskRequest(message=message, conversation_id=conversation_id or None)
    answer = actions.ask(session, request, body)
    return render(
        request,
        "assistant/page.html",
        {"exchange": {"question": message, "answer": answer}, "max": MAX_MESSAGE},
    )


@router.get("/mitarbeiter/assistent", response_class=HTMLResponse)
def editor(
    request: Request, user: User = Depends(require("staff")), session: Session = SessionDep
) -> HTMLResponse:
    """Questions the assistant could not answer well, grouped, to teach it."""
    return render(
        request,
        "assistant/editor.html",
        {
            "groups": service.open_groups(session),
            "services": catalog_service.list_services(session),
        },
    )


@router.post("/mitarbeiter/assistent/{question_id}", dependencies=[Depends(csrf_protect)])
def teach(
    question_id: int,
    request: Request,
    action: str = Form(..., pattern="^(teach|dismiss)$"),
    service_id: str = Form(default="", max_length=64),
    kind: str = Form(default="example", pattern="^(example|keyword)$"),
    text: str = Form(default="", max_length=500),
    user: User = Depends(require("staff")),
    session: Session = SessionDep,
) -> RedirectResponse:
    """Attach a question to a service as a citizen word or example, or dismiss it."""
    if action == "teach" and not service_id:
        # Without a service, "Zuordnen" must not quietly discard the question.
        raise ServiceMissing(N_("Bitte wählen Sie die Leistung aus, zu der die Frage gehört."))
    if action == "teach":
        service.teach(
            session, question_id=question_id, service_id=service_id, kind=kind, text=text or None
        )
    else:
        service.dismiss(session, question_id=question_id)
    account_service.audit(
        session,
        username=user.username,
        action=f"assistant.{action}",
        target=service_id or None,
        detail={"question": question_id},
    )
    return RedirectResponse("/mitarbeiter/assistent", status_code=303)
