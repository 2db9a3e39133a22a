"""Hybrid retrieval over every passage of the catalog: character-n-gram BM25 plus dense vectors.

Both halves score every service at once and hand the ranker plain arrays (one entry per
service, in `service_ids` order); neither decides anything. BM25 over n-grams of folded words
is tolerant of typos, inflection and compounds without any word list; the multilingual
embedding finds a service from words it never contains, in any language the model knows.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import bm25s
import numpy as np
from sqlalchemy.orm import Session
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

from servicepoint.assistant.embedding import Embedder
from servicepoint.assistant.passages import (
    CATALOG_FIELDS,
    Passage,
    embedding_text,
    service_passages,
)
from servicepoint.assistant.vectors import vectors_for
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.search import fold

NGRAMS = (3, 4, 5)
_WORD = re.compile(r"[^\W_]+")


def char_ngrams(text: str) -> list[str]:
    """The 3- to 5-letter pieces of each folded word, padded so that word starts and ends
    count on their own ("pass" → " pa", "ass ", ...)."""
    grams: list[str] = []
    for word in _WORD.findall(fold(text)):
        padded = f" {word} "
        for n in NGRAMS:
            grams += [padded[i : i + n] for i in range(len(padded) - n + 1)]
    return grams


class CharBM25:
    """BM25 over character n-grams, one document per service."""

    def __init__(self, texts_per_service: Sequence[str]) -> None:
        self.size = len(texts_per_service)
        self._bm25 = bm25s.BM25(k1=1.2, b=0.75)
        self._vocab: dict[str, Any] = {}
        if self.size:  # bm25s cannot index nothing
            corpus = [char_ngrams(text) or [" "] for text in texts_per_service]
            self._bm25.index(corpus, show_progress=False)
            self._vocab = self._bm25.vocab_dict

    def scores(self, text: str) -> np.ndarray:
        """One score per document; a question's repeated n-grams count once."""
        grams = [gram for gram in dict.fromkeys(char_ngrams(text)) if gram in self._vocab]
        if not grams or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(grams), dtype=np.float32)


def char_bm25(texts_per_service: Sequence[str]) -> CharBM25:
    return CharBM25(texts_per_service)


@dataclass(frozen=True)
class Retrieval:
    service_ids: list[str]  # the order of every array below
    bm25: np.ndarray  # char-n-gram BM25 over all passages of each service
    bm25_catalog: np.ndarray  # the same over the catalog's own text (no keywords, no examples)
    dense_max: np.ndarray  # best cosine over all of the service's passages (0 without a model)
    dense_catalog: np.ndarray  # best cosine over its CATALOG_FIELDS passages
    dense_terms: np.ndarray  # best cosine over its keywords and examples (0 when it has none)
    dense_top3: np.ndarray  # mean of its three best passage cosines
    best_passage: list[int]  # index into HybridIndex.passages per service (-1: no model)


