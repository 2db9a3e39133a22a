"""A service's text as short passages for retrieval: one per name, sentence, document, fee, ...

Only the catalog's own words are used (the data file and the citizens' terms of the service),
never text made up here. Long texts are cut into sentences, so that each passage says one thing
and fits the embedding model's window.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from servicepoint.catalog.models import Service

LANGS = ("de", "en")
MAX_CHARS = 500  # e5-small reads 512 tokens; a sentence of the catalog is far shorter

TERM_FIELDS = frozenset({"keyword", "example"})
CATALOG_FIELDS = frozenset(
    {
        "name",
        "summary",
        "description",
        "document",
        "fee",
        "processing",
        "channel",
        "tutorial",
        "variant",
    }
)


@dataclass(frozen=True)
class Passage:
    service_id: str
    field: str  # one of CATALOG_FIELDS or TERM_FIELDS
    lang: str  # de | en
    text: str


# Where a sentence may end: . ! ? before white space and a letter (not a digit: "Nr. 5").
_BOUNDARY = re.compile(r"[.!?]\s+(?=[\"'„“(]?[^\W\d_])")
_LAST_WORD = re.compile(r"[^\W\d_]+$")
_CLAUSE_END = re.compile(r"(?<=[;:])\s+")
_VOWELS = frozenset("aeiouyäöüéèáàóòíìúù")


def _ends_sentence(text: str, boundary: re.Match[str]) -> bool:
    """A full stop after a single letter ("z. B.") or a word without a vowel ("bzw.", "ggf.",
    "Nr.") marks an abbreviation, and so does a next word in lower case."""
    following = next((c for c in text[boundary.end() :] if c.isalpha()), "")
    if not following.isupper():
        return False
    if boundary.group()[0] != ".":
        return True
    word = _LAST_WORD.search(text, 0, boundary.start())
    return word is not None and len(word.group()) > 1 and bool(_VOWELS & set(word.group().lower()))


def sentences(text: str) -> list[str]:
    """The sentences of a text; one longer than MAX_CHARS is cut at ; or : and then between
    words, so every piece fits the model."""
    text = " ".join(text.split())
    out: list[str] = []
    start = 0
    for boundary in _BOUNDARY.finditer(text):
        if _ends_sentence(text, boundary):
            out.extend(_fit(text[start : boundary.start() + 1]))
            start = boundary.end()
    out.extend(_fit(text[start:]))
    return [s for s in out if s]


def _fit(sentence: str) -> list[str]:
    if len(sentence) <= MAX_CHARS:
        return [sentence]
    pieces: list[str] = []
    for clause in _CLAUSE_END.split(sentence):
        pieces.extend(_wrap(clause) if len(clause) > MAX_CHARS else [clause])
    return _merge(pieces)


def _wrap(text: str) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > MAX_CHARS:
            lines.append(line)
            line = ""
        line = f"{line} {word}" if line else word[:MAX_CHARS]
    return [*lines, line] if line else lines


def _merge(pieces: list[str]) -> list[str]:
    """Neighbouring short clauses back together while they fit."""
    out: list[str] = []
    for piece in pieces:
        if out and len(out[-1]) + 1 + len(piece) <= MAX_CHARS:
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def _texts(value: Any) -> Iterator[tuple[str, str]]:
    """(lang, text) of a {de, en} text; nothing for None or another shape."""
    if isinstance(value, Mapping):
        for lang in LANGS:
            text = value.get(lang)
            if isinstance(text, str) and text.strip():
                yield lang, text


def _joined(first: Any, second: Any) -> Iterator[tuple[str, str]]:
    """A label with its condition, per language: "Gebühr (für Kinder unter 24 Jahren)"."""
    extra = dict(_texts(second))
    for lang, text in _texts(first):
        yield lang, f"{text} ({extra[lang]})" if lang in extra else text


def _catalog_texts(data: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(field, lang, text) of the data file's texts, before the split into sentences."""
    for field in ("name", "summary", "description"):
        for lang, text in _texts(data.get(field)):
            yield field, lang, text
    for item in data.get("documents") or ():
        for lang, text in _joined(item.get("text"), item.get("condition")):
            yield "document", lang, text
    for item in data.get("fees") or ():
        for lang, text in _joined(item.get("label"), item.get("condition")):
            yield "fee", lang, text
    for lang, text in _texts(data.get("processing_time")):
        yield "processing", lang, text
    for lang, text in _tutorial_texts(data.get("tutorial")):
        yield "tutorial", lang, text
    for variant in data.get("variants") or ():
        if isinstance(variant, Mapping):
            for value in variant.values():  # whatever texts a variant has (name, text, ...)
                for lang, text in _texts(value):
                    yield "variant", lang, text


def _tutorial_texts(tutorial: Any) -> Iterator[tuple[str, str]]:
    if not isinstance(tutorial, Mapping):
        return
    parts: list[Any] = [tutorial.get("title"), *(tutorial.get("prerequisites") or ())]
    for step in tutorial.get("steps") or ():
        parts += [step.get("title"), step.get("text")]
    parts.append(tutorial.get("afterwards"))
    for part in parts:
        yield from _texts(part)


def _unique(passages: Iterable[Passage]) -> list[Passage]:
    return list(dict.fromkeys(p for p in passages if p.text))


def service_passages(svc: Service) -> list[Passage]:
    """Every passage of one service: its catalog text, then its citizens' keywords and examples
    (from the data file and from editors; "shared" words point to several services, so not)."""
    catalog = (
        Passage(svc.id, field, lang, sentence)
        for field, lang, text in _catalog_texts(svc.data)
        for sentence in sentences(text)
    )
    terms = (
        Passage(svc.id, term.kind, term.lang, sentence)
        for term in svc.terms
        if term.kind in TERM_FIELDS
        for sentence in _fit(" ".join(term.text.split()))
    )
    return _unique([*catalog, *terms])


def embedding_text(svc: Service, passage: Passage) -> str:
    """What the model embeds for a passage: a sentence of the catalog headed by the service's
    name, as the page shows it under that heading ("Gültige Ausweise beider Verlobten" alone
    could belong to any service). Names, keywords and examples stand on their own."""
    if passage.field == "name" or passage.field in TERM_FIELDS:
        return passage.text
    name = next((text for lang, text in _texts(svc.data.get("name")) if lang == passage.lang), "")
    return f"{name}: {passage.text}" if name else passage.text
