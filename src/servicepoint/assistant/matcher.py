"""Which service a message is about, with a calibrated confidence (pure: no DB, no web).

Signals: BM25 over the catalog (names, citizen words, examples, summaries), how much of the
message the catalog vocabulary explains (exact, compound, fuzzy), how specific the matched words
are, the margin to the runner-up, and how much of the message names other authorities' matters
(above all where its most telling word does not name the service). A logistic model fitted on
the labelled development set (`servicepoint assistant calibrate`) turns them into a
probability of being right.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from servicepoint.assistant import nlp, reading
from servicepoint.catalog.search import STOPWORDS, SearchIndex, analyse, fold

CALIBRATION_FILE = Path(__file__).resolve().parent / "calibration.json"
FEATURES = (
    "log_top",
    "margin",
    "coverage",
    "cohesion",
    "specificity",
    "phrase",
    "title",
    "focus",
    "example",
    "n_content",
    "elsewhere",
    "unfocused",
    "bias",
)
TITLE_BOOST = 1.0
TITLE_FIELD_WEIGHT = 0.5
SPELLED_BOOST = 0.6
URGENT_BOOST = 0.2
EXAMPLE_BOOST = 0.5
_KIND_WEIGHT = {"exact": 1.0, "compound": 0.9, "head": 0.5, "fuzzy": 0.6}
# Words in nearly every service text (the city's own name, say) tell nothing about which one.
UBIQUITOUS_IDF = 0.7
# Used until a calibration file exists; fitted values replace them.
_DEFAULT_WEIGHTS = {
    "log_top": 1.5,
    "margin": 2.0,
    "coverage": 3.0,
    "specificity": 0.6,
    "phrase": 1.0,
    "n_content": -0.05,
    "bias": -4.0,
}


@dataclass(frozen=True)
class Candidate:
    index: int
    service_id: str
    score: float


@dataclass(frozen=True)
class Match:
    candidates: list[Candidate]  # best first, at most 5
    features: dict[str, float]
    confidence: float
    content_words: int
    # The learned ranker's answer model (ranker.py); None: this module's confidence_of.
    scorer: Callable[[dict[str, float]], float] | None = None
    # The dialogue thresholds fitted for `scorer`'s probabilities (None: calibration.json's).
    policy: dict[str, float] | None = None

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


@cache
def _weights(path: Path = CALIBRATION_FILE) -> dict[str, float]:
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        return {k: float(v) for k, v in data["weights"].items()}
    return dict(_DEFAULT_WEIGHTS)


def reload_weights() -> None:
    _weights.cache_clear()


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-max(min(x, 30), -30)))


def confidence_of(features: dict[str, float], weights: dict[str, float] | None = None) -> float:
    w = weights or _weights()
    return _sigmoid(sum(w.get(k, 0.0) * features.get(k, 0.0) for k in FEATURES))


@dataclass(frozen=True)
class _Analysis:
    terms: list[str]
    words: list[tuple[list[str], str, float]]  # per content word: terms, match kind, weight
    coverage: float
    specificity: float
    n_content: int


def _weight(index: SearchIndex, word: str, kind: str) -> float:
    """Exact 1, compound 0.9; a typo counts by its closeness (Reisepas → 0.94·…, not 0.6)."""
    if kind == "fuzzy":
        return max(0.3, min(0.95, 1 - 2.5 * (1 - index.similarity(word))))
    return _KIND_WEIGHT.get(kind, 0.0)


def _analyse(index: SearchIndex, text: str, spelled: str) -> _Analysis:
    """Terms for ranking, coverage of the content words, best specificity, content count;
    `spelled` is the text as `SearchIndex.spelled` gives it, for finding catalog phrases."""
    content = nlp.content_words(text, STOPWORDS, keep=index.phrase_words(spelled))
    terms: list[str] = []
    matched: list[tuple[list[str], str, float]] = []
    covered = 0.0
    specificity = 0.0
    n_content = len(content)
    for word in content:
        expanded, kind = index.expand_kind(word)
        if kind == "stop" or (expanded and max(index.idf(t) for t in expanded) < UBIQUITOUS_IDF):
            n_content -= 1
            continue
        if not expanded:
            continue
        terms += expanded
        weight = _weight(index, word, kind)
        matched.append((expanded, kind, weight))

        covered += weight
        specificity = max(specificity, max(index.idf(t) for t in expanded) * weight)
    coverage = covered / n_content if n_content else 0.0
    return _Analysis(terms, matched, coverage, specificity, n_content)


def _cohesion(index: SearchIndex, a: _Analysis, doc: int) -> float:
    """Share of the content words the best service explains on its own. Words of an
    off-topic message scatter over many services; a compound must match as a whole."""
    if not a.n_content:
        return 0.0
    vocab = index.doc_terms[doc]
    hits = sum(
        # A compound counts by the share of its parts the service knows (Jugend|fischereischein).
        weight * sum(t in vocab for t in terms) / len(terms)
        if kind == "compound"
        else weight * any(t in vocab for t in terms)
        for terms, kind, weight in a.words
    )
    return hits / a.n_content


def _title_share(index: SearchIndex, a: _Analysis, doc: int) -> float:
    """How much of the message's telling words are in the service's names and citizen words,
    weighted by how specific each word is. A service named by the message beats one whose
    description merely mentions its other words ("Sperrmüll abgeholt" is about Sperrmüll)."""
    title = index.title_terms[doc]
    total = hit = 0.0
    for terms, _kind, weight in a.words:
        idf = max(index.idf(t) for t in terms)
        total += idf
        if any(t in title for t in terms):
            hit += idf * weight
    return hit / total if total else 0.0


def _focus(index: SearchIndex, a: _Analysis, doc: int) -> float:
    """1 if the message's most specific word names the service (is in its names or one-word
    citizen words): "Rundfunkbeitrag abmelden" is about the Rundfunkbeitrag, not a Wohnsitz."""
    if not a.words:
        return 0.0
    terms, _kind, weight = max(a.words, key=lambda w: w[2] * max(index.idf(t) for t in w[0]))
    return weight if any(t in index.title_terms[doc] for t in terms) else 0.0


def _example_likeness(index: SearchIndex, doc: int, terms: set[str], weight: float) -> float:
    """Specificity-weighted overlap (Jaccard) with the closest example question of the
    service: citizens ask the same things in similar words. `weight` is the terms' summed
    specificity."""
    best = 0.0
    for example, example_weight in index.example_weights[doc]:
        shared = example & terms
        if shared:
            inter = sum(index.idf(t) for t in shared)
            union = example_weight + weight - inter
            if union > 0:
                best = max(best, inter / union)
    return best


def _spelled_out(index: SearchIndex, doc: int, terms: set[str]) -> float:
    """How completely the message spells out one of the service's names or citizen words,
    weighted by specificity: "Elterngeld" only half-spells "Geburtsurkunde Elterngeld"."""
    best = 0.0
    for tokens, total in _phrase_weights(index)[doc]:
        if not tokens.isdisjoint(terms):
            best = max(best, sum(index.idf(t) for t in tokens & terms) / total)
    return best


# The last indexes' phrase tokens with their summed specificity, computed once per index
# (the ranking asks for them for every candidate of every message).
_PHRASE_WEIGHTS: dict[int, tuple[SearchIndex, list[list[tuple[frozenset[str], float]]]]] = {}


def _phrase_weights(index: SearchIndex) -> list[list[tuple[frozenset[str], float]]]:
    cached = _PHRASE_WEIGHTS.get(id(index))
    if cached is not None and cached[0] is index:
        return cached[1]
    weights = []
    for doc in index.docs:
        phrases = [_name_tokens(p) for p in (*doc.names, *doc.keywords)]
        totals = [(t, sum(index.idf(w) for w in t)) for t in phrases]
        weights.append([(t, total) for t, total in totals if total > 0])
    if len(_PHRASE_WEIGHTS) >= 4:  # old catalog versions: drop them
        _PHRASE_WEIGHTS.clear()
    _PHRASE_WEIGHTS[id(index)] = (index, weights)
    return weights


@cache
def _name_tokens(name: str) -> frozenset[str]:
    return frozenset(t for t in analyse(name) if t not in nlp.ASPECT_WORDS)


def _name_coverage(index: SearchIndex, doc: int, terms: set[str]) -> float:
    best = 0.0
    for name in index.docs[doc].names:
        tokens = _name_tokens(name)
        if tokens:
            best = max(best, len(tokens & terms) / len(tokens))
    return best


def _elsewhere(index: SearchIndex, text: str, doc: int) -> float:
    """How much of the message (by specificity) names matters of other authorities that the
    service is not called by: all of "Elterngeld beantragen", half of "Geburtsurkunde für
    das Elterngeld"; "Rundfunkbeitrag abmelden" shares a verb with Wohnsitz abmelden, no more."""
    named = {
        token
        for phrase, tokens in index.elsewhere_words(text).items()
        if not set(phrase.split()) <= index.title_terms[doc]
        for token in tokens
    }
    if not named:
        return 0.0
    total = hit = 0.0
    # A topic word counts even where it could ask a sub-question: "Internet anmelden".
    for word in nlp.content_words(text, STOPWORDS, keep=frozenset(named)):
        expanded, kind = index.expand_kind(word)
        if kind == "stop":
            continue
        # A word the catalog does not know is as telling as its rarest word; so is a word that
        # names the other matter, however common it is in our catalog ("bus driver").
        elsewhere = fold(word) in named
        weight = (
            index.max_idf
            if elsewhere
            else max((index.idf(t) for t in expanded), default=0.0) or index.max_idf
        )
        total += weight
        hit += weight if elsewhere else 0.0
    return hit / total if total else 1.0


