"""Compose short replies from catalog fields only (pure: no DB, no web).

Nothing here states a fee, a document or a deadline that is not in the catalog record handed
in; where the catalog has no value, the reply says so and offers a person to ask.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from servicepoint.assistant.answers import QUOTED, Finding, Way
from servicepoint.assistant.compose_specific import (
    online_ways_text,
    phone_hint,
    places_text,
    quoted_text,
    say,
    sentence,
    ways_text,
)
from servicepoint.catalog.schemas import ServiceDetail
from servicepoint.core.clock import BERLIN
from servicepoint.core.i18n import N_

_CHILD_HINTS = ("unter", "minderj", "kind", "under", "child", "minor", "jünger", "younger")


@dataclass(frozen=True)
class Action:
    type: str
    label: str
    url: str


@dataclass(frozen=True)
class Place:
    """An office that offers the service, as far as the location data knows it."""

    name: str
    address: str | None = None
    hours: str | None = None  # catalog.hours.format_hours of the weekly hours


@dataclass
class Context:
    """What the reply may use besides the service record."""

    lang: str
    service_url: str
    tutorial_url: str | None = None
    booking_url: str | None = None
    next_slot: dt.datetime | None = None
    next_slot_place: str | None = None
    offices: list[str] = field(default_factory=list)
    locations_url: str = "/standorte"
    service_phone: str | None = None
    # The service that stands in at short notice ("Vorläufigen Personalausweis beantragen").
    stand_in: str | None = None
    # The specific aspects the question asks (answers.findings), with the catalog's sentences.
    findings: list[Finding] = field(default_factory=list)
    # The offices offering the service, those with a known address first.
    places: list[Place] = field(default_factory=list)
    # The service's variants, the one the question names first (empty: one online statement).
    ways: list[Way] = field(default_factory=list)


def bilingual(lang: str, de: str, en: str) -> str:
    """Pick the German or English wording of a reply part written here in both."""
    return en if lang == "en" else de


_t = bilingual


def _euro(cents: int, lang: str) -> str:
    whole, rest = divmod(cents, 100)
    if lang == "en":
        return f"€{whole:,}.{rest:02d}"
    return f"{whole:,}".replace(",", ".") + f",{rest:02d} €"


def _when(value: dt.datetime, lang: str) -> str:
    local = value.astimezone(BERLIN)
    return local.strftime("%d.%m.%Y, %H:%M") + ("" if lang == "en" else " Uhr")


def _child_only(lines: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    picked: list[tuple[str, str | None]] = [
        (t, c) for t, c in lines if c and any(h in c.lower() for h in _CHILD_HINTS)
    ]
    return picked or lines


def fees_text(d: ServiceDetail, lang: str, children: bool = False) -> str:
    if not d.fees:
        return _t(
            lang,
            "Zu den Gebühren liegen mir keine gesicherten Angaben vor.",
            "I have no confirmed information on the fees.",
        )
    items = [(f"{f.label}: {_euro(f.amount_cents, lang)}", f.condition) for f in d.fees]
    if children:
        items = _child_only(items)
    lines = [f"{text} – {cond}" if cond else text for text, cond in items]
    stand = d.fees_as_of.strftime("%d.%m.%Y") if d.fees_as_of else ""
    head = _t(lang, "Gebühren", "Fees")
    tail = _t(lang, f"Stand: {stand}", f"As of {stand}") if stand else ""
    return f"{head}: " + "; ".join(lines) + (f". {tail}." if tail else ".")


def documents_text(d: ServiceDetail, lang: str, children: bool = False) -> str:
    if not d.documents:
        return _t(
            lang,
            "Welche Unterlagen nötig sind, liegt mir nicht gesichert vor.",
            "I have no confirmed list of the documents needed.",
        )
    items = [(doc.text, doc.condition) for doc in d.documents]
    if children:
        items = _child_only(items)
    lines = [f"{text} ({cond})" if cond else text for text, cond in items]
    return sentence(_t(lang, "Bitte mitbringen: ", "Please bring: ") + "; ".join(lines))


def duration_text(d: ServiceDetail, lang: str) -> str:
    if d.processing_time:
        return sentence(
            _t(
                lang,
                f"Bearbeitungsdauer: {d.processing_time}",
                f"Processing time: {d.processing_time}",
            )
        )
    return _t(
        lang,
        "Zur Bearbeitungsdauer liegen mir keine gesicherten Angaben vor.",
        "I have no confirmed information on the processing time.",
    )


def online_text(d: ServiceDetail, ctx: Context) -> str:
    lang = ctx.lang
    if ctx.ways:
        return ways_text(ctx.ways, lang)
    if "online" in d.channels and d.online_url:
        guide = (
            _t(
                lang,
                " Eine Schritt-für-Schritt-Anleitung hilft dabei.",
                " A step-by-step guide helps you.",
            )
            if ctx.tutorial_url
            else ""
        )
        return (
            _t(
                lang,
                "Das geht online – ohne Termin und Wartezeit.",
                "You can do this online – no appointment, no waiting.",
            )
            + guide
        )
    return _t(lang, "Das geht leider nicht online.", "Unfortunately this cannot be done online.")


def responsible_text(d: ServiceDetail, lang: str) -> str:
    r = d.responsible
    contact = [
        x
        for x in (r.phone and _t(lang, f"Telefon {r.phone}", f"phone {r.phone}"), r.email, r.url)
        if x
    ]
    text = _t(lang, f"Zuständig: {r.name}", f"Responsible: {r.name}")
    return text + (f" ({', '.join(contact)})" if contact else "") + "."


def where_text(d: ServiceDetail, ctx: Context) -> str:
    lang = ctx.lang
    if "external" in d.channels:
        return responsible_text(d, lang)
    if "appointment" in d.channels and ctx.offices:
        text = _t(
            lang,
            f"Das geht in jedem unserer {len(ctx.offices)} Bürgerämter.",
            f"You can do this at any of our {len(ctx.offices)} citizens' offices.",
        )
        if not ctx.places:
            return text
        authority = say(lang, N_("Zuständig: %(name)s."), name=d.responsible.name)
        return f"{text} {places_text(ctx)} {authority}"
    if "online" in d.channels:
        return online_text(d, ctx)
    return responsible_text(d, lang)


def hours_text(d: ServiceDetail, ctx: Context) -> str:
    lang = ctx.lang
    if "external" in d.channels:
        return responsible_text(d, lang)
    if any(p.hours for p in ctx.places):
        return places_text(ctx)
    return _t(
        lang,
        "Die Öffnungszeiten der einzelnen Bürgerämter liegen mir nicht gesichert "
        "vor; freie Termine sehen Sie in der Terminbuchung.",
        "I do not have confirmed opening hours for the individual offices; free "
        "appointments are shown in the booking.",
    ) + phone_hint(ctx.service_phone, lang)


def booking_text(d: ServiceDetail, ctx: Context) -> str:
    lang = ctx.lang
    if "appointment" not in d.channels:
        if "online" in d.channels:
            return _t(
                lang,
                "Einen Termin brauchen Sie nicht: es geht online.",
                "You need no appointment: it can be done online.",
            )
        return responsible_text(d, lang)
    if ctx.next_slot:
        place = f" ({ctx.next_slot_place})" if ctx.next_slot_place else ""
        return _t(
            lang,
            f"Nächster freier Termin: {_when(ctx.next_slot, lang)}{place}.",
            f"Next free appointment: {_when(ctx.next_slot, lang)}{place}.",
        )
    return _t(
        lang,
        "Termine buchen Sie online in der Terminbuchung.",
        "You can book an appointment online.",
    )


def general_text(d: ServiceDetail, ctx: Context) -> str:
    parts = [d.summary]
    if ctx.ways:  # the summary already says how; name what can be done online
        parts.append(online_ways_text(ctx.ways, ctx.lang))
    elif "online" in d.channels:
        parts.append(online_text(d, ctx))
    elif "appointment" in d.channels:
        parts.append(
            _t(
                ctx.lang,
                "Dafür brauchen Sie einen Termin im Bürgeramt.",
                "You need an appointment at a citizens' office.",
            )
        )
    elif "external" in d.channels:
        parts.append(responsible_text(d, ctx.lang))
    return " ".join(parts)


def _chosen(aspects: list[str], ctx: Context) -> list[str]:
    """The sub-questions answered, at most three: what the question asks specifically first,
    then the fixed slots. A deadline found in the text replaces the processing time ("Bis wann
    …?" asks no processing time); one not found leaves it, as the nearest thing the catalog has.
    "Who may" not found is left out when something else was asked: its cue words ("darf
    ich …") also start other questions."""
    found = {f.aspect: f for f in ctx.findings}
    first = [
        a
        for a in QUOTED
        if a in found and (found[a].quotes or a != "eligibility" or not (aspects or len(found) > 1))
    ]
    rest = [
        a
        for a in aspects
        if not (a == "duration" and "deadline" in found and found["deadline"].quotes)
    ]
    rest += [a for a in ("online", "where") if a in found and a not in rest]
    return [*first, *rest]


def compose(d: ServiceDetail, aspects: list[str], ctx: Context, children: bool = False) -> str:
    """The reply: one short paragraph per sub-question (at most three), online first."""
    name = d.name if ctx.lang == "de" else d.name_en
    found = {f.aspect: f for f in ctx.findings}
    builders: dict[str, Callable[[], str]] = {
        "cost": lambda: fees_text(d, ctx.lang, children),
        "documents": lambda: documents_text(d, ctx.lang, children),
        "duration": lambda: duration_text(d, ctx.lang),
        "online": lambda: online_text(d, ctx),
        "where": lambda: where_text(d, ctx),
        "hours": lambda: hours_text(d, ctx),
        "responsible": lambda: responsible_text(d, ctx.lang),
        "booking": lambda: booking_text(d, ctx),
        **{a: partial(quoted_text, found[a], ctx) for a in QUOTED if a in found},
    }
    chosen = [a for a in _chosen(aspects, ctx) if a in builders][:3]
    body = [builders[a]() for a in chosen] or [general_text(d, ctx)]
    if chosen and "online" not in chosen and ctx.ways:
        body.append(online_ways_text(ctx.ways, ctx.lang))
    elif chosen and "online" in d.channels and "online" not in chosen:
        body.append(online_text(d, ctx))
    if ctx.stand_in and (not chosen or "duration" in chosen or "deadline" in chosen):
        body.append(
            _t(
                ctx.lang,
                f"Wenn es eilig ist: {ctx.stand_in}.",
                f"If you are in a hurry: {ctx.stand_in}.",
            )
        )
    return f"{name}: " + " ".join(body)


def actions(d: ServiceDetail, ctx: Context) -> list[Action]:
    """Typed links: the online service and its tutorial first, then appointment, video,
    the responsible authority."""
    lang = ctx.lang
    out: list[Action] = []
    if "online" in d.channels and d.online_url:
        out.append(
            Action("online_service", _t(lang, "Online erledigen", "Do it online"), d.online_url)
        )
        if ctx.tutorial_url:
            out.append(
                Action(
                    "tutorial",
                    _t(lang, "Schritt-für-Schritt-Anleitung", "Step-by-step guide"),
                    ctx.tutorial_url,
                )
            )
    if "appointment" in d.channels and ctx.booking_url:
        label = _t(lang, "Termin buchen", "Book an appointment")
        if ctx.next_slot:
            label += f" ({_when(ctx.next_slot, lang)})"
        out.append(Action("book_appointment", label, ctx.booking_url))
    if "video" in d.channels:
        out.append(
            Action(
                "book_video",
                _t(lang, "Beratung per Video", "Video consultation"),
                f"{ctx.service_url}#video",
            )
        )
    if "external" in d.channels:
        out.append(Action("referral", d.responsible.name, d.responsible.url or ctx.service_url))
    return out
