"""The labelled question set: loading, the fixed dev / held-out split, metrics, calibration.

The split is by a hash of the question text, so it never changes and nobody picks it: about
30 % is held out and never used for fitting or tuning, only for reporting.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

HELD_OUT_SHARE = 0.3


@dataclass(frozen=True)
class Item:
    q: str
    lang: str
    expected: str | tuple[str, ...] | None  # canonical name(s); None = out of scope
    aspect: str | None = None

    @property
    def split(self) -> str:
        digest = hashlib.sha1(self.q.strip().lower().encode()).digest()
        return "heldout" if digest[0] < 256 * HELD_OUT_SHARE else "dev"


@dataclass(frozen=True)
class Dialogue:
    turns: tuple[Item, ...]

    @property
    def split(self) -> str:
        return self.turns[0].split


def _item(raw: dict[str, Any]) -> Item:
    expected = raw.get("service")
    if isinstance(expected, list):
        expected = tuple(expected)
    return Item(
        q=str(raw["q"]),
        lang=str(raw.get("lang", "de")),
        expected=expected,
        aspect=raw.get("aspect"),
    )


def load(path: Path) -> tuple[list[Item], list[Dialogue]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = [_item(q) for q in data.get("questions", [])]
    dialogues = [Dialogue(tuple(_item(t) for t in d["turns"])) for d in data.get("dialogues", [])]
    return items, dialogues


# -- scoring one answer -----------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    kind: str  # answer | clarify | out_of_scope | greeting | offices
    service: str | None  # canonical name answered
    options: tuple[str, ...] = ()


def correct(item: Item, got: Outcome) -> bool:
    """In scope: the right service, or a question back naming the right ones when ambiguous.
    Out of scope: no service claimed."""
    if item.expected is None:
        # Another country's document (its consulate) and "not understood" are honest refusals.
        refusals = ("out_of_scope", "unsure", "consulate", "greeting", "offices")
        return got.service is None and got.kind in refusals
    if isinstance(item.expected, tuple):
        if got.kind == "clarify":
            return set(item.expected) <= set(got.options)
        return got.service in item.expected
    return got.kind == "answer" and got.service == item.expected


@dataclass
class Metrics:
    top1: float = 0.0
    rejection: float = 0.0
    followup: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    n_in: int = 0
    n_out: int = 0
    n_follow: int = 0
    misses: list[tuple[str, str | None, str | None]] = field(default_factory=list)


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


Asker = Callable[[str, str | None, str | None], tuple[Outcome, str | None]]


def evaluate(items: Sequence[Item], dialogues: Sequence[Dialogue], ask: Asker) -> Metrics:
    """`ask(message, conversation_id, lang_hint)` → (outcome, conversation_id)."""
    m = Metrics()
    timings: list[float] = []
    hits_in = hits_out = 0
    for item in items:
        t0 = time.perf_counter()
        got, _ = ask(item.q, None, None)
        timings.append(time.perf_counter() - t0)
        ok = correct(item, got)
        if item.expected is None:
            m.n_out += 1
            hits_out += ok
        else:
            m.n_in += 1
            hits_in += ok
        if not ok:
            m.misses.append((item.q, str(item.expected), got.service or got.kind))
    follow_hits = 0
    for dialogue in dialogues:
        conversation: str | None = None
        for n, turn in enumerate(dialogue.turns):
            got, conversation = ask(turn.q, conversation, None)
            if n == 0:
                continue
            m.n_follow += 1
            ok = correct(turn, got)
            follow_hits += ok
            if not ok:
                m.misses.append(
                    (f"[dialogue] {turn.q}", str(turn.expected), got.service or got.kind)
                )
    m.top1 = hits_in / m.n_in if m.n_in else math.nan
    m.rejection = hits_out / m.n_out if m.n_out else math.nan
    m.followup = follow_hits / m.n_follow if m.n_follow else math.nan
    ms = [t * 1000 for t in timings]
    m.p50_ms = statistics.median(ms) if ms else math.nan
    m.p95_ms = _percentile(ms, 0.95)
    return m


# -- calibration ------------------------------------------------------------------------------
def fit_logistic(
    x: np.ndarray, y: np.ndarray, l2: float = 0.01, steps: int = 4000, lr: float = 0.1
) -> np.ndarray:
    """Plain L2-regularised logistic regression by gradient descent (standardised inputs)."""
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    mean[-1], std[-1] = 0.0, 1.0  # the bias column stays as it is
    z = (x - mean) / std
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-z @ w))
        grad = z.T @ (p - y) / len(y) + l2 * np.r_[w[:-1], 0.0]
        w -= lr * grad
    # Fold the standardisation back so the weights apply to raw features.
    raw = w / std
    raw[-1] = w[-1] - float(np.sum(w[:-1] * mean[:-1] / std[:-1]))
    return np.asarray(raw, dtype=float)


def expected_calibration_error(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    err = 0.0
    for lo, hi in itertools.pairwise(edges):
        mask = (p >= lo) & (p < hi if hi < 1 else p <= hi)
        if mask.any():
            err += mask.mean() * abs(float(p[mask].mean()) - float(y[mask].mean()))
    return err
