"""Replies for the kinds of decision other than a service's answer: asking back, a refusal
with its handover, an unsure offer, the citizens' offices, a greeting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from servicepoint.assistant import compose, nlp
from servicepoint.catalog import locations as location_service
from servicepoint.catalog import present
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.hours import format_hours
from servicepoint.catalog.models import Location
from servicepoint.catalog.search import SearchIndex, fold, words

_t = compose.bilingual


def handover(lang: str, base: str, phone: str | None) -> list[compose.Action]:
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


def out_of_scope(
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
    return text, handover(lang, base, phone)


def suggested(
    session: Session,
    service_id: str,
    lang: str,
    base: str,
    reply: str,
    acts: list[compose.Action],
) -> tuple[str, list[compose.Action]]:
    """Instead of a plain refusal, the likeliest service offered as a question, never as the
    answer; the handover stays."""
    _, offer = clarify(session, [service_id], lang, base)
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


def topic_named(
    index: SearchIndex, text: str, topics: Mapping[str, tuple[str, str]]
) -> tuple[str, str] | None:
    """The other authority's matter the message names, if it names one (the first found)."""
    for phrase in index.elsewhere_words(text):
        topic = topics.get(index.elsewhere_written.get(phrase, phrase))
        if topic:
            return topic
    return None


def clarify(
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


def offices(
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
        *handover(lang, base, phone),
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


def greeting(lang: str, thanks: bool = False) -> str:
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