def _break_ties(index: SearchIndex, ranked: list[Candidate], terms: set[str]) -> list[Candidate]:
    """Among near-ties, a service whose name the message spells out completely wins over one
    whose name says more ("passport" → "Reisepass", not "vorläufiger Reisepass")."""
    if len(ranked) < 2:
        return ranked
    top = ranked[0].score
    tied = [c for c in ranked if c.score >= top * 0.95]
    if len(tied) < 2:
        return ranked
    rest = ranked[len(tied) :]
    adjusted = [
        Candidate(
            c.index, c.service_id, c.score * (0.75 + 0.25 * _name_coverage(index, c.index, terms))
        )
        for c in tied
    ]
    return sorted(adjusted + rest, key=lambda c: -c.score)


def _hurried(index: SearchIndex, scores: np.ndarray) -> np.ndarray:
    """A message in a hurry about a service that has a stand-in for short notice (a regular
    passport, the temporary one) is likelier about the stand-in."""
    adjusted = scores.copy()
    by_id = {doc.id: i for i, doc in enumerate(index.docs)}
    for i, doc in enumerate(index.docs):
        regular = [scores[by_id[r]] for r in doc.urgent_for if r in by_id]
        if regular and max(regular) > 0:
            adjusted[i] = max(scores[i], *regular) * (1 + URGENT_BOOST)
    return adjusted


