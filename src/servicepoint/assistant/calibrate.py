"""Fit the matcher's confidence and the dialogue thresholds on the development split only.

`servicepoint assistant calibrate` writes assistant/calibration.json. The held-out split is
never read here, so the figures reported for it stay honest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from servicepoint.assistant import dialogue, matcher, nlp, ranker, train
from servicepoint.assistant.evaluation import (
    Item,
    Outcome,
    correct,
    expected_calibration_error,
    fit_logistic,
)
from servicepoint.assistant.matcher import Match
from servicepoint.assistant.retrieval import HybridIndex
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.search import SearchIndex


def _names(session: Session) -> dict[str, str]:
    return {s.id: s.name_de for s in catalog_service.list_services(session)}


def _dataset(
    session: Session,
    items: Sequence[Item],
    places: Sequence[str] = (),
    elsewhere: Sequence[str] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Features of the best match per question; label 1 when that match is right."""
    index = catalog_service.search_index(session, places, elsewhere)
    names = _names(session)
    rows, labels = [], []
    for item in items:
        m = matcher.match(index, item.q)
        if not m.candidates:
            continue
        best = names.get(m.candidates[0].service_id)
        expected = item.expected
        ok = best in expected if isinstance(expected, tuple) else best == expected
        rows.append([m.features[f] for f in matcher.FEATURES])
        labels.append(1.0 if ok and expected is not None else 0.0)
    return np.array(rows, dtype=float), np.array(labels, dtype=float)


@dataclass(frozen=True)
class _Judged:
    """A dev question, its match, what it decides before any threshold, and its aspects."""

    item: Item
    m: Match
    fixed: dialogue.Decision | None
    asked: list[str]


def _judge(index: SearchIndex, judged: Sequence[tuple[Item, Match]]) -> list[_Judged]:
    base = {"followup_threshold": 0.8}
    out = []
    for item, m in judged:
        asked = nlp.aspects(item.q)
        fixed = dialogue.prelude(index, item.q, dialogue.State(), m, asked, base)
        out.append(_Judged(item, m, fixed, asked))
    return out


def _policy_score(
    judged: Sequence[_Judged], names: dict[str, str], policy: dict[str, float]
) -> float:
    """Balanced accuracy (in-scope top-1 and out-of-scope rejection) under a policy."""
    hits = {True: [0, 0], False: [0, 0]}
    for j in judged:
        d = j.fixed or dialogue.by_confidence(j.m, j.asked, policy)
        got = Outcome(
            d.kind, names.get(d.service_id or ""), tuple(names.get(o, "") for o in d.options)
        )
        bucket = hits[j.item.expected is not None]
        bucket[0] += correct(j.item, got)
        bucket[1] += 1
    rates = [h / n for h, n in hits.values() if n]
    return float(np.mean(rates)) if rates else 0.0


def _ranked(
    index: SearchIndex, dev: Sequence[Item], hybrid: HybridIndex, names: dict[str, str]
) -> tuple[list[tuple[Item, Match]], dict[str, Any]]:
    """Fit the learned ranker on the dev questions; each with the match it now makes."""
    seen = train.observe(hybrid, index, dev)
    report = train.fit(index, seen, names)
    fitted = ranker.models()
    assert fitted is not None  # written just now
    judged = [(s.item, ranker.ranked_match(index, s.signals, s.lexical, fitted)) for s in seen]
    return judged, report


def choose_policy(
    index: SearchIndex, judged: Sequence[tuple[Item, Match]], names: dict[str, str]
) -> tuple[dict[str, float], float]:
    """The steadiest thresholds on the dev questions, and their balanced accuracy."""
    thresholds = [round(float(t), 2) for t in np.arange(0.2, 0.9, 0.05)]
    # Near ties are always asked back (the product promises it), so the ratio stays < 1.
    ratios = (0.9, 0.93, 0.95, 0.97, 0.99)
    prepared = _judge(index, judged)
    scores = {
        (t, r): _policy_score(
            prepared,
            names,
            {"answer_threshold": t, "clarify_ratio": r, "followup_threshold": 0.8},
        )
        for t in thresholds
        for r in ratios
    }
    best = _steadiest(scores, thresholds)
    chosen = {"answer_threshold": best[0], "clarify_ratio": best[1], "followup_threshold": 0.8}
    foreign = [j for j in prepared if j.m.features.get("foreign")]
    if foreign:
        chosen["foreign_threshold"] = _foreign_threshold(foreign, names, chosen, thresholds)
    return chosen, _policy_score(prepared, names, chosen)


