"""The sentence of a service's own text that answers a specific question (pure: no DB, no web).

A question may ask something the fixed slots (fees, documents, duration) do not hold: a
deadline ("Bis wann muss ich mich ummelden?"), how long something is valid, who may do it,
whether it can be done online, where exactly. Which of these it asks, and which words an
answering sentence tends to have, is general language knowledge in
`data/language/<lang>/answer_cues.yaml`. The answer is a sentence quoted from the catalog
record, never a sentence made up here: when none scores well enough, there is none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from servicepoint.assistant.passages import sentences
from servicepoint.catalog.search import STOPWORDS, fold, lemma, words
from servicepoint.catalog.wordlists import LANGUAGE_ROOT, topic

# Aspects answered by quoting a sentence; "online" and "where" are answered from the variants
# and the location data, but are detected with the same cue files.
QUOTED = ("deadline", "validity", "eligibility")
ASPECTS = (*QUOTED, "online", "where")
# A sentence is quoted only with at least one answer cue of the aspect and a score of at
# least this much. Cue hits count 0.5 for one and 1.0 for two or more; a named amount adds
# 0.25; the question's own content words or the embedding's similarity add the rest.
MIN_SCORE = 0.6
# Sentences of the same field scoring nearly as well are quoted too: the fee conditions
# "ab 24 Jahren (Gültigkeit 10 Jahre)" and "unter 24 Jahren (Gültigkeit 6 Jahre)" belong together.
NEAR_BEST = 0.9
MAX_QUOTES = 2
# multilingual-e5 cosines of unrelated texts sit around 0.75 and of an answer near 0.85; only
# the part above the floor says anything.
DENSE_FLOOR = 0.75
DENSE_SPAN = 0.15


# The cosine of the question with each of the texts (the caller embeds the question once and
# takes the passages' vectors from its cache).
Similarity = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Cue:
    parts: tuple[tuple[str, ...], ...]  # all parts must occur; each part is folded words

    def found_in(self, tokens: Sequence[str]) -> bool:
        return all(_phrase_at(tokens, part) for part in self.parts)


@dataclass(frozen=True)
class AspectCues:
    question: tuple[Cue, ...]
    answer: tuple[tuple[str, ...], ...]  # at least one of these
    support: tuple[tuple[str, ...], ...]  # more likely with these
    quantity: bool
    related: bool  # the sentence must also share the question's topic (a word or the meaning)


@dataclass(frozen=True)
class Cues:
    aspects: dict[str, AspectCues]
    quantities: frozenset[str]


@dataclass(frozen=True)
class Sentence:
    # summary | description | document | fee | processing | tutorial | responsible | variant
    field: str
    text: str


@dataclass(frozen=True)
class Quote:
    field: str
    text: str
    score: float


@dataclass(frozen=True)
class Finding:
    """A specific aspect the question asks and the catalog's sentences that answer it (none:
    the catalog does not say)."""

    aspect: str
    quotes: tuple[Quote, ...] = ()


@dataclass(frozen=True)
class Way:
    """A variant of a service in one language, as compose states it."""

    name: str
    online: bool
    text: str | None
    online_url: str | None


# -- the cue files ----------------------------------------------------------------------------
def _words_of(phrase: str) -> tuple[str, ...]:
    return tuple(fold(w.rstrip("*")) + ("*" if w.endswith("*") else "") for w in phrase.split())


def _phrase_at(tokens: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    return any(
        all(_word_matches(tokens[i + k], phrase[k]) for k in range(n))
        for i in range(len(tokens) - n + 1)
    )


def _word_matches(token: str, cue: str) -> bool:
    return token.startswith(cue[:-1]) if cue.endswith("*") else token == cue


@cache
def cues(lang: str, root: Path = LANGUAGE_ROOT) -> Cues | None:
    """The cue file of a language; None when the language has none."""
    raw: dict[str, Any] | None = topic("answer_cues", root).get(lang)
    if raw is None:
        return None
    aspects = {
        name: AspectCues(
            question=tuple(
                Cue(tuple(_words_of(p) for p in q.split("+"))) for q in entry.get("question", [])
            ),
            answer=tuple(_words_of(a) for a in entry.get("answer", [])),
            support=tuple(_words_of(a) for a in entry.get("support", [])),
            quantity=bool(entry.get("quantity")),
            related=bool(entry.get("related")),
        )
        for name, entry in (raw.get("aspects") or {}).items()
    }
    return Cues(aspects, frozenset(fold(q) for q in raw.get("quantities") or []))


def _tokens(text: str) -> list[str]:
    return [fold(w) for w in words(text)]


def asked(question: str, lang: str) -> list[str]:
    """The specific aspects a question asks, in the order of ASPECTS."""
    tokens = _tokens(question)
    # A language without a cue file of its own may still be asked with German or English words.
    files = [c for c in [cues(lang)] if c] or [c for c in (cues("de"), cues("en")) if c]
    return [
        aspect
        for aspect in ASPECTS
        if any(
            cue.found_in(tokens)
            for c in files
            for cue in (c.aspects[aspect].question if aspect in c.aspects else ())
        )
    ]


# -- the service's own sentences --------------------------------------------------------------
def _pick(text: Mapping[str, str] | None, lang: str) -> str:
    if not text:
        return ""
    return str(text.get(lang) or text.get("de") or "")


def _bracketed(main: str, condition: str) -> str:
    return f"{main} ({condition})" if condition else main


def service_sentences(data: Mapping[str, Any], lang: str) -> list[Sentence]:
    """Every sentence of the service's own text in `lang` (ServiceFile shape), with its field."""

    def split(field: str, text: Mapping[str, str] | None) -> Iterator[Sentence]:
        for s in sentences(_pick(text, lang)):
            yield Sentence(field, s)

    out = [*split("summary", data.get("summary")), *split("description", data.get("description"))]
    for doc in data.get("documents") or []:
        text = _bracketed(_pick(doc.get("text"), lang), _pick(doc.get("condition"), lang))
        out.append(Sentence("document", text))
    for fee in data.get("fees") or []:
        if fee.get("condition"):
            label, condition = _pick(fee.get("label"), lang), _pick(fee.get("condition"), lang)
            out.append(Sentence("fee", f"{label} – {condition}"))
    out += split("processing", data.get("processing_time"))
    tutorial = data.get("tutorial") or {}
    for step in tutorial.get("steps") or []:
        out += split("tutorial", step.get("text"))
    out += split("tutorial", tutorial.get("afterwards"))
    out += split("responsible", (data.get("responsible") or {}).get("note"))
    for variant in data.get("variants") or []:
        out += split("variant", variant.get("text"))
    return [s for s in out if s.text]


