"""The assistant's language knowledge from the data folder, one file per language
(`data/language/<lang>/assistant.yaml`), read once through catalog.wordlists; pure: no DB,
no web."""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from servicepoint.catalog.search import STOPWORDS, fold, lemma, words
from servicepoint.catalog.wordlists import LANGUAGE_ROOT, topic


def entries(root: Path = LANGUAGE_ROOT) -> dict[str, dict[str, Any]]:
    """Each language's assistant file, by language code."""
    return topic("assistant", root)


def collected(section: str, key: str) -> list[Any]:
    """One list gathered over all languages: a message may mix them."""
    return [
        item for data in entries().values() for item in (data.get(section) or {}).get(key) or []
    ]


@dataclass(frozen=True)
class Way:
    cues: tuple[tuple[str, ...], ...]  # each cue as folded words ("in die")
    means: tuple[str, ...]

    def at(self, tokens: Sequence[str], i: int) -> int | None:
        """Where the words after a cue starting at `i` begin, if one does."""
        for cue in self.cues:
            if tuple(tokens[i : i + len(cue)]) == cue:
                return i + len(cue)
        return None


@dataclass(frozen=True)
class Moving:
    """One language's words for moving house and its ways (into, out of the city)."""

    words: frozenset[str]
    ways: tuple[Way, ...]


@cache
def _moving() -> tuple[Moving, ...]:
    out = []
    for data in entries().values():
        section = data.get("moving") or {}
        ways = tuple(
            Way(
                tuple(
                    tuple(fold(w) for w in words(c))
                    for c in (section.get(key) or {}).get("cues", [])
                ),
                tuple(str(m) for m in (section.get(key) or {}).get("means", [])),
            )
            for key in ("into", "out_of")
        )
        out.append(Moving(frozenset(fold(w) for w in section.get("words", [])), ways))
    return tuple(out)


def _place_at(tokens: Sequence[str], i: int, places: Container[str]) -> bool:
    """One of the city's places stands at position `i`, perhaps after articles ("der List")."""
    for token in tokens[i : i + 3]:
        if token in places:
            return True
        if token not in STOPWORDS:
            return False
    return False


def _way_of(language: Moving, tokens: Sequence[str], places: Container[str]) -> Way | None:
    """The first way (into before out of) whose cue leads to one of the city's places."""
    for way in language.ways:
        for i in range(len(tokens)):
            after = way.at(tokens, i)
            if after is not None and _place_at(tokens, after, places):
                return way
    return None


def moving_means(text: str, places: Container[str]) -> tuple[str, ...]:
    """The words a message about moving house implies by its way: into one of the city's
    places, a registration; out of one, a deregistration. Empty if it names no such move, or
    already says what it means. The way is read in the language whose word for moving the
    message uses."""
    tokens = [fold(w) for w in words(text)]
    lemmas = {lemma(t) for t in tokens} | set(tokens)
    for language in _moving():
        if lemmas.isdisjoint(language.words):
            continue
        said = {fold(m) for way in language.ways for m in way.means}
        if not lemmas.isdisjoint(said):
            return ()
        way = _way_of(language, tokens, places)
        if way:
            return way.means
    return ()
