"""Replies to questions in other languages, and to questions about other countries' documents.

A question in a language other than German or English is routed like any other; its reply
opens with a short preface in the question's language (the service, its link, "the details
follow in German and English", from the translated labels in
`data/language/<lang>/assistant.yaml`), then the German and the English reply. Pure: no DB.

Identity documents of other countries are issued by that country's consulate or embassy: a
question about a service only nationals get (`nationals_only`) that names another nationality
("mein polnischer Personalausweis", "Turkish passport") says so and offers what the city does
for people from abroad (city.yaml `assistant.foreign_documents_offer`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from servicepoint.assistant import languages
from servicepoint.assistant.compose import Action
from servicepoint.catalog import wordlists
from servicepoint.catalog.search import fold, words

# The action labels that are translated: the key in the labels files of each language.
ACTION_KEYS = (
    "online_service",
    "tutorial",
    "book_appointment",
    "book_video",
    "service_phone",
    "callback",
    "browse",
    "office_locations",
)
ASPECT_PREFIX = "aspect_"
ANY_COUNTRY = ""  # another country, not named ("ausländischer Pass")


@dataclass(frozen=True)
class Part:
    """One piece of a reply in one language, as the page marks it up (lang, dir)."""

    lang: str
    dir: str
    text: str


def part(lang: str, text: str) -> Part:
    return Part(lang, languages.direction(lang), text)


def _label(lang: str, key: str, **values: str) -> str:
    text = languages.labels(lang).get(key) or languages.labels("en").get(key, "")
    return text.format(**values)


def preface(
    lang: str,
    kind: str,
    *,
    names: tuple[str, str] | None = None,
    url: str | None = None,
    aspects: Sequence[str] = (),
) -> str:
    """The opening in the question's language: what the reply is about, then that the details
    follow in German and English."""
    said: list[str] = []
    if kind == "answer" and names:
        said.append(_label(lang, "preface", service=_both(names)))
        asked = [_label(lang, ASPECT_PREFIX + a) for a in aspects]
        if any(asked):
            said.append(_label(lang, "asked", aspects=", ".join(a for a in asked if a)))
        if url:
            said.append(_label(lang, "link", url=url))
    elif kind in ("clarify", "greeting", "offices"):
        said.append(_label(lang, kind))
    elif kind != "consulate":  # the consulate's reply says its own piece first
        said.append(_label(lang, "out_of_scope"))
    said.append(_label(lang, "details_follow"))
    return " ".join(said)


def preface_for(
    lang: str,
    kind: str,
    *,
    names: tuple[str, str] | None = None,
    url: str | None = None,
    aspects: Sequence[str] = (),
) -> list[Part]:
    """The opening parts for a question in `lang`: one in `lang` when it has labels (see
    `preface`), else one in English and one in German: "We answer in German and English; here
    is what we found: …". Never a refusal for the language."""
    if languages.has_labels(lang):
        return [part(lang, preface(lang, kind, names=names, url=url, aspects=aspects))]
    return [part(home, _unlabelled(home, names, url)) for home in _HOME_ORDER]


_HOME_ORDER = ("en", "de")  # English first: more readers of an unlabelled language read it


def _unlabelled(home: str, names: tuple[str, str] | None, url: str | None) -> str:
    texts = languages.unlabelled(home)
    if not names:
        return texts["nothing"]
    said = texts["preface"].format(service=_both(names))
    return f"{said} {_label(home, 'link', url=url)}" if url else said


def unsure_parts(lang: str) -> list[Part]:
    """That the question was not understood well enough, to ask again in German or English or
    to call the service phone: in `lang` when it has labels, else in English and German. Said
    instead of "not ours" when a question in another language finds no service."""
    if languages.has_labels(lang):
        # then German and English too, as every reply to another language has them
        return [part(x, _label(x, "unsure")) for x in (lang, "de", "en")]
    return [part(home, _label(home, "unsure")) for home in _HOME_ORDER]


def unsure_text(lang: str) -> str:
    """`unsure_parts` as one text."""
    return " ".join(p.text for p in unsure_parts(lang))


def _both(names: tuple[str, str]) -> str:
    de, en = names
    return de if de == en else f"{de} / {en}"


def translate_actions(actions: Sequence[Action], lang: str) -> list[Action]:
    """The actions with their fixed labels in `lang`; a label that is a name (a service, an
    authority) stays as it is. A label is recognised by its German or English wording."""
    return [Action(a.type, _translated(a.label, lang), a.url) for a in actions]


def _translated(label: str, lang: str) -> str:
    for key in ACTION_KEYS:
        for home in languages.HOME:
            values = _filled(languages.labels(home).get(key, ""), label)
            if values is not None:
                return _label(lang, key, **values[0]) + values[1]
    return label


def _filled(template: str, label: str) -> tuple[dict[str, str], str] | None:
    """The placeholder values and the rest when `label` is `template` filled in ("Servicetelefon
    {phone}") or followed by a remark in brackets ("Termin buchen (12.01.2027, 09:00 Uhr)")."""
    if not template:
        return None
    head, brace, tail = template.partition("{")
    if brace:
        name, _, after = tail.partition("}")
        if label.startswith(head) and label.endswith(after) and len(label) > len(head + after):
            return {name: label[len(head) : len(label) - len(after)]}, ""
        return None
    if label == template:
        return {}, ""
    if label.startswith(template + " ("):
        return {}, label[len(template) :]
    return None


