"""The service assistant: answers grounded in the catalog, steering people online first."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from servicepoint.assistant import (
    compose,
    foreign,
    languages,
    matcher,
    nlp,
    ranker,
    replies,
    reply_flow,
    retrieval,
)
from servicepoint.assistant.dialogue import Decision, State, decide
from servicepoint.assistant.editors import (
    dismiss,
    log_question,
    open_count,
    open_groups,
    purge_questions,
    settle,
    teach,
)
from servicepoint.assistant.embedding import Embedder
from servicepoint.assistant.errors import ConversationNotFound
from servicepoint.assistant.models import Conversation
from servicepoint.catalog import present
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.models import Service
from servicepoint.core import events
from servicepoint.core.clock import utcnow
from servicepoint.core.i18n import N_

LOG_BELOW = 0.6  # answers less sure than this go to the editors' list
CONVERSATION_HOURS = 24  # the default of the setting assistant_conversation_hours
RATEABLE = 10  # how many of a conversation's latest replies can still be rated
MAX_TURNS = 50  # how many turns the no-JS page shows again (bounds the stored state)
# The editors' loop lives in editors.py; other modules reach it through this service module.
__all__ = [
    "Reply",
    "ask",
    "conversation_turns",
    "dismiss",
    "feedback",
    "log_question",
    "open_count",
    "open_groups",
    "purge_conversations",
    "purge_questions",
    "settle",
    "teach",
]


@dataclass
class Reply:
    conversation_id: str
    lang: str
    reply: str
    confidence: float
    service: Service | None
    actions: list[compose.Action]
    message_id: str
    kind: str
    base: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # The language the question was written in (any supported one; `lang` is that of the
    # details, German or English) and the reply's pieces, each in its language and direction.
    question_lang: str = ""
    parts: list[foreign.Part] = field(default_factory=list)


# -- conversation state -----------------------------------------------------------------------
def _usable_id(conversation_id: str | None) -> str | None:
    # A NUL can never be an id we handed out, and PostgreSQL rejects it in a query.
    return conversation_id if conversation_id and "\x00" not in conversation_id else None


def _conversation(session: Session, conversation_id: str | None) -> Conversation:
    conversation_id = _usable_id(conversation_id)
    conv = session.get(Conversation, conversation_id) if conversation_id else None
    if conv is None:
        conv = Conversation(id=conversation_id or secrets.token_urlsafe(18), state={})
        session.add(conv)
    return conv


def purge_conversations(
    session: Session, *, now: dt.datetime | None = None, hours: int = CONVERSATION_HOURS
) -> int:
    """Delete conversations (their context and the turns shown back) after the retention."""
    cutoff = (now or utcnow()) - dt.timedelta(hours=hours)
    result = session.execute(delete(Conversation).where(Conversation.updated_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def ask(
    session: Session,
    *,
    message: str,
    conversation_id: str | None = None,
    lang: str | None = None,
    base: str = "",
    phone: str | None = None,
    now: dt.datetime | None = None,
    rephrase: Callable[[str, str], str] | None = None,
    default_lang: str | None = None,
    places: Sequence[str] = (),
    elsewhere: Sequence[str] = (),
    topics: Mapping[str, tuple[str, str]] | None = None,
    country: str | None = None,
    foreign_offer: Sequence[str] = (),
    embedder: Embedder | None = None,
) -> Reply:
    """Answer one message; follow-ups use the conversation's topic.

    `lang` forces the reply's language; otherwise it is the question's, and where that is
    unclear the conversation's, then `default_lang` (e.g. the language of the page). A question
    in another language gets a preface in its language and the reply in German and English.
    `country` is the city's (its identity documents are the city's matter), `foreign_offer` the
    services offered to someone asking about another country's document. With an `embedder`
    the learned ranker (ranker.py) decides over the lexical and the multilingual retrievers."""
    now = now or utcnow()
    text = message.strip()[:2000]
    conv = _conversation(session, conversation_id)
    state = State.load(conv.state)
    fallback = state.lang or default_lang or "de"
    question_lang = languages.detect(text, default=fallback)
    other_lang = question_lang not in languages.HOME
    reply_lang = lang or (fallback if other_lang else question_lang)
    index = catalog_service.search_index(session, places, elsewhere)
    query = nlp.without_personal_data(text)
    hybrid = retrieval.hybrid_index(session, embedder) if embedder else None
    qvec = hybrid.embed_query(query) if hybrid else None  # once: ranking and answering share it
    m = ranker.rank(hybrid, index, query, lang=question_lang, qvec=qvec)
    decision = decide(index, query, state, m)
    q = reply_flow.Question(
        session=session,
        index=index,
        decision=decision,
        m=m,
        query=query,
        text=text,
        base=base,
        phone=phone,
        now=now,
        rephrase=rephrase,
        topics=topics,
        question_lang=question_lang,
        embedder=embedder,
        qvec=qvec,
    )
    abroad = reply_flow.other_country(q, question_lang, country, foreign_offer)
    kind = "consulate" if abroad else decision.kind
    kind, service, parts, acts = _compose(q, kind, reply_lang, abroad)
    answer = Reply(
        conv.id,
        reply_lang,
        "\n\n".join(p.text for p in parts),
        round(decision.confidence, 3),
        service,
        acts,
        secrets.token_urlsafe(9),
        kind,
        base,
        question_lang=question_lang,
        parts=parts,
    )
    _remember(conv, state, decision, answer, text, now)
    _record(session, decision, m, text, reply_lang, answer)
    return answer


def _compose(
    q: reply_flow.Question,
    kind: str,
    reply_lang: str,
    abroad: tuple[str, list[Service]] | None,
) -> tuple[str, Service | None, list[foreign.Part], list[compose.Action]]:
    """The reply's kind and parts: in German or English, or, for a question in another
    language, a preface (in that language when it has labels) followed by the German and the
    English reply. A question in another language that found no service is never refused as
    "not ours": it was not understood well enough, and says so."""
    lang = q.question_lang
    other_lang = lang not in languages.HOME
    if other_lang and kind == "out_of_scope":
        acts = replies.handover(reply_lang, q.base, q.phone)
        if languages.has_labels(lang):
            acts = foreign.translate_actions(acts, lang)
        return "unsure", None, foreign.unsure_parts(lang), acts
    langs = [reply_lang, *[x for x in languages.HOME if other_lang and x != reply_lang]]
    service: Service | None = None
    parts: list[foreign.Part] = []
    acts = []
    for x in langs:
        if abroad:
            text, acts = reply_flow.consulate(*abroad, x, q.base)
        else:
            text, acts, service = reply_flow.reply(q, x)
        parts.append(foreign.part(x, text))
    if other_lang:
        parts = [*reply_flow.opening(q, kind, lang, service, abroad), *parts]
        if languages.has_labels(lang):
            acts = foreign.translate_actions(acts, lang)
    return kind, service, parts, acts


def _remember(
    conv: Conversation,
    state: State,
    decision: Decision,
    answer: Reply,
    text: str,
    now: dt.datetime,
) -> None:
    state.lang = answer.lang
    if answer.kind == "answer":
        state.service_id, state.aspects, state.options = decision.service_id, decision.aspects, []
    elif answer.kind == "clarify":
        state.options, state.aspects = decision.options, decision.aspects
    question = nlp.scrub(text)[:1000]
    state.last = {
        "message_id": answer.message_id,
        "question": question,
        "service_id": decision.service_id,
        "confidence": decision.confidence,
    }
    state.recent = [*state.recent, state.last][-RATEABLE:]
    state.turns = [*state.turns, _turn(answer, question)][-MAX_TURNS:]
    conv.state = state.dump()
    conv.updated_at = now


def _turn(answer: Reply, question: str) -> dict[str, Any]:
    """One question and its answer as the no-JS page shows them again (question scrubbed)."""
    svc = answer.service
    return {
        "message_id": answer.message_id,
        "question": question,
        "reply": answer.reply,
        "question_lang": answer.question_lang,
        "parts": [{"lang": p.lang, "dir": p.dir, "text": p.text} for p in answer.parts],
        "actions": [{"type": a.type, "label": a.label, "url": a.url} for a in answer.actions],
        "service": {
            "id": svc.id,
            "name": svc.name_de,
            "url": answer.base + present.service_path(svc),
        }
        if svc
        else None,
    }


def conversation_turns(session: Session, *, conversation_id: str | None) -> list[dict[str, Any]]:
    """The turns of a conversation in order, each marked whether it can still be rated;
    empty for an unknown or expired conversation."""
    usable = _usable_id(conversation_id)
    conv = session.get(Conversation, usable) if usable else None
    state = State.load(conv.state if conv else None)
    rateable = {r.get("message_id") for r in state.recent}
    return [{**t, "rateable": t.get("message_id") in rateable} for t in state.turns]


def _record(
    session: Session, decision: Decision, m: matcher.Match, text: str, lang: str, answer: Reply
) -> None:
    events.record(
        session,
        kind=f"assistant.{answer.kind}",
        service_ids=[decision.service_id] if decision.service_id else (),
        lang=lang,
        question_lang=answer.question_lang,
        confidence=round(decision.confidence, 2),
        followup=decision.followup,
    )
    if answer.kind in ("out_of_scope", "unsure", "clarify") or decision.confidence < LOG_BELOW:
        reason = "out_of_scope" if answer.kind == "out_of_scope" else "low_confidence"
        log_question(
            session,
            text=text,
            lang=lang,
            reason=reason,
            guess=m.best.service_id if m.best else None,
            confidence=m.confidence,
        )


def feedback(session: Session, *, conversation_id: str, message_id: str, helpful: bool) -> None:
    """Thumbs up/down on one of the latest replies; unhelpful ones go to the editors' list."""
    usable = _usable_id(conversation_id)
    conv = session.get(Conversation, usable) if usable else None
    state = State.load(conv.state if conv else None)
    rated = [r for r in (*state.recent, state.last) if r.get("message_id") == message_id]
    if conv is None or not rated:
        raise ConversationNotFound(N_("Zu dieser Antwort gibt es kein Gespräch mehr."))
    last = rated[-1]
    events.record(
        session,
        kind="assistant.rated",
        service_ids=[last["service_id"]] if last.get("service_id") else (),
        helpful=helpful,
    )
    if not helpful:
        log_question(
            session,
            text=str(last.get("question", "")),
            lang=str((conv.state or {}).get("lang") or "de"),
            reason="unhelpful",
            guess=last.get("service_id"),
            confidence=float(last.get("confidence", 0)),
        )