def _hurried_candidates(
    index: SearchIndex, candidates: Iterable[Candidate], urgent: bool
) -> list[Candidate]:
    """Best first; in a hurry, a stand-in also leads its regular service after the ranking's
    name and wording boosts, which favour the regular one ("passport" names "Reisepass")."""
    ranked = list(candidates)
    if urgent:
        final = {c.service_id: c.score for c in ranked}
        ranked = [
            Candidate(
                c.index,
                c.service_id,
                max(c.score, *(final.get(r, 0.0) * (1 + URGENT_BOOST) for r in urgent_for)),
            )
            if (urgent_for := index.docs[c.index].urgent_for)
            else c
            for c in ranked
        ]
    return sorted(ranked, key=lambda c: -c.score)


@dataclass(frozen=True)
class Lexical:
    """What the lexical matcher reads from a message, computed once: the text as understood
    (turns, validity statements and directions applied), its analysis, and the raw BM25 score
    of every service (index order). The ranker combines these with the dense scores."""

    text: str
    spelled: str
    analysis: _Analysis
    scores: np.ndarray
    terms: frozenset[str]
    term_weight: float
    urgent: bool


def lexical(index: SearchIndex, text: str) -> Lexical:
    """The lexical view of a message (all scores 0 when no word of it is in the catalog)."""
    text = reading.directed(index, reading.unsettled(nlp.join_separable(text)))
    spelled = index.spelled(text)
    a = _analyse(index, text, spelled)
    if not a.terms:
        return Lexical(text, spelled, a, np.zeros(len(index.docs)), frozenset(), 0.0, False)
    term_set = frozenset(a.terms)
    scores = index.scores(
        spelled, a.terms + reading.contrasted(index, text), title_weight=TITLE_FIELD_WEIGHT
    )
    urgent = nlp.is_urgent(text)
    if urgent:
        scores = _hurried(index, scores)
    weight = sum(index.idf(t) for t in term_set)
    return Lexical(text, spelled, a, scores, term_set, weight, urgent)