# -- other countries' documents ---------------------------------------------------------------
def _nationalities(lang: str) -> dict[str, Any]:
    return wordlists.topic("nationalities").get(lang) or {}


@cache
def _territories(lang: str) -> dict[tuple[str, ...], str]:
    """Folded country names in one language (from CLDR via Babel) → ISO code."""
    from babel import Locale, UnknownLocaleError

    try:
        names = Locale.parse(lang).territories
    except (UnknownLocaleError, ValueError):
        return {}
    out: dict[tuple[str, ...], str] = {}
    for code, name in names.items():
        tokens = tuple(fold(w) for w in words(name))
        if code.isalpha() and len(code) == 2 and tokens:
            out[tokens] = code
    return out


def country_named(text: str, lang: str, home: str | None) -> str | None:
    """The other country whose identity DOCUMENT the message is about (ISO code), ANY_COUNTRY
    when it says only "a foreign passport", None when no document is another country's, or when
    the message names the city's own country `home` ("I am German, just moved from France")."""
    sources = [(s, _nationalities(s)) for s in dict.fromkeys((lang, *languages.HOME))]
    clauses = [[fold(w) for w in words(c)] for c in _CLAUSE.split(text)]
    if home and any(_home_named(t, d, home) for _, d in sources for t in clauses):
        return None
    found: str | None = None
    for source, data in sources:
        for tokens in clauses:
            for start, end in _spans(tokens, data.get("documents") or [], data):
                code = _qualified(tokens, start, end, source, data)
                if code:
                    return code
                if found is None and _beside(tokens, start, end, data.get("foreign") or [], data):
                    found = ANY_COUNTRY
    return found


# A document's country is said within one clause: "Ich bin Türke, mein Pass" is two.
_CLAUSE = re.compile(r"[.,;:!?¿¡()\[\]\n،؛؟。，！？]+")


def _entry(entry: str) -> tuple[str, ...]:
    return tuple(fold(w) for w in words(entry))


def _word_is(token: str, stem: str, data: dict[str, Any]) -> bool:
    """`token` is `stem` with one of the language's `endings`; without `endings` in the data
    (Turkish, Polish, Russian inflect freely) any continuation."""
    endings = data.get("endings")
    if endings is None:
        return token.startswith(stem)
    return token[: len(stem)] == stem and token[len(stem) :] in {fold(e) for e in endings}


def _spans(
    tokens: Sequence[str], entries: Sequence[str], data: dict[str, Any]
) -> list[tuple[int, int]]:
    """(start, end) of every occurrence of one of `entries` (of one or more words)."""
    out = []
    for entry in map(_entry, entries):
        for i in range(len(tokens) - len(entry) + 1):
            if entry and all(_word_is(tokens[i + k], w, data) for k, w in enumerate(entry)):
                out.append((i, i + len(entry)))
    return out


def _beside(
    tokens: Sequence[str], start: int, end: int, entries: Sequence[str], data: dict[str, Any]
) -> bool:
    """One of `entries` stands right before or after the document, as the language places its
    adjectives (`position`)."""
    position = data.get("position") or "before"
    spans = _spans(tokens, entries, data)
    before = position in ("before", "both") and any(e == start for _, e in spans)
    after = position in ("after", "both") and any(s == end for s, _ in spans)
    return before or after


def _qualified(
    tokens: Sequence[str], start: int, end: int, source: str, data: dict[str, Any]
) -> str | None:
    """The country of the document at tokens[start:end]: a nationality beside it, or a country
    named after it and an origin cue ("Pass aus der Türkei")."""
    for code, entries in (data.get("nationalities") or {}).items():
        if _beside(tokens, start, end, entries, data):
            return str(code)
    for cue in map(_entry, data.get("origin_cues") or []):
        if tuple(tokens[end : end + len(cue)]) != cue:
            continue
        rest = tuple(tokens[end + len(cue) :])
        for name, code in _territories(source).items():
            if rest[: len(name)] == name:
                return code
    return None


def _home_named(tokens: Sequence[str], data: dict[str, Any], home: str) -> bool:
    entries = [
        *((data.get("nationalities") or {}).get(home) or []),
        *((data.get("home_words") or {}).get(home) or []),
    ]
    return bool(_spans(tokens, entries, data))


def country_name(code: str, lang: str) -> str:
    """The country's name in `lang` (CLDR), or in English where Babel has no such locale."""
    from babel import Locale, UnknownLocaleError

    for loc in (lang, "en"):
        try:
            name = Locale.parse(loc).territories.get(code)
        except (UnknownLocaleError, ValueError):
            continue
        if name:
            return str(name)
    return code


def consulate_text(lang: str, code: str, offered: Sequence[str]) -> str:
    """That another country's consulate or embassy issues its documents, then what the city
    offers people from abroad (the names of the offered services)."""
    text = (
        _label(lang, "consulate", country=country_name(code, lang))
        if code
        else _label(lang, "consulate_any")
    )
    if offered:
        text += " " + _label(lang, "consulate_offer") + " " + "; ".join(offered) + "."
    return text
