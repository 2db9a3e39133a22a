"""Fit the matcher's confidence and the dialogue thresholds on the development split only.

`servicepoint assistant calibrate` writes assistant/calibration.json. The held-out split is
never read here, so the figures reported for it stay honest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from servicepoint.assistant import dialogue, matcher
from servicepoint.assistant.evaluation import (
    Item,
    Outcome,
    correct,
    expected_calibration_error,
    fit_logistic,
)
from servicepoint.catalog import service as catalog_service


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


def _policy_score(
    session: Session,
    items: Sequence[Item],
    policy: dict[str, float],
    places: Sequence[str] = (),
    elsewhere: Sequence[str] = (),
) -> float:
    """Balanced accuracy (in-scope top-1 and out-of-scope rejection) under a policy."""
    index = catalog_service.search_index(session, places, elsewhere)
    names = _names(session)
    hits = {True: [0, 0], False: [0, 0]}
    for item in items:
        m = matcher.match(index, item.q)
        d = dialogue.decide(index, item.q, dialogue.State(), m, policy)
        got = Outcome(
            d.kind, names.get(d.service_id or ""), tuple(names.get(o, "") for o in d.options)
        )
        bucket = hits[item.expected is not None]
        bucket[0] += correct(item, got)
        bucket[1] += 1
    rates = [h / n for h, n in hits.values() if n]
    return float(np.mean(rates)) if rates else 0.0


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
) -> dict[str, Any]:
    """Fit on the dev split, choose thresholds on it, write the calibration file."""
    dev = [i for i in items if i.split == "dev"]
    x, y = _dataset(session, dev, places, elsewhere)
    weights = fit_logistic(x, y)
    p = 1 / (1 + np.exp(-x @ weights))
    fitted = {f: round(float(w), 4) for f, w in zip(matcher.FEATURES, weights, strict=True)}
    out.write_text(json.dumps({"weights": fitted}, indent=2), encoding="utf-8")
    matcher.reload_weights()
    thresholds = [round(float(t), 2) for t in np.arange(0.2, 0.9, 0.05)]
    # Near ties are always asked back (the product promises it), so the ratio stays < 1.
    ratios = (0.9, 0.93, 0.95, 0.97, 0.99)
    scores = {
        (t, r): _policy_score(
            session,
            dev,
            {"answer_threshold": t, "clarify_ratio": r, "followup_threshold": 0.8},
            places,
            elsewhere,
        )
        for t in thresholds
        for r in ratios
    }
    best = _steadiest(scores, thresholds)
    report = {
        "weights": fitted,
        "policy": {
            "answer_threshold": best[0],
            "clarify_ratio": best[1],
            "followup_threshold": 0.8,
        },
        "dev_questions": len(dev),
        "dev_balanced_accuracy": round(scores[best], 4),
        "dev_ece": round(expected_calibration_error(p, y), 4),
    }
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    matcher.reload_weights()
    dialogue.policy.cache_clear()
    return report
