"""Composing the reply to one message once the dialogue has decided: the service's answer with
its context (next slot, offices, the sentences that answer the question), asking back, the
offices, a refusal, or another country's document; and the preface in the question's own
language. `service.ask` decides; this module writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from servicepoint.appointment import service as appointment_service
from servicepoint.assistant import (
    answers,
    compose,
    foreign,
    languages,
    matcher,
    nlp,
    replies,
    vectors,
)
from servicepoint.assistant.dialogue import Decision
from servicepoint.assistant.embedding import Embedder
from servicepoint.catalog import locations as location_service
from servicepoint.catalog import present
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.hours import format_hours
from servicepoint.catalog.models import Location, Service
from servicepoint.catalog.search import SearchIndex

# A question refused for want of confidence still names its likeliest service as a question
# back ("Meinten Sie …?") when that is at least as likely right as not. On the dev set
# (2026-12-06), 1 of 14 refused in-scope questions gets the right offer and 1 a wrong one; 7 of
# 331 out-of-scope questions get an offer. A lower bar (0.4) offers the right service to 5 (and
# a wrong one to 3) but also offers one to 17 out-of-scope questions.
SUGGEST_FROM = 0.5


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


def _place(loc: Location) -> compose.Place:
    hours = format_hours(loc.opening_hours) if loc.opening_hours else None
    return compose.Place(loc.name, present.address(loc), hours or None)


def _context(
    session: Session,
    service: Service,
    lang: str,
    base: str,
    phone: str | None,
    now: dt.datetime,
    question: str = "",
    similarity: answers.Similarity | None = None,
) -> compose.Context:
    slot, place = _next_slot(session, service, now)
    locations = [
        loc
        for loc in location_service.list_offices(session)
        if loc.service_ids is None or service.id in loc.service_ids
    ]
    offices = [loc.name for loc in locations]
    # Offices whose address (then hours) the location data knows are named first.
    places = sorted(map(_place, locations), key=lambda p: (p.address is None, p.hours is None))
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
        places=places,
        ways=answers.named_first(answers.ways(service.data, lang), question, similarity),
    )


def _similarity(q: Question) -> answers.Similarity | None:
    """The question's closeness in meaning to catalog texts, their vectors from the cache."""
    embedder, qvec = q.embedder, q.qvec
    if embedder is None or qvec is None:
        return None

    def similarity(texts: Sequence[str]) -> np.ndarray:
        return np.asarray(vectors.vectors_for(q.session, embedder, texts) @ qvec)

    return similarity


def _stand_in(index: SearchIndex, service_id: str, lang: str) -> str | None:
    """The name of the service that stands in for this one at short notice, if any."""
    for doc in index.docs:
        if service_id in doc.urgent_for:
            return doc.names[1] if lang == "en" else doc.names[0]
    return None


@dataclass(frozen=True)
class Question:
    """What every language's reply to one message is composed from."""

    session: Session
    index: SearchIndex
    decision: Decision
    m: matcher.Match
    query: str  # the message without personal data
    text: str  # the message as written
    base: str
    phone: str | None
    now: dt.datetime
    rephrase: Callable[[str, str], str] | None
    topics: Mapping[str, tuple[str, str]] | None
    question_lang: str
    embedder: Embedder | None
    qvec: np.ndarray | None  # the message's embedding, computed once per message


def _answer(q: Question, lang: str) -> tuple[str, list[compose.Action], Service]:
    svc = catalog_service.get_service(q.session, service_id=str(q.decision.service_id))
    # the reply is composed from the facts; loading the citizen words too would cost a query
    detail = present.service_detail(svc, base=q.base, lang=lang, keywords=())
    # the question's specific aspects, answered from the service's own sentences
    asked = answers.asked(q.text, q.question_lang or lang)
    similarity = _similarity(q) if asked else None
    ctx = _context(q.session, svc, lang, q.base, q.phone, q.now, q.text, similarity)
    ctx.stand_in = _stand_in(q.index, svc.id, lang)
    ctx.findings = answers.findings(
        svc.data, q.text, lang=lang, question_lang=q.question_lang, similarity=similarity
    )
    children = nlp.mentions_children(q.text)
    reply = compose.compose(detail, q.decision.aspects, ctx, children=children)
    return reply, compose.actions(detail, ctx), svc


def reply(q: Question, lang: str) -> tuple[str, list[compose.Action], Service | None]:
    """The reply in German or English, by the kind of decision."""
    session, decision, m = q.session, q.decision, q.m
    if decision.kind == "answer":
        text, acts, service = _answer(q, lang)
        return (q.rephrase(text, lang) if q.rephrase else text), acts, service
    if decision.kind == "clarify":
        return *replies.clarify(session, decision.options, lang, q.base), None
    if decision.kind == "greeting":
        return replies.greeting(lang, thanks=nlp.is_thanks(q.query)), [], None
    if decision.kind == "offices":
        return *replies.offices(session, q.query, lang, q.base, q.phone), None
    topic = replies.topic_named(q.index, q.query, q.topics) if q.topics else None
    text, acts = replies.out_of_scope(lang, q.base, q.phone, topic)
    if topic is None and m.best and m.confidence >= SUGGEST_FROM:
        text, acts = replies.suggested(session, m.best.service_id, lang, q.base, text, acts)
    return text, acts, None


def other_country(
    q: Question, question_lang: str, country: str | None, offer: Sequence[str]
) -> tuple[str, list[Service]] | None:
    """(country code, services offered instead) when the message is about another country's
    identity document: its likeliest service is one only nationals get and it names another
    nationality or country."""
    code = foreign.country_named(q.text, question_lang, country)
    if code is None:
        return None
    d, best = q.decision, q.m.best
    ids = [d.service_id] if d.service_id else d.options or ([best.service_id] if best else [])
    found = catalog_service.services_by_ids(q.session, ids=ids)
    if not found or not all(s.data.get("nationals_only") for s in found.values()):
        return None
    offered = catalog_service.services_by_ids(q.session, ids=offer)
    return code, [offered[i] for i in offer if i in offered]


def consulate(
    code: str, offered: Sequence[Service], lang: str, base: str
) -> tuple[str, list[compose.Action]]:
    names = [s.name_en if lang == "en" else s.name_de for s in offered]
    acts = [
        compose.Action("referral", name, base + present.service_path(s))
        for name, s in zip(names, offered, strict=True)
    ]
    return foreign.consulate_text(lang, code, names), acts


def opening(
    q: Question,
    kind: str,
    lang: str,
    service: Service | None,
    abroad: tuple[str, list[Service]] | None,
) -> list[foreign.Part]:
    """The preface: in the question's language, or in English and German when it has no labels."""
    if abroad and languages.has_labels(lang):
        code, offered = abroad
        offers = [f"{s.name_de} ({s.name_en})" for s in offered]
        text = foreign.consulate_text(lang, code, offers) + " " + foreign.preface(lang, kind)
        return [foreign.part(lang, text)]
    if abroad:  # the German and English bodies already say it
        return foreign.preface_for(lang, kind)
    names = (service.name_de, service.name_en) if service else None
    url = q.base + present.service_path(service) if service else None
    return foreign.preface_for(lang, kind, names=names, url=url, aspects=q.decision.aspects)
