"""Wiring the assistant to a request: base URL, city phone, optional rephrasing, the schema."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from servicepoint.assistant import callback, languages, service
from servicepoint.assistant.embedding import embedder_for
from servicepoint.assistant.errors import AssistantRateLimited, CallbackRateLimited
from servicepoint.assistant.models import CallbackRequest
from servicepoint.assistant.rephrase import Rephraser
from servicepoint.assistant.schemas import (
    ActionRead,
    AskRequest,
    AskResponse,
    FeedbackRequest,
    ReplyPart,
    ServiceRef,
)
from servicepoint.catalog import present
from servicepoint.config import Settings
from servicepoint.core.city import city_facts, elsewhere_topics, elsewhere_words, place_names
from servicepoint.core.i18n import N_
from servicepoint.core.security import within_rate


def rephraser(settings: Settings) -> Rephraser | None:
    if not settings.assistant_llm_url:
        return None
    return Rephraser(
        settings.assistant_llm_url,
        settings.assistant_llm_model,
        settings.assistant_llm_api_key,
        settings.assistant_llm_timeout,
    )


def to_response(reply: service.Reply) -> AskResponse:
    svc = reply.service
    ref = (
        ServiceRef(id=svc.id, name=svc.name_de, url=reply.base + present.service_path(svc))
        if svc
        else None
    )
    return AskResponse(
        conversation_id=reply.conversation_id,
        lang=reply.lang,
        question_lang=reply.question_lang or reply.lang,
        dir="rtl" if languages.direction(reply.question_lang) == "rtl" else "ltr",
        reply=reply.reply,
        parts=[ReplyPart(lang=p.lang, dir=p.dir, text=p.text) for p in reply.parts],
        confidence=reply.confidence,
        service=ref,
        actions=[ActionRead(type=a.type, label=a.label, url=a.url) for a in reply.actions],
        message_id=reply.message_id,
        kind=reply.kind,
    )


TOO_MANY_QUESTIONS = N_(
    "Sie haben sehr viele Fragen in kurzer Zeit gestellt. Bitte warten Sie eine Minute."
)


def ask(session: Session, request: Request, body: AskRequest) -> AskResponse:
    """Answer a question; each client may ask `assistant_rate_limit` a minute (page and API)."""
    settings: Settings = request.app.state.settings
    if not within_rate(request, "ask", limit=settings.assistant_rate_limit, window=60):
        raise AssistantRateLimited(TOO_MANY_QUESTIONS, retry_after=60)
    city = city_facts(settings.city_dir)
    reply = service.ask(
        session,
        message=body.message,
        conversation_id=body.conversation_id,
        lang=body.lang,
        base=str(request.base_url).rstrip("/"),
        phone=city.get("service_phone"),
        rephrase=request.app.state.rephraser,
        default_lang=getattr(request.state, "lang", None),
        places=place_names(settings.city_dir),
        elsewhere=elsewhere_words(settings.city_dir),
        topics=elsewhere_topics(settings.city_dir),
        country=city.get("country"),
        foreign_offer=(city.get("assistant") or {}).get("foreign_documents_offer") or (),
        embedder=embedder_for(settings),
    )
    return to_response(reply)


def feedback(session: Session, body: FeedbackRequest) -> None:
    service.feedback(
        session,
        conversation_id=body.conversation_id,
        message_id=body.message_id,
        helpful=body.helpful,
    )


def request_callback(
    session: Session, request: Request, *, phone: str, topic: str, window: str, name: str
) -> CallbackRequest:
    """A callback request from the page, rate-limited per address like bookings."""
    settings: Settings = request.app.state.settings
    if not within_rate(request, "callback", limit=settings.callback_rate_limit, window=3600):
        raise CallbackRateLimited(
            N_("Zu viele Anfragen von Ihrem Anschluss. Bitte versuchen Sie es später noch einmal."),
            retry_after=3600,
        )
    return callback.request_callback(
        session,
        phone=phone,
        topic=topic,
        window=window,
        name=name,
        lang=getattr(request.state, "lang", "de"),
    )
