"""A service's text as short passages for retrieval: one per name, sentence, document, fee, ...

Only the catalog's own words are used (the data file and the citizens' terms of the service),
never text made up here. Long texts are cut into sentences, so that each passage says one thing
and fits the embedding model's window.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pysbd  # type: ignore[import-untyped]

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


_CLAUSE_END = re.compile(r"(?<=[;:])\s+")
SPLIT_LANGS = frozenset({"de", "en"})  # the catalog's languages; others are split as German


def sentences(text: str, lang: str = "de") -> list[str]:
    """The sentences of a text (pysbd knows the abbreviations: "z. B.", "ggf.", "e.g."); one
    longer than MAX_CHARS is cut at ; or : and then between words, so every piece fits the
    model."""
    return list(_split(" ".join(text.split()), lang))


# Splitting costs about a millisecond per text, and the same catalog texts are split again for
# every index build and every specific question: a few MB of strings at most.
@lru_cache(maxsize=16_384)
def _split(text: str, lang: str) -> tuple[str, ...]:
    if not text:
        return ()
    # A Segmenter keeps the text it works on: one per call (it costs nothing) for the threads.
    segmenter = pysbd.Segmenter(language=lang if lang in SPLIT_LANGS else "de", clean=False)
    pieces = (s.strip() for s in segmenter.segment(text))
    return tuple(part for s in pieces if s for part in _fit(s) if part)


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
        for sentence in sentences(text, lang)
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
