"""The reply parts that answer the exact question (pure: no DB, no web): the catalog's own
sentences quoted with their source, the offices with what the location data knows of them,
and whether each variant can be done online.

Every sentence is a German gettext msgid with named placeholders; `say` gives it in the
reply's language (the English comes from the .po file).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from servicepoint.assistant.answers import Finding, Way
from servicepoint.core.i18n import N_, translate

if TYPE_CHECKING:  # compose imports this module: its types only are needed here
    from servicepoint.assistant.compose import Context, Place

# Typographic quotation marks differ by language („…“ in German, “…” in English).
QUOTED = N_("„%(text)s“")
_ONLINE = N_("„%(name)s“ geht online.")
_NOT_ONLINE = N_("„%(name)s“ geht nicht online.")
# The part of the service description a quote comes from, where it is not the summary
# (the section names of the service page).
_FIELDS = {
    "description": N_("Beschreibung"),
    "document": N_("Unterlagen"),
    "fee": N_("Gebühren"),
    "processing": N_("Bearbeitungsdauer"),
    "tutorial": N_("Anleitung"),
    "responsible": N_("Zuständigkeit"),
    "variant": N_("Varianten"),
}
# What the catalog does not say, per quoted aspect (anything else: who may do it).
_UNKNOWN = {
    "deadline": N_("Zu einer Frist liegen mir keine gesicherten Angaben vor."),
    "validity": N_("Wie lange das gültig ist, liegt mir nicht gesichert vor."),
    "eligibility": N_("Wer das darf, liegt mir nicht gesichert vor."),
}


def say(lang: str, msgid: str, **values: str) -> str:
    """A msgid in the reply's language, its placeholders filled in."""
    text = translate(lang, msgid)
    return text % values if values else text


def sentence(text: str) -> str:
    """End with one full stop, however the catalog text ends ("… schneller." → no "..")."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def phone_hint(phone: str | None, lang: str) -> str:
    """Who can tell what the catalog does not say (with a leading space), or nothing."""
    if not phone:
        return ""
    return " " + say(lang, N_("Auskunft gibt das Servicetelefon %(phone)s."), phone=phone)


def ways_text(ways: list[Way], lang: str) -> str:
    """Whether each variant can be done online, as the catalog states it (at most three)."""
    parts = []
    for way in ways[:3]:
        said = say(lang, _ONLINE if way.online else _NOT_ONLINE, name=way.name)
        parts.append(f"{said} {sentence(way.text)}" if way.text else said)
    return " ".join(parts)


def online_ways_text(ways: list[Way], lang: str) -> str:
    """The variants that can be done online, in one line (after an answer on something else)."""
    names = ", ".join(say(lang, QUOTED, text=w.name) for w in ways if w.online)
    return say(lang, N_("Online geht: %(names)s."), names=names) if names else ""


def _place(p: Place, lang: str) -> str:
    text = f"{p.name}, {p.address}" if p.address else p.name
    return f"{text} ({say(lang, N_('geöffnet %(hours)s'), hours=p.hours)})" if p.hours else text


def places_text(ctx: Context, listed: int = 3) -> str:
    """Up to `listed` offices with their address and hours where the location data has them,
    what is unknown said so, and the locations page when there are more."""
    lang, url = ctx.lang, ctx.locations_url
    shown = [p for p in ctx.places if p.address or p.hours][:listed]
    if not shown:
        msgid = N_("Die Adressen liegen mir nicht gesichert vor; alle Standorte: %(url)s.")
        return say(lang, msgid, url=url)
    named = "; ".join(_place(p, lang) for p in shown)
    parts = [say(lang, N_("Zum Beispiel: %(places)s."), places=named)]
    if not all(p.hours for p in shown):
        parts.append(say(lang, N_("Die Öffnungszeiten liegen mir nicht gesichert vor.")))
    if len(ctx.places) > len(shown):
        parts.append(say(lang, N_("Alle Standorte: %(url)s."), url=url))
    return " ".join(parts)


def quoted_text(f: Finding, ctx: Context) -> str:
    """The catalog's own sentences that answer the question, with their source; where there are
    none, that the catalog does not say."""
    lang = ctx.lang
    if not f.quotes:
        return unknown_text(f.aspect, ctx)
    said = "; ".join(say(lang, QUOTED, text=sentence(q.text).rstrip(".")) for q in f.quotes)
    part = _FIELDS.get(f.quotes[0].field)
    if part:
        msgid = N_("Laut Leistungsbeschreibung (%(part)s): %(quotes)s (Quelle: %(url)s).")
        return say(lang, msgid, part=say(lang, part), quotes=said, url=ctx.service_url)
    msgid = N_("Laut Leistungsbeschreibung: %(quotes)s (Quelle: %(url)s).")
    return say(lang, msgid, quotes=said, url=ctx.service_url)


def unknown_text(aspect: str, ctx: Context) -> str:
    """That the catalog does not say (deadline, validity, who may), and whom to ask."""
    text = say(ctx.lang, _UNKNOWN.get(aspect, _UNKNOWN["eligibility"]))
    return text + phone_hint(ctx.service_phone, ctx.lang)