def ways(data: Mapping[str, Any], lang: str) -> list[Way]:
    """The service's variants in `lang` (empty: one online statement for the whole service)."""
    return [
        Way(
            name=_pick(v.get("name"), lang),
            online=bool(v.get("online")),
            text=_pick(v.get("text"), lang) or None,
            online_url=v.get("online_url"),
        )
        for v in data.get("variants") or []
    ]


def named_first(found: list[Way], question: str, similarity: Similarity | None = None) -> list[Way]:
    """The variants with the one the question names (by its words or meaning) first."""
    q_words = _content(_tokens(question))
    texts = [_way_text(w) for w in found]
    dense = _dense(texts, similarity)

    def closeness(i: int) -> float:
        overlap = len(q_words & _content(_tokens(texts[i]))) / len(q_words) if q_words else 0.0
        return max(overlap, dense[i])

    order = sorted(range(len(found)), key=lambda i: -closeness(i))
    return [found[i] for i in order]


def _way_text(way: Way) -> str:
    return f"{way.name}. {way.text or ''}"


def embedded_texts(data: Mapping[str, Any]) -> list[str]:
    """Every text of the service that `find` and `named_first` may ask the similarity for, in
    both catalog languages: the vector cache computes them ahead of the first question."""
    return [
        text
        for lang in ("de", "en")
        for text in (
            *(s.text for s in service_sentences(data, lang)),
            *(_way_text(w) for w in ways(data, lang)),
        )
    ]