def doc_signals(index: SearchIndex, lex: Lexical, doc: int) -> dict[str, float]:
    """How well one service explains the message, signal by signal (the ranker's inputs)."""
    terms = set(lex.terms)
    return {
        "cohesion": _cohesion(index, lex.analysis, doc),
        "title": _title_share(index, lex.analysis, doc),
        "spelled": _spelled_out(index, doc, terms),
        "example": _example_likeness(index, doc, terms, lex.term_weight),
        "focus": _focus(index, lex.analysis, doc),
        "name_cover": _name_coverage(index, doc, terms),
        "elsewhere": _elsewhere(index, lex.text, doc),
    }


def message_features(index: SearchIndex, lex: Lexical, doc: int, second: float) -> dict[str, float]:
    """The message-level features of the confidence model, for `doc` as the best service with
    score `lex.scores[doc]`-based margin to `second` (the runner-up's final score)."""
    a = lex.analysis
    top = float(lex.scores[doc])
    folded = f" {lex.spelled} "
    phrases = index.docs[doc].phrases()
    signals = doc_signals(index, lex, doc)
    features = {
        "log_top": math.log1p(top),
        "margin": (top - second) / top if top > 0 else 0.0,
        "coverage": a.coverage,
        "cohesion": signals["cohesion"],
        "specificity": a.specificity,
        "phrase": 1.0 if any(f" {p} " in folded for p in phrases if len(p) > 3) else 0.0,
        "title": signals["spelled"],
        "focus": signals["focus"],
        "example": signals["example"],
        "n_content": float(a.n_content),
        "elsewhere": signals["elsewhere"],
        "bias": 1.0,
    }
    # Another authority's matter weighs most where the message's most telling word does not
    # name the service: "Rundfunkbeitrag abmelden wegen Umzug ins Ausland", not "Geburtsurkunde
    # für das Elterngeld".
    features["unfocused"] = features["elsewhere"] * (1.0 - features["focus"])
    return features


def match(index: SearchIndex, text: str, lex: Lexical | None = None) -> Match:
    """Rank services for a message and say how sure we are about the best one; `lex` is the
    message's lexical view when the caller has it already (the ranker reads it too)."""
    lex = lex if lex is not None else lexical(index, text)
    if not lex.terms:
        return Match([], {}, 0.0, lex.analysis.n_content)
    a, scores, term_set = lex.analysis, lex.scores, set(lex.terms)
    order = np.argsort(-scores, kind="stable")[:8]
    candidates = _break_ties(
        index,
        _hurried_candidates(
            index,
            (
                # A service that explains more of the message on its own is the likelier one.
                Candidate(
                    int(i),
                    index.docs[int(i)].id,
                    float(scores[i])
                    * (0.85 + 0.3 * _cohesion(index, a, int(i)))
                    * (1 + TITLE_BOOST * _title_share(index, a, int(i)))
                    * (1 + SPELLED_BOOST * _spelled_out(index, int(i), term_set))
                    * (
                        1
                        + EXAMPLE_BOOST
                        * _example_likeness(index, int(i), term_set, lex.term_weight)
                    ),
                )
                for i in order
                if scores[i] > 0
            ),
            lex.urgent,
        ),
        term_set,
    )[:5]
    if not candidates:
        return Match([], {}, 0.0, a.n_content)
    top = candidates[0].score
    second = candidates[1].score if len(candidates) > 1 else 0.0
    features = message_features(index, lex, candidates[0].index, 0.0)
    features["log_top"] = math.log1p(top)
    features["margin"] = (top - second) / top if top > 0 else 0.0
    return Match(candidates, features, confidence_of(features), a.n_content)


def group_confidence(m: Match, rivals: int) -> float:
    """How sure we are that the right service is among the first `rivals` candidates: the
    confidence with the margin taken to the next candidate after them. "neuer Ausweis" is
    surely one of two services even though neither is sure on its own."""
    if not m.candidates:
        return 0.0
    top = m.candidates[0].score
    after = m.candidates[rivals].score if len(m.candidates) > rivals else 0.0
    if m.scorer is not None:  # the ranker's scores are probabilities: their plain difference
        return m.scorer({**m.features, "margin": top - after})
    return confidence_of({**m.features, "margin": (top - after) / top if top > 0 else 0.0})


def close_rivals(m: Match, ratio: float = 0.9) -> list[Candidate]:
    """Candidates scoring almost as high as the best: a reason to ask back, not to guess."""
    if not m.candidates:
        return []
    top = m.candidates[0].score
    return [c for c in m.candidates if c.score >= top * ratio]
