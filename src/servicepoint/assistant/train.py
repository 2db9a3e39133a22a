"""Fit the learned ranker (ranker.py) on the development split only.

Called by `servicepoint assistant calibrate` after the lexical confidence is fitted (its
probability is one of the answer model's inputs). The held-out split is never read here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from servicepoint.assistant import languages, matcher, ranker
from servicepoint.assistant.evaluation import Item, expected_calibration_error
from servicepoint.assistant.matcher import Match
from servicepoint.assistant.retrieval import HybridIndex
from servicepoint.catalog.search import SearchIndex

# Regularisation of both models: strong enough that a feature seen on few questions (a
# foreign language) cannot carry a weight the data does not support.
REGULARISATION = 1.0


@dataclass(frozen=True)
class Seen:
    """One dev question as the retrievers see it."""

    item: Item
    signals: ranker.Signals
    lexical: Match


def _right(item: Item, name: str | None) -> bool:
    if item.expected is None or name is None:
        return False
    if isinstance(item.expected, tuple):
        return name in item.expected
    return name == item.expected


def observe(
    hybrid: HybridIndex, index: SearchIndex, items: Sequence[Item], default: str = "de"
) -> list[Seen]:
    """The retrieval signals of every question (the slow part: one embedding each)."""
    seen = []
    for item in items:
        lang = languages.detect(item.q, default=default)
        lex = matcher.lexical(index, item.q)
        signals = ranker.signals(hybrid, index, item.q, lang, lex=lex)
        seen.append(Seen(item, signals, matcher.match(index, item.q, lex)))
    return seen


def _fit(rows: list[dict[str, float]], labels: list[float], names: Sequence[str]) -> ranker.Linear:
    x = np.array([[r.get(n, 0.0) for n in names] for r in rows], dtype=float)
    y = np.array(labels, dtype=float)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=REGULARISATION, max_iter=5000)
    model.fit((x - mean) / scale, y)
    return ranker.Linear(
        tuple(names), mean, scale, model.coef_[0].astype(float), float(model.intercept_[0])
    )


def fit_candidates(
    index: SearchIndex, seen: Sequence[Seen], names: dict[str, str]
) -> ranker.Linear:
    """Pointwise: each candidate of each in-scope question, labelled right or wrong."""
    rows: list[dict[str, float]] = []
    labels: list[float] = []
    for s in seen:
        if s.item.expected is None:
            continue
        for doc in ranker.candidates_of(index, s.signals):
            rows.append(ranker.candidate_row(index, s.signals, doc))
            labels.append(1.0 if _right(s.item, names.get(index.docs[doc].id)) else 0.0)
    return _fit(rows, labels, ranker.CANDIDATE_FEATURES)


def answer_rows(
    index: SearchIndex, seen: Sequence[Seen], model: ranker.Linear, names: dict[str, str]
) -> tuple[list[dict[str, float]], list[float]]:
    """The answer model's rows: label 1 where the ranked best is the right service; every
    out-of-scope question is a 0, so the model learns "not ours" as well as "not this one"."""
    rows: list[dict[str, float]] = []
    labels: list[float] = []
    for s in seen:
        ranked, _ = ranker.score_candidates(index, s.signals, model)
        if not ranked:
            continue
        rows.append(ranker.answer_row(index, s.signals, ranked, s.lexical))
        labels.append(1.0 if _right(s.item, names.get(ranked[0].service_id)) else 0.0)
    return rows, labels


def fit(
    index: SearchIndex,
    seen: Sequence[Seen],
    names: dict[str, str],
    out: Path = ranker.RANKER_FILE,
) -> dict[str, Any]:
    """Fit both models on the dev questions given, write ranker.json, report dev figures."""
    candidate = fit_candidates(index, seen, names)
    rows, labels = answer_rows(index, seen, candidate, names)
    answer = _fit(rows, labels, ranker.ANSWER_FEATURES)
    probs = answer.prob(np.array([[r.get(n, 0.0) for n in answer.names] for r in rows]))
    report = {
        "candidate": candidate.dump(),
        "answer": answer.dump(),
        "dev_questions": len(seen),
        "dev_answer_ece": round(expected_calibration_error(probs, np.array(labels)), 4),
    }
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    ranker.reload()
    return report
