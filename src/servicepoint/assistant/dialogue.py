"""Dialogue decisions: answer, follow up, ask back, or say honestly that we cannot help.

Pure: takes the match, the message and the conversation state, returns a Decision.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from servicepoint.assistant import nlp
from servicepoint.assistant.matcher import CALIBRATION_FILE, Match, close_rivals, group_confidence
from servicepoint.catalog.search import STOPWORDS, SearchIndex, fold, words

# A question back because the catalog declares the words shared is as sure as the catalog.
SHARED_CONFIDENCE = 0.95
_DEFAULT_POLICY = {"answer_threshold": 0.5, "clarify_ratio": 0.97, "followup_threshold": 0.8}


@cache
def policy(path: Path = CALIBRATION_FILE) -> dict[str, float]:
    data: dict[str, Any] = {}
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8")).get("policy", {})
    return {k: float(data.get(k, v)) for k, v in _DEFAULT_POLICY.items()}


@dataclass
class State:
    """What a conversation remembers: its language, topic, last sub-questions, open question."""

    lang: str | None = None
    service_id: str | None = None
    aspects: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    last: dict[str, Any] = field(default_factory=dict)
    # The last few replies (as `last`), so each of them can still be rated.
    recent: list[dict[str, Any]] = field(default_factory=list)
    # Every turn so far (question scrubbed, reply, links), shown back on the no-JS page.
    turns: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, data: dict[str, Any] | None) -> State:
        data = data or {}
        return cls(
            lang=data.get("lang"),
            service_id=data.get("service_id"),
            aspects=list(data.get("aspects", [])),
            options=list(data.get("options", [])),
            last=dict(data.get("last", {})),
            recent=[dict(r) for r in data.get("recent", [])],
            turns=[dict(t) for t in data.get("turns", [])],
        )

    def dump(self) -> dict[str, Any]:
        return {
            "lang": self.lang,
            "service_id": self.service_id,
            "aspects": self.aspects,
            "options": self.options,
            "last": self.last,
            "recent": self.recent,
            "turns": self.turns,
        }


@dataclass(frozen=True)
class Decision:
    kind: str  # answer | clarify | out_of_scope | greeting | offices
    service_id: str | None
    aspects: list[str]
    confidence: float
    options: list[str] = field(default_factory=list)
    followup: bool = False


def _picked_option(text: str, state: State, m: Match) -> str | None:
    """After 'Meinen Sie A oder B?': '1', 'den zweiten', or a message matching one option."""
    if not state.options:
        return None
    for word in words(text):
        idx = nlp.option_index(word)
        if idx is not None and idx < len(state.options):
            return state.options[idx]
    if m.best and m.best.service_id in state.options:
        return m.best.service_id
    return None


def _doc_of(index: SearchIndex, service_id: str | None) -> int | None:
    for i, doc in enumerate(index.docs):
        if doc.id == service_id:
            return i
    return None


def _names_of(index: SearchIndex, doc: int | None) -> frozenset[str]:
    """The folded words of a service's names and citizen words."""
    if doc is None:
        return frozenset()
    found = index.docs[doc]
    return frozenset(fold(w) for text in (*found.names, *found.keywords) for w in words(text))


def _names_another(index: SearchIndex, word: str, doc: int | None) -> bool:
    """The word, as a whole, is a name or citizen word of a service other than `doc`
    ("Meldebescheinigung" while talking about Wohnsitz abmelden)."""
    terms, kind = index.expand_kind(word)
    if kind not in ("exact", "compound") or (
        doc is not None and index.title_terms[doc] & set(terms)
    ):
        return False
    return any(i != doc and title & set(terms) for i, title in enumerate(index.title_terms))


def _own(index: SearchIndex, word: str, names: frozenset[str], doc: int | None) -> bool:
    """A word of the current topic's own name, or a shortening of one ("der Schein" for the
    Fischereischein) that is not the name of another service as well ("Meldebescheinigung"
    ends "Abmeldebescheinigung", yet names a service of its own)."""
    folded = fold(word)
    if folded in names:
        return True
    shortens = len(folded) >= 4 and any(n.endswith(folded) for n in names)
    return shortens and not _names_another(index, word, doc)


def _neutral(index: SearchIndex, word: str, names: frozenset[str], doc: int | None) -> bool:
    """A word that brings no topic of its own into a follow-up: a filler, a word of the current
    topic, or a word for children ("und für Kinder?"), unless it names another matter itself
    ("Kindergeld")."""
    if nlp.is_filler(word) or _own(index, word, names, doc):
        return True
    return nlp.mentions_children(word) and not (
        index.elsewhere_words(word) or _names_another(index, word, doc)
    )