def _foreign_threshold(
    foreign: Sequence[_Judged],
    names: dict[str, str],
    chosen: dict[str, float],
    thresholds: Sequence[float],
) -> float:
    """The steadiest answer threshold for questions in other languages, on those alone."""
    ratio = chosen["clarify_ratio"]
    scores = {
        (t, ratio): _policy_score(foreign, names, {**chosen, "foreign_threshold": t})
        for t in thresholds
    }
    return _steadiest(scores, thresholds)[0]


def _steadiest(
    scores: dict[tuple[float, float], float], thresholds: Sequence[float]
) -> tuple[float, float]:
    """The (threshold, ratio) whose score, averaged with its neighbouring thresholds', is best.
    A threshold at the edge of a cliff (one step lower answers many more out-of-scope
    questions) is the best on dev by a question or two and the worst on new questions."""

    def steady(key: tuple[float, float]) -> float:
        i = thresholds.index(key[0])
        near = thresholds[max(i - 1, 0) : i + 2]
        return float(np.mean([scores[(t, key[1])] for t in near]))

    return max(scores, key=lambda key: (steady(key), scores[key]))


def calibrate(
    session: Session,
    items: Sequence[Item],
    out: Path = matcher.CALIBRATION_FILE,
    places: Sequence[str] = (),
    elsewhere: Sequence[str] = (),
    hybrid: HybridIndex | None = None,
) -> dict[str, Any]:
    """Fit on the dev split, choose thresholds on it, write the calibration files."""
    dev = [i for i in items if i.split == "dev"]
    x, y = _dataset(session, dev, places, elsewhere)
    weights = fit_logistic(x, y)
    p = 1 / (1 + np.exp(-x @ weights))
    fitted = {f: round(float(w), 4) for f, w in zip(matcher.FEATURES, weights, strict=True)}
    out.write_text(json.dumps({"weights": fitted}, indent=2), encoding="utf-8")
    matcher.reload_weights()
    index = catalog_service.search_index(session, places, elsewhere)
    names = _names(session)
    lexical = [(item, matcher.match(index, item.q)) for item in dev]
    chosen, balanced = choose_policy(index, lexical, names)
    report: dict[str, Any] = {
        "weights": fitted,
        "policy": chosen,
        "dev_questions": len(dev),
        "dev_balanced_accuracy": round(balanced, 4),
        "dev_ece": round(expected_calibration_error(p, y), 4),
    }
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    matcher.reload_weights()
    dialogue.policy.cache_clear()
    if hybrid is not None and hybrid.embedder is not None:
        report["ranker"] = _fit_ranker(index, dev, hybrid, names)
    return report


def _fit_ranker(
    index: SearchIndex, dev: Sequence[Item], hybrid: HybridIndex, names: dict[str, str]
) -> dict[str, Any]:
    """The learned ranker and its own thresholds (its probabilities are not the lexical
    confidence's), both written to ranker.json."""
    judged, fitted = _ranked(index, dev, hybrid, names)
    chosen, balanced = choose_policy(index, judged, names)
    fitted |= {"policy": chosen, "dev_balanced_accuracy": round(balanced, 4)}
    ranker.RANKER_FILE.write_text(json.dumps(fitted, indent=2), encoding="utf-8")
    ranker.reload()
    return {
        k: fitted[k] for k in ("dev_questions", "dev_answer_ece", "policy", "dev_balanced_accuracy")
    }
