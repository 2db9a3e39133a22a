"""Assistant pages: the full chat page (works without JavaScript) and the editors' list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from servicepoint.account import service as account_service
from servicepoint.account.deps import require
from servicepoint.account.models import User
from servicepoint.assistant import actions, callback, service
from servicepoint.assistant.embedding import Embedder, embedder_for
from servicepoint.assistant.errors import InvalidCallback, ServiceMissing
from servicepoint.assistant.schemas import MAX_MESSAGE, AskRequest, FeedbackRequest
from servicepoint.catalog import service as catalog_service
from servicepoint.config import Settings
from servicepoint.core.city import city_facts
from servicepoint.core.db import SessionDep
from servicepoint.core.i18n import N_, translate
from servicepoint.core.inputs import Id, LongText, Name
from servicepoint.core.security import csrf_protect
from servicepoint.core.templating import render

router = APIRouter(include_in_schema=False)


def _chat_page(
    request: Request,
    session: Session,
    conversation_id: str | None,
    *,
    focus: str | None = None,
    rated: str | None = None,
) -> HTMLResponse:
    """The page with the conversation so far; `focus` is the turn the page opens at."""
    turns = service.conversation_turns(session, conversation_id=conversation_id)
    context = {
        "turns": turns,
        "conversation_id": conversation_id if turns else "",
        "focus": focus or (turns[-1]["message_id"] if turns else None),
        "rated": rated,
        "max": MAX_MESSAGE,
    }
    return render(request, "assistant/page.html", context)


@router.get("/assistent", response_class=HTMLResponse)
def page(request: Request) -> HTMLResponse:
    """The service assistant as a full page."""
    context: dict[str, object] = {"turns": [], "conversation_id": "", "max": MAX_MESSAGE}
    return render(request, "assistant/page.html", context)


@router.post("/assistent", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)])
def ask(
    request: Request,
    message: str = Form(..., min_length=1, max_length=MAX_MESSAGE),
    conversation_id: str = Form(default="", max_length=40),
    session: Session = SessionDep,
) -> HTMLResponse:
    """Ask without JavaScript: the whole conversation is shown, the newest answer focused."""
    # No forced language: the answer follows the question's, the page's only where unclear.
    body = AskRequest(message=message, conversation_id=conversation_id or None)
    answer = actions.ask(session, request, body)
    return _chat_page(request, session, answer.conversation_id, focus=answer.message_id)


@router.post(
    "/assistent/bewertung", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)]
)
def rate(
    request: Request,
    conversation_id: str = Form(..., min_length=1, max_length=40),
    message_id: str = Form(..., min_length=1, max_length=40),
    helpful: bool = Form(...),
    session: Session = SessionDep,
) -> HTMLResponse:
    """Rate an answer without JavaScript, as the widget's helpful/unhelpful buttons do."""
    body = FeedbackRequest(conversation_id=conversation_id, message_id=message_id, helpful=helpful)
    actions.feedback(session, body)
    return _chat_page(request, session, conversation_id, focus=message_id, rated=message_id)


@router.get("/mitarbeiter/assistent", response_class=HTMLResponse)
def editor(
    request: Request, user: User = Depends(require("staff")), session: Session = SessionDep
) -> HTMLResponse:
    """Questions the assistant could not answer well, grouped by meaning, to teach it."""
    groups = service.open_groups(session, embedder=_embedder(request))
    return render(
        request,
        "assistant/editor.html",
        {"groups": groups, "services": catalog_service.list_services(session)},
    )


def _embedder(request: Request) -> Embedder | None:
    """The model that groups questions by meaning (None: grouped by their words)."""
    settings: Settings = request.app.state.settings
    return embedder_for(settings)


