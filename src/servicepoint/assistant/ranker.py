"""The learned ranker: which service a message is about, and whether it is ours at all.

Three retrievers look at every message: the lexical matcher (catalog words, compounds, typos),
a character-n-gram BM25 and a multilingual dense embedding over the whole catalog text
(`retrieval.py`). Two logistic models fitted on the development split only (`servicepoint
assistant calibrate`, stored in ranker.json) replace hand-set weights:

- the candidate model scores each candidate service from its retrieval signals;
- the answer model gives the probability that the best candidate is right. Its negative class
  is everything else, out-of-scope questions included: that is the "not ours" class.

Without an embedder or without a fitted ranker.json the lexical match stands unchanged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from servicepoint.assistant import languages, matcher
from servicepoint.assistant.matcher import Candidate, Match
from servicepoint.assistant.retrieval import HybridIndex, Retrieval
from servicepoint.catalog.search import SearchIndex

RANKER_FILE = Path(__file__).resolve().parent / "ranker.json"
PER_RETRIEVER = 8  # candidates each retriever brings (the union is scored)
CANDIDATE_FEATURES = (
    "lex_log",
    "lex_rel",
    "cohesion",
    "title",
    "spelled",
    "example",
    "focus",
    "name_cover",
    "stand_in",
    "bm25_rel",
    "bm25_catalog_rel",
    "dense_max",
    "dense_gap",
    "dense_catalog",
    "dense_terms",
    "dense_top3",
    "foreign_dense_max",
    "foreign_dense_gap",
    "foreign_dense_top3",
    "foreign_bm25_rel",
)
ANSWER_FEATURES = (
    "top_prob",
    "prob_margin",
    "lexical_confidence",
    "coverage",
    "specificity",
    "n_content",
    "elsewhere",
    "unfocused",
    "dense_max",
    "dense_margin",
    "foreign",
    "foreign_dense_max",
    "foreign_dense_margin",
    "dense_z",
    "bm25_log_top",
    "foreign_dense_z",
    "foreign_bm25_log_top",
)


@dataclass(frozen=True)
class Linear:
    """A fitted logistic model over named, standardised features."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def prob(self, rows: np.ndarray) -> np.ndarray:
        z = (rows - self.mean) / self.scale
        return np.asarray(1 / (1 + np.exp(-np.clip(z @ self.coef + self.intercept, -30, 30))))

    def prob_of(self, features: dict[str, float]) -> float:
        row = np.array([[features.get(n, 0.0) for n in self.names]])
        return float(self.prob(row)[0])

    def dump(self) -> dict[str, Any]:
        return {
            "features": list(self.names),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "coef": [round(float(v), 6) for v in self.coef],
            "intercept": round(self.intercept, 6),
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> Linear:
        return cls(
            tuple(data["features"]),
            np.array(data["mean"], dtype=float),
            np.array(data["scale"], dtype=float),
            np.array(data["coef"], dtype=float),
            float(data["intercept"]),
        )


@dataclass(frozen=True)
class Models:
    candidate: Linear
    answer: Linear
    policy: dict[str, float]  # the dialogue's thresholds for these probabilities


@cache
def models(path: Path = RANKER_FILE) -> Models | None:
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    policy = {k: float(v) for k, v in data.get("policy", {}).items()}
    return Models(Linear.load(data["candidate"]), Linear.load(data["answer"]), policy)


def reload() -> None:
    models.cache_clear()


# -- features ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Signals:
    """Everything the retrievers say about one message, computed once."""

    lex: matcher.Lexical
    retrieval: Retrieval
    positions: dict[str, int]  # service id → position in the retrieval arrays
    foreign: bool


def _relative(values: np.ndarray, pos: int) -> float:
    top = float(values.max()) if len(values) else 0.0
    return float(values[pos]) / top if top > 0 else 0.0


def candidate_row(index: SearchIndex, s: Signals, doc: int) -> dict[str, float]:
    """The candidate model's features of one service (index position `doc`)."""
    lex, r = s.lex, s.retrieval
    pos = s.positions.get(index.docs[doc].id, -1)
    row = {
        "lex_log": math.log1p(float(lex.scores[doc])),
        "lex_rel": _relative(lex.scores, doc),
        "stand_in": 1.0 if lex.urgent and index.docs[doc].urgent_for else 0.0,
    }
    if lex.terms:
        row.update(matcher.doc_signals(index, lex, doc))
    if pos >= 0:
        others = np.delete(r.dense_max, pos)
        gap = float(r.dense_max[pos] - (others.max() if len(others) else 0.0))
        row.update(
            bm25_rel=_relative(r.bm25, pos),
            bm25_catalog_rel=_relative(r.bm25_catalog, pos),
            dense_max=float(r.dense_max[pos]),
            dense_gap=gap,
            dense_catalog=float(r.dense_catalog[pos]),
            dense_terms=float(r.dense_terms[pos]),
            dense_top3=float(r.dense_top3[pos]),
        )
    if s.foreign:
        # The lexical signals mean little in another language; these let the model weigh
        # the dense ones (and the character n-grams of shared names) differently there.
        for name in ("dense_max", "dense_gap", "dense_top3", "bm25_rel"):
            row[f"foreign_{name}"] = row.get(name, 0.0)
    return row


def _top(values: np.ndarray, k: int) -> list[int]:
    return [int(i) for i in np.argsort(-values, kind="stable")[:k] if values[i] > 0]


def candidates_of(index: SearchIndex, s: Signals) -> list[int]:
    """Index positions of the services any retriever ranks among its first few."""
    found = _top(s.lex.scores, PER_RETRIEVER)
    by_id = {doc.id: i for i, doc in enumerate(index.docs)}
    for values in (s.retrieval.bm25, s.retrieval.dense_max):
        found += [
            by_id[s.retrieval.service_ids[p]]
            for p in _top(values, PER_RETRIEVER)
            if s.retrieval.service_ids[p] in by_id
        ]
    return list(dict.fromkeys(found))


def signals(
    hybrid: HybridIndex,
    index: SearchIndex,
    text: str,
    lang: str,
    qvec: np.ndarray | None = None,
    lex: matcher.Lexical | None = None,
) -> Signals:
    lex = lex if lex is not None else matcher.lexical(index, text)
    retrieval = hybrid.retrieve(text, qvec)
    positions = {sid: p for p, sid in enumerate(retrieval.service_ids)}
    return Signals(lex, retrieval, positions, lang not in languages.HOME)


def answer_row(
    index: SearchIndex, s: Signals, ranked: Sequence[Candidate], lexical: Match
) -> dict[str, float]:
    """The answer model's features: how sure the ranking is, and what the message says."""
    top = ranked[0]
    second = ranked[1].score if len(ranked) > 1 else 0.0
    base = matcher.message_features(index, s.lex, top.index, 0.0) if s.lex.terms else {}
    dense = s.retrieval.dense_max
    pos = s.positions.get(top.service_id, -1)
    top_dense = float(dense[pos]) if pos >= 0 else 0.0
    others = np.delete(dense, pos) if pos >= 0 else dense
    margin = top_dense - (float(others.max()) if len(others) else 0.0)
    row = {
        "top_prob": top.score,
        "prob_margin": top.score - second,
        "lexical_confidence": lexical.confidence,
        "coverage": base.get("coverage", 0.0),
        "specificity": base.get("specificity", 0.0),
        "n_content": float(s.lex.analysis.n_content),
        "elsewhere": base.get("elsewhere", 0.0),
        "unfocused": base.get("unfocused", 0.0),
        "dense_max": top_dense,
        "dense_margin": margin,
        "foreign": 1.0 if s.foreign else 0.0,
    }
    # How far the best service stands out from all of them: a message that means nothing
    # (gibberish, another matter) is about equally close to every service, and embeddings
    # are never far apart in absolute terms.
    spread = float(dense.std()) if len(dense) else 0.0
    row["dense_z"] = (top_dense - float(dense.mean())) / spread if spread > 0 else 0.0
    bm25 = s.retrieval.bm25
    row["bm25_log_top"] = math.log1p(float(bm25.max())) if len(bm25) else 0.0
    if s.foreign:
        row["foreign_dense_max"], row["foreign_dense_margin"] = top_dense, margin
        row["foreign_dense_z"], row["foreign_bm25_log_top"] = row["dense_z"], row["bm25_log_top"]
    return row


# -- ranking ----------------------------------------------------------------------------------
def score_candidates(
    index: SearchIndex, s: Signals, model: Linear
) -> tuple[list[Candidate], list[dict[str, float]]]:
    """Candidates best first with the candidate model's probability as their score."""
    docs = candidates_of(index, s)
    if not docs:
        return [], []
    rows = [candidate_row(index, s, d) for d in docs]
    probs = model.prob(np.array([[r.get(n, 0.0) for n in model.names] for r in rows]))
    order = sorted(range(len(docs)), key=lambda k: -probs[k])
    ranked = [Candidate(docs[k], index.docs[docs[k]].id, float(probs[k])) for k in order]
    return ranked, [rows[k] for k in order]


def _scorer(model: Linear) -> Callable[[dict[str, float]], float]:
    def score(features: dict[str, float]) -> float:
        # `group_confidence` asks with the margin to the k-th candidate instead of the second.
        return model.prob_of({**features, "prob_margin": features.get("margin", 0.0)})

    return score


def ranked_match(index: SearchIndex, s: Signals, lexical: Match, fitted: Models) -> Match:
    """The learned match from the retrievers' signals."""
    ranked, _rows = score_candidates(index, s, fitted.candidate)
    if not ranked:
        return lexical
    features = answer_row(index, s, ranked, lexical)
    confidence = fitted.answer.prob_of(features)
    # dialogue.decide reads "margin" for asking back between near ties.
    features["margin"] = features["prob_margin"]
    return Match(
        ranked[:5],
        features,
        confidence,
        s.lex.analysis.n_content,
        scorer=_scorer(fitted.answer),
        policy=fitted.policy or None,
    )


def rank(
    hybrid: HybridIndex | None,
    index: SearchIndex,
    text: str,
    *,
    lang: str,
    qvec: np.ndarray | None = None,
) -> Match:
    """The match for a message: learned when the models and an embedder are there. `qvec`
    is the message's embedding when the caller has it already."""
    lex = matcher.lexical(index, text)  # read once: the lexical match and the signals share it
    lexical = matcher.match(index, text, lex)
    fitted = models()
    if hybrid is None or hybrid.embedder is None or fitted is None:
        return lexical
    if lang not in languages.HOME and not languages.has_labels(lang):
        # No question in this language was in the data the models were fitted on, so their
        # probabilities would mean nothing here ("qwrtz plmokn" reads as Shona): words the
        # catalog knows still count, through the lexical match.
        return lexical
    return ranked_match(index, signals(hybrid, index, text, lang, qvec, lex), lexical, fitted)
