"""Names and addresses in a message, found by the cue words and street words of each language
in the data folder (`data/language/<lang>/assistant.yaml`), so they are never stored. Pure."""

from __future__ import annotations

import re
from functools import cache

from servicepoint.assistant import lexicon
from servicepoint.catalog.search import STOPWORDS, fold

NAME = "[Name]"
ADDRESS = "[Adresse]"
MAX_NAME_WORDS = 3  # given names and a family name; what follows is the message again
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


def _alternatives(items: list[str]) -> str:
    """A regex alternative of the phrases, longest first, any run of spaces between words."""
    ordered = sorted({str(i).strip() for i in items if str(i).strip()}, key=len, reverse=True)
    return "|".join(r"\s+".join(re.escape(w) for w in item.split()) for item in ordered)


@cache
def _name_cue() -> re.Pattern[str] | None:
    cues = lexicon.collected("personal_data", "name_cues")
    if not cues:
        return None
    # a cue ending in ":" ("Name:") is a label; the others are phrases in a sentence
    return re.compile(rf"(?<!\w)(?:{_alternatives(cues)})(?:(?<=:)|(?!\w))[\s,:]*", re.I)


@cache
def _particles() -> frozenset[str]:
    return frozenset(fold(p) for p in lexicon.collected("personal_data", "name_particles"))


def _is_name_word(word: str, typed_lower: bool) -> bool:
    """Capitalised, or any word but a function word where the name is typed in lower case."""
    return word[:1].isupper() or (typed_lower and fold(word) not in STOPWORDS)


def _name_length(words: list[str]) -> int:
    """How many of the words after a cue are the name: capitalised words, or words typed in
    lower case if the name is ("mein name ist erika mustermann"), with particles inside
    ("Ursula von der Leyen"); at most MAX_NAME_WORDS besides the particles."""
    typed_lower = bool(words) and words[0][:1].islower()
    taken = named = 0
    for word in words:
        if fold(word) in _particles() and named:
            taken += 1
            continue
        if named >= MAX_NAME_WORDS or not _is_name_word(word, typed_lower):
            break
        taken += 1
        named += 1
    while taken and fold(words[taken - 1]) in _particles():  # "Erika von" + "hier": not "von"
        taken -= 1
    return taken


def _words_after(rest: str) -> tuple[list[str], list[int]]:
    """The words right after a cue, up to the first punctuation between them (the point after
    an initial, "H. Krüger", is no stop); with where each ends."""
    words: list[str] = []
    ends: list[int] = []
    for found in _WORD.finditer(rest):
        gap = rest[ends[-1] if ends else 0 : found.start()].strip()
        initial = bool(words) and len(words[-1]) == 1 and gap == "."
        if gap and not initial:
            break
        words.append(found.group())
        ends.append(found.end())
        if len(words) > MAX_NAME_WORDS * 2:
            break
    return words, ends


def _scrub_names(text: str) -> str:
    cue = _name_cue()
    if cue is None:
        return text
    out, pos = [], 0
    for found in cue.finditer(text):
        if found.start() < pos:
            continue
        words, ends = _words_after(text[found.end() :])
        n = _name_length(words)
        if n:
            out += [text[pos : found.end()], NAME]
            pos = found.end() + ends[n - 1]
    return "".join(out) + text[pos:]


@cache
def _address() -> re.Pattern[str] | None:
    """A street and house number, in the order each language writes them, with the postcode
    and town after it if given."""
    parts = []
    for data in lexicon.entries().values():
        section = data.get("personal_data") or {}
        streets = _alternatives(list(section.get("street_words") or []))
        if not streets:
            continue
        # the words before the street word are capitalised: "Lister Meile", "Am Hohen Ufer"
        # ... and the street word ends a compound where the language writes them ("Hauptstraße")
        compound = r"[\w'’-]*" if section.get("street_compounds") else r"\b"
        street = rf"(?:[A-ZÄÖÜ][\w'’.-]*\s+){{0,2}}{compound}(?i:{streets})\.?"
        number = r"\d{1,4}\s?[a-zA-Z]?"
        if section.get("house_number") == "before":
            parts.append(rf"\b{number}\s+{street}(?!\w)")
        else:
            parts.append(rf"\b{street}\s+{number}\b")
    if not parts:
        return None
    postcode = r"(?:,?\s*\d{5}(?:\s+[^\W\d_][\w-]*)?)?"
    return re.compile(rf"(?:{'|'.join(parts)}){postcode}")


def _scrub_addresses(text: str) -> str:
    pattern = _address()
    return pattern.sub(ADDRESS, text) if pattern else text


def scrub(text: str) -> str:
    """The text with names given after a cue and street addresses replaced by placeholders."""
    return _scrub_addresses(_scrub_names(text))