@router.post("/mitarbeiter/assistent/{question_id}", dependencies=[Depends(csrf_protect)])
def teach(
    question_id: Id,
    request: Request,
    action: str = Form(..., max_length=10, pattern="^(teach|elsewhere|dismiss)$"),
    service_id: str = Form(default="", max_length=64),
    kind: str = Form(default="example", max_length=10, pattern="^(example|keyword)$"),
    text: str = Form(default="", max_length=500),
    user: User = Depends(require("staff")),
    session: Session = SessionDep,
) -> RedirectResponse:
    """Teach a question to a service, mark it another authority's matter, or ignore it."""
    if action == "teach" and not service_id:
        # Without a service, "Zuordnen" must not quietly discard the question.
        raise ServiceMissing(N_("Bitte wählen Sie die Leistung aus, zu der die Frage gehört."))
    embedder = _embedder(request)
    if action == "teach":
        service.teach(
            session,
            question_id=question_id,
            service_id=service_id,
            kind=kind,
            text=text or None,
            embedder=embedder,
        )
    else:
        handled_as = "elsewhere" if action == "elsewhere" else "ignored"
        service.settle(session, question_id=question_id, handled_as=handled_as, embedder=embedder)
    account_service.audit(
        session,
        username=user.username,
        action=f"assistant.{action}",
        target=service_id if action == "teach" else None,
        detail={"question": question_id},
    )
    return RedirectResponse("/mitarbeiter/assistent", status_code=303)


def _windows(request: Request) -> list[tuple[str, str]]:
    lang = getattr(request.state, "lang", "de")
    labels = (N_("egal, jederzeit"), N_("vormittags (8–12 Uhr)"), N_("nachmittags (12–16 Uhr)"))
    return [(w, translate(lang, label)) for w, label in zip(callback.WINDOWS, labels, strict=True)]


def _callback_page(
    request: Request, form: dict[str, str], error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    context = {
        "form": form,
        "error": error,
        "windows": _windows(request),
        "phone": city_facts(settings.city_dir).get("service_phone"),
        "retention_days": settings.callback_retention_days,
    }
    return render(request, "assistant/callback.html", context, status_code=status_code)


@router.get("/rueckruf", response_class=HTMLResponse)
def callback_form(request: Request) -> HTMLResponse:
    """Ask to be called back: the assistant's handover to a person."""
    return _callback_page(request, {})


@router.post("/rueckruf", dependencies=[Depends(csrf_protect)])
def callback_submit(
    request: Request,
    phone: str = Form(default="", max_length=40),
    topic: Annotated[LongText, Form(max_length=2000)] = "",
    window: str = Form(default="any", max_length=16),
    name: Annotated[Name, Form(max_length=200)] = "",
    session: Session = SessionDep,
) -> Response:
    """Store a callback request; a mistake shows the form again with what was typed."""
    try:
        actions.request_callback(
            session, request, phone=phone, topic=topic, window=window, name=name
        )
    except InvalidCallback as exc:
        form = {"phone": phone, "topic": topic, "window": window, "name": name}
        message = translate(getattr(request.state, "lang", "de"), exc.message)
        return _callback_page(request, form, message, status_code=422)
    return RedirectResponse("/rueckruf/danke", status_code=303)


@router.get("/rueckruf/danke", response_class=HTMLResponse)
def callback_thanks(request: Request) -> HTMLResponse:
    """Confirmation after a callback request."""
    return render(request, "assistant/callback_done.html")


@router.get("/mitarbeiter/rueckrufe", response_class=HTMLResponse)
def callbacks(
    request: Request, user: User = Depends(require("staff")), session: Session = SessionDep
) -> HTMLResponse:
    """Open callback requests, oldest first."""
    labels = dict(_windows(request))
    return render(
        request,
        "assistant/callbacks.html",
        {"requests": callback.open_requests(session), "window_labels": labels},
    )


@router.post("/mitarbeiter/rueckrufe/{request_id}", dependencies=[Depends(csrf_protect)])
def callback_done(
    request_id: Id, user: User = Depends(require("staff")), session: Session = SessionDep
) -> RedirectResponse:
    """Mark a callback as made; its phone number and name are deleted at once."""
    callback.mark_done(session, request_id=request_id)
    account_service.audit(
        session, username=user.username, action="callback.done", target=str(request_id)
    )
    return RedirectResponse("/mitarbeiter/rueckrufe", status_code=303)
