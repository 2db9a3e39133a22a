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

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from servicepoint.assistant import languages, lexicon
from servicepoint.assistant.compose import Action
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
@cache
def _nationalities(lang: str) -> dict[str, Any]:
    path = lexicon.LANGUAGE_ROOT / lang / "nationalities.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    return data or {}


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
    """The other country a message names as a person's or a document's (ISO code),
    ANY_COUNTRY when it says only "foreign", None when it names none (or only `home`)."""
    tokens = [fold(w) for w in words(text)]
    found: str | None = None
    for source in dict.fromkeys((lang, *languages.HOME)):
        data = _nationalities(source)
        code = _adjective(tokens, data, home) or _country(tokens, source, data, home)
        if code:
            return code
        if found is None and _says(tokens, data.get("foreign") or [], data):
            found = ANY_COUNTRY
    return found


def _says(tokens: Sequence[str], entries: Sequence[str], data: dict[str, Any]) -> bool:
    endings = [fold(e) for e in data.get("endings") or [""]]
    stems = [fold(e) for e in entries]
    return any(t[: len(s)] == s and t[len(s) :] in endings for t in tokens for s in stems)


def _adjective(tokens: Sequence[str], data: dict[str, Any], home: str | None) -> str | None:
    for code, entries in (data.get("nationalities") or {}).items():
        if code != home and _says(tokens, entries, data):
            return str(code)
    return None


def _country(
    tokens: Sequence[str], lang: str, data: dict[str, Any], home: str | None
) -> str | None:
    """A country named after an origin cue ("aus Polen", "from Turkey"); without cues for the
    language, any country name."""
    cues = [tuple(fold(w) for w in words(c)) for c in data.get("origin_cues") or []]
    for name, code in _territories(lang).items():
        if code == home:
            continue
        for i in range(len(tokens) - len(name) + 1):
            if tuple(tokens[i : i + len(name)]) == name and (
                not cues or any(i >= len(c) and tuple(tokens[i - len(c) : i]) == c for c in cues)
            ):
                return code
    return None


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
