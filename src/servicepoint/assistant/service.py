"""The service assistant: answers grounded in the catalog, steering people online first."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from servicepoint.appointment import service as appointment_service
from servicepoint.assistant import compose, matcher, nlp
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
from servicepoint.assistant.errors import ConversationNotFound
from servicepoint.assistant.models import Conversation
from servicepoint.catalog import locations as location_service
from servicepoint.catalog import present
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.hours import format_hours
from servicepoint.catalog.models import Location, Service
from servicepoint.catalog.search import SearchIndex, fold, words
from servicepoint.core import events
from servicepoint.core.clock import utcnow
from servicepoint.core.i18n import N_

LOG_BELOW = 0.6  # answers less sure than this go to the editors' list
# A question refused for want of confidence still names its likeliest service as a question
# back ("Meinten Sie …?") when that is at least as likely right as not. On the dev set
# (2026-12-06), 1 of 14 refused in-scope questions gets the right offer and 1 a wrong one; 7 of
# 331 out-of-scope questions get an offer. A lower bar (0.4) offers the right service to 5 (and
# a wrong one to 3) but also offers one to 17 out-of-scope questions.
SUGGEST_FROM = 0.5
CONVERSATION_HOURS = 24  # the default of the setting assistant_conversation_hours
RATEABLE = 10  # how many of a conversation's latest replies can still be rated
# The editors' loop lives in editors.py; other modules reach it through this service module.
__all__ = [
    "Reply",
    "ask",
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


# -- context for composing --------------------------------------------------------------------
def _next_slot(
    session: Session, service: Service, now: dt.datetime
) -> tuple[dt.datetime | None, str | None]:
    """Earliest free appointment, searched in widening windows so the common case is cheap."""
    if "appointment" not in service.channels:
        return None, None
    today = now.date()
    for days in (3, 14, 60):
        slots = appointment_service.find_slots(
            session,
            service_ids=[service.id],
            now=now,
            date_to=today + dt.timedelta(days=days),
            limit=1,
        )
        if slots:
            loc = location_service.get_location(session, location_id=slots[0].location_id)
            return slots[0].start, loc.name
    return None, None


def _context(
    session: Session, service: Service, lang: str, base: str, phone: str | None, now: dt.datetime
) -> compose.Context:
    slot, place = _next_slot(session, service, now)
    offices = [
        loc.name
        for loc in location_service.list_locations(session)
        if loc.service_ids is None or service.id in loc.service_ids
    ]
    return compose.Context(
        lang=lang,
        service_url=base + present.service_path(service),
        tutorial_url=base + present.tutorial_path(service)
        if service.data.get("tutorial")
        else None,
        booking_url=f"{base}/termine?service={service.id}",
        next_slot=slot,
        next_slot_place=place,
        offices=offices,
        locations_url=f"{base}/standorte",
        service_phone=phone,
    )


# -- replies for the other kinds --------------------------------------------------------------
_t = compose.bilingual


def _handover(lang: str, base: str, phone: str | None) -> list[compose.Action]:
    out = []
    if phone:
        out.append(
            compose.Action(
                "handover",
                _t(lang, f"Servicetelefon {phone}", f"Service phone {phone}"),
                "tel:" + "".join(ch for ch in phone if ch.isdigit() or ch == "+"),
            )
        )
    out.append(
        compose.Action(
            "handover", _t(lang, "Rückruf anfordern", "Request a callback"), f"{base}/rueckruf"
        )
    )
    out.append(
        compose.Action(
            "handover",
            _t(lang, "Alle Leistungen durchsuchen", "Browse all services"),
            f"{base}/leistungen",
        )
    )
    return out


def _out_of_scope(
    lang: str, base: str, phone: str | None, topic: tuple[str, str] | None = None
) -> tuple[str, list[compose.Action]]:
    text = _t(
        lang,
        "Dazu kann ich leider nichts sagen: Ich kenne nur die Leistungen unserer "
        "Bürgerämter. Gern hilft Ihnen das Servicetelefon weiter.",
        "I'm sorry, I can't help with that: I only know the services of our citizens' "
        "offices. The service phone is happy to help.",
    )
    if topic:
        # Only the topic's name: which authority handles it is not in the city's data.
        text = _t(
            lang,
            f"Dazu kann ich leider nichts sagen: Das klingt nach „{topic[0]}“, und dafür sind "
            "nicht die Bürgerämter zuständig. Gern hilft Ihnen das Servicetelefon weiter.",
            f"I'm sorry, I can't help with that: it sounds like “{topic[1]}”, which the "
            "citizens' offices do not handle. The service phone is happy to help.",
        )
    return text, _handover(lang, base, phone)


def _suggested(
    session: Session,
    service_id: str,
    lang: str,
    base: str,
    reply: str,
    acts: list[compose.Action],
) -> tuple[str, list[compose.Action]]:
    """Instead of a plain refusal, the likeliest service offered as a question, never as the
    answer; the handover stays."""
    _, offer = _clarify(session, [service_id], lang, base)
    if not offer:
        return reply, acts
    name = offer[0].label
    text = _t(
        lang,
        f"Da bin ich mir nicht sicher. Meinten Sie „{name}“? Sonst hilft Ihnen das "
        "Servicetelefon gern weiter.",
        f"I'm not sure I understood. Did you mean “{name}”? Otherwise the service phone is "
        "happy to help.",
    )
    return text, [*offer, *acts]


def _topic_named(
    index: SearchIndex, text: str, topics: Mapping[str, tuple[str, str]]
) -> tuple[str, str] | None:
    """The other authority's matter the message names, if it names one (the first found)."""
    for phrase in index.elsewhere_words(text):
        topic = topics.get(index.elsewhere_written.get(phrase, phrase))
        if topic:
            return topic
    return None