# -- scoring ----------------------------------------------------------------------------------
# Telling words are compared by their lemma's first letters, so that "Anmeldung" meets
# "anmelden" and "gültig" meets "Gültigkeit".
STEM = 6


def _content(tokens: Sequence[str], skip: Sequence[str] = ()) -> set[str]:
    """The telling words of a text, cut to STEM letters: no function words, no cue words in
    `skip`."""
    return {
        lemma(t)[:STEM]
        for t in tokens
        if t not in STOPWORDS and len(t) > 2 and not any(_word_matches(t, w) for w in skip)
    }


def _cue_hits(tokens: Sequence[str], entry: AspectCues) -> int:
    """How many of the aspect's cue words the sentence has; 0 without an `answer` one."""
    core = sum(1 for phrase in entry.answer if _phrase_at(tokens, phrase))
    return core + sum(1 for phrase in entry.support if _phrase_at(tokens, phrase)) if core else 0


def _has_amount(tokens: Sequence[str], c: Cues) -> bool:
    return any(t.isdigit() or t in c.quantities for t in tokens)


def _dense(texts: Sequence[str], similarity: Similarity | None) -> list[float]:
    """How close each text is to the question in meaning, 0..1 (all 0 without an embedder)."""
    if similarity is None or not texts:
        return [0.0] * len(texts)
    cos = np.asarray(similarity(texts), dtype=np.float64)
    return [float(x) for x in np.clip((cos - DENSE_FLOOR) / DENSE_SPAN, 0.0, 1.0)]


def find(
    data: Mapping[str, Any],
    question: str,
    aspect: str,
    *,
    lang: str,
    question_lang: str | None = None,
    similarity: Similarity | None = None,
) -> Finding:
    """The sentences of the service (ServiceFile shape) in `lang` that answer `aspect` of the
    question; none when no sentence scores MIN_SCORE."""
    c = cues(lang)
    entry = c.aspects.get(aspect) if c else None
    if c is None or entry is None:
        return Finding(aspect)
    candidates = service_sentences(data, lang)
    asked_cues = [w for cue in _question_cues(question_lang or lang, aspect) for w in cue]
    q_words = _content(_tokens(question), asked_cues)
    dense = _dense([s.text for s in candidates], similarity)
    scored: list[Quote] = []
    for sentence, closeness in zip(candidates, dense, strict=True):
        tokens = _tokens(sentence.text)
        hits = _cue_hits(tokens, entry)
        if not hits:
            continue
        score = min(hits, 2) / 2
        if entry.quantity and _has_amount(tokens, c):
            score += 0.25
        overlap = len(q_words & _content(tokens)) / len(q_words) if q_words else 0.0
        topic = max(overlap, closeness)
        if entry.related and not topic:
            continue
        score += 0.5 * topic
        scored.append(Quote(sentence.field, sentence.text, round(score, 3)))
    scored.sort(key=lambda q: -q.score)
    if not scored or scored[0].score < MIN_SCORE:
        return Finding(aspect)
    best = scored[0]
    near = [q for q in scored[1:] if q.field == best.field and q.score >= NEAR_BEST * best.score]
    return Finding(aspect, (best, *near)[:MAX_QUOTES])


def _question_cues(lang: str, aspect: str) -> list[tuple[str, ...]]:
    c = cues(lang)
    entry = c.aspects.get(aspect) if c else None
    return [part for cue in entry.question for part in cue.parts] if entry else []


def findings(
    data: Mapping[str, Any],
    question: str,
    *,
    lang: str,
    question_lang: str | None = None,
    similarity: Similarity | None = None,
) -> list[Finding]:
    """Each specific aspect the question asks, with the quotes that answer it (QUOTED aspects)
    or none (online, where: compose answers them from the variants and the locations)."""
    return [
        find(data, question, a, lang=lang, question_lang=question_lang, similarity=similarity)
        if a in QUOTED
        else Finding(a)
        for a in asked(question, question_lang or lang)
    ]