class HybridIndex:
    """Every passage of the catalog with its vector, grouped by service (sorted by id)."""

    def __init__(
        self,
        passages_by_service: dict[str, list[Passage]],
        embedder: Embedder | None,
        vectors: np.ndarray | None,
    ) -> None:
        self.service_ids = sorted(passages_by_service)
        self.passages = ordered(passages_by_service)
        self.embedder = embedder
        self._bm25 = CharBM25([_joined(passages_by_service[sid]) for sid in self.service_ids])
        self._bm25_catalog = CharBM25(
            [_joined(passages_by_service[sid], CATALOG_FIELDS) for sid in self.service_ids]
        )
        self._vectors = vectors
        self._layout(passages_by_service)

    def _layout(self, passages_by_service: dict[str, list[Passage]]) -> None:
        """A (services × longest) table of passage numbers, padded with one past the end, so
        that every per-service maximum is a single numpy reduction over a gathered matrix."""
        sizes = [len(passages_by_service[sid]) for sid in self.service_ids]
        pad = len(self.passages)
        self._table = np.full((len(sizes), max(sizes, default=1) or 1), pad, dtype=np.int64)
        start = 0
        for row, size in enumerate(sizes):
            self._table[row, :size] = np.arange(start, start + size)
            start += size
        is_catalog = np.array([p.field in CATALOG_FIELDS for p in self.passages] + [False])
        self._catalog_mask = is_catalog[self._table]
        self._terms_mask = ~is_catalog[self._table] & (self._table < pad)
        self._counts = np.minimum(np.array(sizes, dtype=np.float32), 3.0)

    def embed_query(self, text: str) -> np.ndarray | None:
        if self.embedder is None:
            return None
        vector: np.ndarray = self.embedder.query([text])[0]
        return vector

    def retrieve(self, text: str, qvec: np.ndarray | None = None) -> Retrieval:
        """Every service's scores for one question (embedded here unless `qvec` is given)."""
        if qvec is None:
            qvec = self.embed_query(text)
        bm25 = self._bm25.scores(text)
        bm25_catalog = self._bm25_catalog.scores(text)
        if qvec is None or self._vectors is None:
            zeros = np.zeros(len(self.service_ids), dtype=np.float32)
            return Retrieval(
                list(self.service_ids),
                bm25,
                bm25_catalog,
                zeros,
                zeros,
                zeros,
                zeros,
                [-1] * len(self.service_ids),
            )
        return self._dense(text, qvec, bm25, bm25_catalog)

    def _dense(
        self, text: str, qvec: np.ndarray, bm25: np.ndarray, bm25_catalog: np.ndarray
    ) -> Retrieval:
        assert self._vectors is not None
        with _blas().limit(limits=1):
            products = self._vectors @ qvec.astype(np.float32)
        cosines = np.append(products, np.float32(-np.inf))
        grid = cosines[self._table]  # (services, longest); padding is -inf
        best = grid.argmax(axis=1)
        dense_max = grid.max(axis=1)
        top3 = -np.partition(-grid, min(2, grid.shape[1] - 1), axis=1)[:, :3]
        top3_mean = np.where(np.isfinite(top3), top3, 0.0).sum(axis=1) / self._counts
        return Retrieval(
            service_ids=list(self.service_ids),
            bm25=bm25,
            bm25_catalog=bm25_catalog,
            dense_max=dense_max,
            dense_catalog=_finite_max(grid, self._catalog_mask),
            dense_terms=_finite_max(grid, self._terms_mask),
            dense_top3=top3_mean.astype(np.float32),
            best_passage=[int(self._table[row, col]) for row, col in enumerate(best)],
        )


@cache
def _blas() -> Any:
    """numpy's BLAS, to run the one matrix-vector product per question on this thread: on a
    busy server, waking BLAS's sleeping helper threads took 20 ms for a 0.3 ms product."""
    return ThreadpoolController().select(user_api="blas")


def _finite_max(grid: np.ndarray, mask: np.ndarray) -> np.ndarray:
    masked = np.where(mask, grid, -np.inf).max(axis=1)
    out: np.ndarray = np.where(np.isfinite(masked), masked, 0.0).astype(np.float32)
    return out


def _joined(passages: Sequence[Passage], fields: frozenset[str] | None = None) -> str:
    return "\n".join(p.text for p in passages if fields is None or p.field in fields)


def ordered(passages_by_service: dict[str, list[Passage]]) -> list[Passage]:
    """All passages, service by service in the order of their ids."""
    return [p for sid in sorted(passages_by_service) for p in passages_by_service[sid]]


def build(session: Session, embedder: Embedder | None) -> HybridIndex:
    """A fresh index of the current catalog; passages without a cached vector get one now."""
    services = {svc.id: svc for svc in catalog_service.list_services(session)}
    by_service = {sid: service_passages(svc) for sid, svc in services.items()}
    vectors = None
    if embedder is not None:
        texts = [embedding_text(services[p.service_id], p) for p in ordered(by_service)]
        vectors = vectors_for(session, embedder, texts)
    return HybridIndex(by_service, embedder, vectors)


_INDEXES: dict[tuple[Any, ...], HybridIndex] = {}
_BUILDS: dict[tuple[Any, ...], threading.Lock] = {}
_LOCK = threading.Lock()  # guards the two dicts only, never a build
_KEEP = 4


def hybrid_index(
    session: Session, embedder: Embedder | None, catalog: tuple[Any, ...] | None = None
) -> HybridIndex:
    """The index of the current catalog; rebuilt only when services or terms changed.
    `catalog` is the caller's `catalog_service.fingerprint` if it has asked already. A build
    (the model embeds a changed service's new sentences) holds only its catalog's lock: one
    thread builds, the others asking about the same catalog wait for it, the rest go on."""
    key = (catalog or catalog_service.fingerprint(session), embedder.name if embedder else None)
    with _LOCK:
        index = _INDEXES.get(key)
        if index is not None:
            return index
        building = _BUILDS.setdefault(key, threading.Lock())
    try:
        with building:
            with _LOCK:
                index = _INDEXES.get(key)
            if index is None:
                index = build(session, embedder)
                with _LOCK:
                    while len(_INDEXES) >= _KEEP:  # an older catalog's index is hardly asked again
                        del _INDEXES[next(iter(_INDEXES))]
                    _INDEXES[key] = index
            return index
    finally:
        with _LOCK:
            _BUILDS.pop(key, None)