def _clarify(
    session: Session, options: list[str], lang: str, base: str
) -> tuple[str, list[compose.Action]]:
    found = catalog_service.services_by_ids(session, ids=options)
    names = [found[o] for o in options if o in found]
    label = [s.name_de if lang == "de" else s.name_en for s in names]
    text = _t(
        lang,
        "Meinen Sie " + " oder ".join(f"„{n}“" for n in label) + "?",
        "Do you mean " + " or ".join(f"“{n}”" for n in label) + "?",
    )
    acts = [
        compose.Action("clarify", lab, base + present.service_path(s))
        for lab, s in zip(label, names, strict=True)
    ]
    return text, acts


def _offices(
    session: Session, text: str, lang: str, base: str, phone: str | None
) -> tuple[str, list[compose.Action]]:
    """About the citizens' offices themselves: which there are (or the one the message names),
    their opening hours where the city's data has them, and where to look and book."""
    offices = [loc for loc in location_service.list_locations(session) if loc.kind == "buergeramt"]
    named = _named_offices(offices, text)
    names = ", ".join(loc.name for loc in named or offices)
    reply = (
        f"{names}."
        if named
        else _t(
            lang,
            f"Unsere {len(offices)} Bürgerämter: {names}.",
            f"Our {len(offices)} citizens' offices: {names}.",
        )
    )
    reply += _opening_hours(named or offices, lang)
    reply += _t(
        lang,
        " Adressen finden Sie bei den Standorten, freie Termine in der Terminbuchung.",
        " The locations page has the addresses, the booking the free appointments.",
    )
    acts = [
        compose.Action(
            "referral",
            _t(lang, "Standorte der Bürgerämter", "Citizens' office locations"),
            f"{base}/standorte",
        ),
        compose.Action(
            "book_appointment", _t(lang, "Termin buchen", "Book an appointment"), f"{base}/termine"
        ),
        *_handover(lang, base, phone),
    ]
    return reply, acts


def _named_offices(offices: Sequence[Location], text: str) -> list[Location]:
    """The offices the message names by their own word ("Linden" in "Bürgeramt Linden")."""
    said = {fold(w) for w in words(text)}
    return [
        loc
        for loc in offices
        if any(
            f in said
            for w in words(loc.name)
            if len(f := fold(w)) > 3 and f not in nlp.OFFICE_WORDS
        )
    ]


def _opening_hours(offices: Sequence[Location], lang: str) -> str:
    """The offices' opening hours where the city's data has them; unknown ones said so."""
    known = [
        f"{loc.name}: {format_hours(loc.opening_hours)}" for loc in offices if loc.opening_hours
    ]
    text = (
        _t(lang, " Öffnungszeiten – ", " Opening hours – ") + "; ".join(known) + "."
        if known
        else ""
    )
    if len(known) < len(offices):
        text += _t(
            lang,
            " Die Öffnungszeiten der übrigen liegen mir nicht gesichert vor."
            if known
            else " Die Öffnungszeiten liegen mir nicht gesichert vor.",
            " I have no confirmed opening hours for the others."
            if known
            else " I have no confirmed opening hours.",
        )
    return text