def _unexplained(index: SearchIndex, words_: list[str]) -> int:
    """Content words the catalog does not know (or only guesses): signs of a new topic."""
    return sum(index.expand_kind(w)[1] in ("none", "fuzzy") for w in words_)


def _elsewhere_named(index: SearchIndex, text: str, doc: int | None) -> bool:
    """The message names another authority's matter that the current topic is not called by."""
    own = index.title_terms[doc] if doc is not None else frozenset()
    return any(not set(phrase.split()) <= own for phrase in index.elsewhere_words(text))


def _is_followup(index: SearchIndex, text: str, state: State, m: Match, limit: float) -> bool:
    """A short message that asks a sub-question or points back ('das', 'it') and brings no
    matter of its own: context fills in only what the message lacks. A message naming another
    authority's matter, or another service clearly, starts a new topic."""
    if not state.service_id or not nlp.is_followup(text):
        return False
    if m.best and m.best.service_id == state.service_id:
        return True
    doc = _doc_of(index, state.service_id)
    if _elsewhere_named(index, text, doc):
        return False
    names = _names_of(index, doc)
    # "and for children?" names no new topic, however well "children" matches a service; nor
    # does a word of the current topic's own name ("Ab wann können wir das anmelden?").
    topical = [w for w in nlp.content_words(text, STOPWORDS) if not _neutral(index, w, names, doc)]
    if m.confidence >= limit and topical:
        return False
    # "Was kostet eine Pizza?" asks a sub-question, but about something the catalog does not
    # know: answering with the last service's fees would be pretending. A message that points
    # back ("Muss ich *da* nochmal eine Prüfung machen?") may bring one word of its own.
    allowed = 1 if nlp.refers_back(text) else 0
    return _unexplained(index, topical) <= allowed


def decide(
    index: SearchIndex,
    text: str,
    state: State,
    m: Match,
    thresholds: dict[str, float] | None = None,
) -> Decision:
    """The dialogue policy; thresholds come from the calibration on the development set."""
    p = thresholds or m.policy or policy()
    asked = nlp.aspects(text)
    return prelude(index, text, state, m, asked, p) or by_confidence(m, asked, p)


def prelude(
    index: SearchIndex, text: str, state: State, m: Match, asked: list[str], p: dict[str, float]
) -> Decision | None:
    """What the message decides before any answer threshold: a choice, a follow-up, a
    greeting, the offices, or words the catalog declares shared. None: the confidence decides."""
    picked = _picked_option(text, state, m)
    if picked:
        return Decision("answer", picked, asked or state.aspects, max(m.confidence, 0.9))
    if _is_followup(index, text, state, m, p["followup_threshold"]):
        return Decision(
            "answer",
            state.service_id,
            asked or state.aspects,
            max(m.confidence, 0.8),
            followup=True,
        )
    # Only greeting words ("Guten Morgen"): a greeting, even though "morgen" can be a topic.
    if nlp.is_greeting(text):
        return Decision("greeting", None, [], 0.95)
    # "für mein Kind" or "in Linden" does not say which document either.
    topic = [
        w
        for w in nlp.content_words(text, STOPWORDS)
        if not nlp.mentions_children(w) and index.expand_kind(w)[1] != "stop"
    ]
    # "Wann hat das Bürgeramt am Samstag offen?" asks about the offices, not a service.
    if (
        set(asked) & {"hours", "where", "booking"}
        and nlp.names_an_office(text)
        and all(nlp.is_office_talk(w) for w in topic)
    ):
        return Decision("offices", None, asked, 0.95)
    shared = index.shared_by(topic)
    if len(shared) >= 2:
        # The catalog says these words name several services: ask back, never guess.
        return Decision("clarify", None, asked, SHARED_CONFIDENCE, options=shared[:3])
    return None


def by_confidence(m: Match, asked: list[str], p: dict[str, float]) -> Decision:
    """Answer, ask back between near ties, or say honestly that it is not ours."""
    # A question in another language has a threshold of its own: its probabilities come
    # from the dense signals alone and are calibrated apart (calibrate.choose_policy).
    limit = p["answer_threshold"]
    if m.features.get("foreign"):
        limit = p.get("foreign_threshold", limit)
    rivals = close_rivals(m, p["clarify_ratio"])[:3]
    sure_of_group = group_confidence(m, len(rivals)) if len(rivals) >= 2 else None
    if sure_of_group is not None and sure_of_group >= limit:
        # Sure it is one of a few, not which: ask back instead of guessing.
        options = [c.service_id for c in rivals]
        return Decision("clarify", None, asked, sure_of_group, options=options)
    if m.confidence >= limit and m.best:
        return Decision("answer", m.best.service_id, asked, m.confidence)
    return Decision("out_of_scope", None, asked, 1.0 - m.confidence)
