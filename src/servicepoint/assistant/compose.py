"""Compose short replies from catalog fields only (pure: no DB, no web).

Nothing here states a fee, a document or a deadline that is not in the catalog record handed
in; where the catalog has no value, the reply says so and offers a person to ask.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from servicepoint.catalog.schemas import ServiceDetail
from servicepoint.core.clock import BERLIN

_CHILD_HINTS = ("unter", "minderj", "kind", "under", "child", "minor", "jünger", "younger")


@dataclass(frozen=True)
class Action:
    type: str
    label: str
    url: str


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


def _sentence(text: str) -> str:
    """End with one full stop, however the catalog text ends ("… schneller." → no "..")."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


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
    return _sentence(_t(lang, "Bitte mitbringen: ", "Please bring: ") + "; ".join(lines))


def duration_text(d: ServiceDetail, lang: str) -> str:
    if d.processing_time:
        return _sentence(
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
        return _t(
            lang,
            f"Das geht in jedem unserer {len(ctx.offices)} Bürgerämter.",
            f"You can do this at any of our {len(ctx.offices)} citizens' offices.",
        )
    if "online" in d.channels:
        return online_text(d, ctx)
    return responsible_text(d, lang)


def hours_text(d: ServiceDetail, ctx: Context) -> str:
    lang = ctx.lang
    if "external" in d.channels:
        return responsible_text(d, lang)
    phone = ctx.service_phone
    extra = (
        _t(
            lang,
            f" Auskunft gibt das Servicetelefon {phone}.",
            f" The service phone {phone} can tell you.",
        )
        if phone
        else ""
    )
    return (
        _t(
            lang,
            "Die Öffnungszeiten der einzelnen Bürgerämter liegen mir nicht gesichert "
            "vor; freie Termine sehen Sie in der Terminbuchung.",
            "I do not have confirmed opening hours for the individual offices; free "
            "appointments are shown in the booking.",
        )
        + extra
    )


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
    if "online" in d.channels:
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


def compose(d: ServiceDetail, aspects: list[str], ctx: Context, children: bool = False) -> str:
    """The reply: one short paragraph per sub-question (at most three), online first."""
    name = d.name if ctx.lang == "de" else d.name_en
    builders = {
        "cost": lambda: fees_text(d, ctx.lang, children),
        "documents": lambda: documents_text(d, ctx.lang, children),
        "duration": lambda: duration_text(d, ctx.lang),
        "online": lambda: online_text(d, ctx),
        "where": lambda: where_text(d, ctx),
        "hours": lambda: hours_text(d, ctx),
        "responsible": lambda: responsible_text(d, ctx.lang),
        "booking": lambda: booking_text(d, ctx),
    }
    chosen = [a for a in aspects if a in builders][:3]
    body = [builders[a]() for a in chosen] or [general_text(d, ctx)]
    if chosen and "online" in d.channels and "online" not in chosen:
        body.append(online_text(d, ctx))
    if ctx.stand_in and (not chosen or "duration" in chosen):
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