def _greeting(lang: str, thanks: bool = False) -> str:
    if thanks:
        return _t(
            lang, "Gern geschehen! Fragen Sie gern weiter.", "You're welcome! Ask me anything else."
        )
    return _t(
        lang,
        "Hallo! Fragen Sie mich zu Leistungen der Bürgerämter, z. B. „Was kostet "
        "ein Reisepass?“ oder „Wie melde ich mich um?“",
        "Hello! Ask me about the services of our citizens' offices, e.g. “How much is "
        "a passport?” or “How do I register my new address?”",
    )


# -- asking -----------------------------------------------------------------------------------
def _stand_in(index: SearchIndex, service_id: str, lang: str) -> str | None:
    """The name of the service that stands in for this one at short notice, if any."""
    for doc in index.docs:
        if service_id in doc.urgent_for:
            return doc.names[1] if lang == "en" else doc.names[0]
    return None


def _answer(
    session: Session,
    index: SearchIndex,
    decision: Decision,
    lang: str,
    text: str,
    base: str,
    phone: str | None,
    now: dt.datetime,
) -> tuple[str, list[compose.Action], Service]:
    svc = catalog_service.get_service(session, service_id=str(decision.service_id))
    # the reply is composed from the facts; loading the citizen words too would cost a query
    detail = present.service_detail(svc, base=base, lang=lang, keywords=())
    ctx = _context(session, svc, lang, base, phone, now)
    ctx.stand_in = _stand_in(index, svc.id, lang)
    reply = compose.compose(detail, decision.aspects, ctx, children=nlp.mentions_children(text))
    return reply, compose.actions(detail, ctx), svc


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
) -> Reply:
    """Answer one message; follow-ups use the conversation's topic.

    `lang` forces the reply's language; otherwise it is the question's, and where that is
    unclear the conversation's, then `default_lang` (e.g. the language of the page)."""
    now = now or utcnow()
    text = message.strip()[:2000]
    conv = _conversation(session, conversation_id)
    state = State.load(conv.state)
    reply_lang = lang or nlp.detect_lang(text, default=state.lang or default_lang or "de")
    index = catalog_service.search_index(session, places, elsewhere)
    query = nlp.without_personal_data(text)
    m = matcher.match(index, query)
    decision = decide(index, query, state, m)
    service: Service | None = None
    if decision.kind == "answer":
        reply, acts, service = _answer(session, index, decision, reply_lang, text, base, phone, now)
        if rephrase:
            reply = rephrase(reply, reply_lang)
    elif decision.kind == "clarify":
        reply, acts = _clarify(session, decision.options, reply_lang, base)
    elif decision.kind == "greeting":
        reply, acts = _greeting(reply_lang, thanks=nlp.is_thanks(query)), []
    elif decision.kind == "offices":
        reply, acts = _offices(session, query, reply_lang, base, phone)
    else:
        topic = _topic_named(index, query, topics) if topics else None
        reply, acts = _out_of_scope(reply_lang, base, phone, topic)
        if topic is None and m.best and m.confidence >= SUGGEST_FROM:
            reply, acts = _suggested(session, m.best.service_id, reply_lang, base, reply, acts)
    message_id = secrets.token_urlsafe(9)
    _remember(conv, state, decision, reply_lang, text, message_id, now)
    _record(session, decision, m, text, reply_lang)
    return Reply(
        conv.id,
        reply_lang,
        reply,
        round(decision.confidence, 3),
        service,
        acts,
        message_id,
        decision.kind,
        base,
    )


def _remember(
    conv: Conversation,
    state: State,
    decision: Decision,
    lang: str,
    text: str,
    message_id: str,
    now: dt.datetime,
) -> None:
    state.lang = lang
    if decision.kind == "answer":
        state.service_id, state.aspects, state.options = decision.service_id, decision.aspects, []
    elif decision.kind == "clarify":
        state.options, state.aspects = decision.options, decision.aspects
    state.last = {
        "message_id": message_id,
        "question": nlp.scrub(text)[:1000],
        "service_id": decision.service_id,
        "confidence": decision.confidence,
    }
    state.recent = [*state.recent, state.last][-RATEABLE:]
    conv.state = state.dump()
    conv.updated_at = now


def _record(session: Session, decision: Decision, m: matcher.Match, text: str, lang: str) -> None:
    events.record(
        session,
        kind=f"assistant.{decision.kind}",
        service_ids=[decision.service_id] if decision.service_id else (),
        lang=lang,
        confidence=round(decision.confidence, 2),
        followup=decision.followup,
    )
    if decision.kind in ("out_of_scope", "clarify") or decision.confidence < LOG_BELOW:
        reason = "out_of_scope" if decision.kind == "out_of_scope" else "low_confidence"
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
