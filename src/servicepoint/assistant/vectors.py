"""The passages' embeddings, cached in the database by model and text (content-addressed).

A text is embedded once per model: the row's key is the model's name and the sha256 of the text,
so a changed service text simply misses the cache and is computed on the next index build, an
unchanged one never again. `servicepoint seed` and `servicepoint assistant reindex` fill the
cache ahead of time with every text a question may need (the passages and the answer finder's
sentences), one committed batch at a time, and drop the rows of texts the catalog no longer has.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

import numpy as np
from sqlalchemy import LargeBinary, String, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from servicepoint.assistant import answers
from servicepoint.assistant.embedding import Embedder
from servicepoint.assistant.passages import embedding_text, service_passages
from servicepoint.catalog import service as catalog_service
from servicepoint.core.clock import utcnow
from servicepoint.core.db import Base, table

BATCH = 32  # texts per call of the model: a progress step of about a second
_CHUNK = 500  # keys per IN (...) and rows per INSERT, well below every database's limits

Progress = Callable[[int, int], None]
Commit = Callable[[], None]
T = TypeVar("T")


class PassageVector(Base):
    """One text's embedding by one model (float32 bytes, L2-normalised)."""

    __tablename__ = "passage_vector"

    model: Mapped[str] = mapped_column(String(120), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the text
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _stored(
    session: Session, embedder: Embedder, digests: Sequence[str]
) -> tuple[dict[str, np.ndarray], set[str]]:
    """The stored vectors of these digests, and the digests whose row has the wrong size
    (another model under the same name: computed again)."""
    found: dict[str, np.ndarray] = {}
    wrong: set[str] = set()
    for chunk in _chunks(digests, _CHUNK):
        rows = session.execute(
            select(PassageVector.digest, PassageVector.vector).where(
                PassageVector.model == embedder.name, PassageVector.digest.in_(chunk)
            )
        )
        for key, blob in rows:
            vector = np.frombuffer(blob, dtype=np.float32)
            if vector.size == embedder.dim:
                found[key] = vector
            else:
                wrong.add(key)
    return found, wrong


def _drop_wrong(session: Session, embedder: Embedder, digests: set[str]) -> None:
    """Delete rows of the wrong size only: a row of the right size may be one that another
    process has just stored, and stays."""
    size = embedder.dim * np.dtype(np.float32).itemsize
    for chunk in _chunks(sorted(digests), _CHUNK):
        session.execute(
            delete(PassageVector).where(
                PassageVector.model == embedder.name,
                PassageVector.digest.in_(chunk),
                func.length(PassageVector.vector) != size,
            )
        )


def _store(session: Session, embedder: Embedder, vectors: dict[str, np.ndarray]) -> None:
    """Insert, leaving rows alone that another process stored meanwhile (same text, same
    vector)."""
    if not vectors:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    rows = [
        {"model": embedder.name, "digest": key, "vector": vector.tobytes(), "created_at": now}
        for key, vector in vectors.items()
    ]
    for chunk in _chunks(rows, _CHUNK):
        session.execute(insert(table(PassageVector)).values(list(chunk)).on_conflict_do_nothing())


class _Memory:
    """Vectors this process has seen, by (model, digest), so that another database of the
    process (a test worker's, a fresh copy) gets them without the model: bounded, the least
    recently used go first, and safe for the request threads."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, model: str, keys: Iterable[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for key in keys:
                vector = self._items.get((model, key))
                if vector is not None:
                    self._items.move_to_end((model, key))
                    found[key] = vector
        return found

    def put(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        with self._lock:
            for key, vector in vectors.items():
                self._items[(model, key)] = vector
                self._items.move_to_end((model, key))
            while len(self._items) > self.limit:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


# About 75 MB of 384-d vectors at most; a city's catalog with its answer sentences is ~10,000.
_MEMORY = _Memory(50_000)


def _compute(
    session: Session,
    embedder: Embedder,
    texts: dict[str, str],
    progress: Progress | None,
    commit: Commit | None,
) -> dict[str, np.ndarray]:
    """Embed the texts (digest → text) in batches. Each batch is computed with no write open
    and then stored; with `commit`, in a transaction of its own, so that a running server's
    writes never wait for the model and an interrupt keeps every batch done."""
    keys = list(texts)
    out: dict[str, np.ndarray] = {}
    if progress:
        progress(0, len(keys))
    for batch in _chunks(keys, BATCH):
        matrix = embedder.passage([texts[key] for key in batch]).astype(np.float32)
        computed = dict(zip(batch, matrix, strict=True))
        _store(session, embedder, computed)
        if commit:
            commit()
        _MEMORY.put(embedder.name, computed)
        out.update(computed)
        if progress:
            progress(len(out), len(keys))
    return out


def _ensure(
    session: Session,
    embedder: Embedder,
    texts: Sequence[str],
    progress: Progress | None = None,
    commit: Commit | None = None,
) -> tuple[np.ndarray, int]:
    keys = [digest(text) for text in texts]
    unique = dict(zip(keys, texts, strict=True))
    found, wrong = _stored(session, embedder, list(unique))
    _drop_wrong(session, embedder, wrong)
    # Another database of this process (a second worker's test database, a fresh copy) may
    # have had them computed already: store those instead of computing them again.
    known = _MEMORY.get(embedder.name, (k for k in unique if k not in found))
    _store(session, embedder, known)
    if commit:  # ends the reading transaction too: the model's minutes run outside any
        commit()
    found.update(known)
    missing = {key: text for key, text in unique.items() if key not in found}
    found.update(_compute(session, embedder, missing, progress, commit))
    _MEMORY.put(embedder.name, found)
    matrix = np.zeros((len(keys), embedder.dim), dtype=np.float32)
    for row, key in enumerate(keys):
        matrix[row] = found[key]
    return matrix, len(missing)


def vectors_for(session: Session, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """(len(texts), dim) passage vectors; those not cached yet are computed and stored (in the
    caller's transaction: a request computes only the few texts of a changed service)."""
    matrix, _ = _ensure(session, embedder, texts)
    return matrix


def catalog_texts(session: Session) -> list[str]:
    """Every text the assistant ever embeds of the current catalog, each once: what retrieval
    embeds of every passage, and the sentences and variants the answer finder compares with
    a question."""
    texts: list[str] = []
    for svc in catalog_service.list_services(session):
        texts += (embedding_text(svc, p) for p in service_passages(svc))
        texts += answers.embedded_texts(svc.data)
    return list(dict.fromkeys(texts))


def refresh(
    session: Session,
    embedder: Embedder,
    progress: Progress | None = None,
    *,
    commit: Commit | None = None,
) -> int:
    """Embed every text of the catalog that has no vector yet and delete this model's rows
    of texts the catalog no longer has; returns how many texts were computed. `commit` (the
    session's commit, for a command) is called after each stored batch, so each write is short
    and the work done so far is kept."""
    texts = catalog_texts(session)
    _, computed = _ensure(session, embedder, texts, progress, commit)
    wanted = {digest(text) for text in texts}
    stored = session.scalars(
        select(PassageVector.digest).where(PassageVector.model == embedder.name)
    ).all()
    stale = sorted(set(stored) - wanted)
    for chunk in _chunks(stale, _CHUNK):
        session.execute(
            delete(PassageVector).where(
                PassageVector.model == embedder.name, PassageVector.digest.in_(chunk)
            )
        )
    if commit:
        commit()
    return computed
