"""The passages' embeddings, cached in the database by model and text (content-addressed).

A text is embedded once per model: the row's key is the model's name and the sha256 of the text,
so a changed service text simply misses the cache and is computed on the next index build, an
unchanged one never again. `servicepoint seed` and `servicepoint assistant reindex` fill the
cache for the whole catalog ahead of time and drop the rows of texts the catalog no longer has.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import numpy as np
from sqlalchemy import LargeBinary, String, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from servicepoint.assistant.embedding import Embedder
from servicepoint.assistant.passages import embedding_text, service_passages
from servicepoint.catalog import service as catalog_service
from servicepoint.core.clock import utcnow
from servicepoint.core.db import Base, table

BATCH = 32  # texts per call of the model: a progress step of about a second
_CHUNK = 500  # keys per IN (...) and rows per INSERT, well below every database's limits

Progress = Callable[[int, int], None]
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


def _stored(session: Session, embedder: Embedder, digests: Sequence[str]) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    for chunk in _chunks(digests, _CHUNK):
        rows = session.execute(
            select(PassageVector.digest, PassageVector.vector).where(
                PassageVector.model == embedder.name, PassageVector.digest.in_(chunk)
            )
        )
        for key, blob in rows:
            vector = np.frombuffer(blob, dtype=np.float32)
            if vector.size == embedder.dim:  # else another model under the same name: redo
                found[key] = vector
    return found


def _store(session: Session, embedder: Embedder, vectors: dict[str, np.ndarray]) -> None:
    """Insert, leaving rows alone that another process stored meanwhile (same text, same
    vector); a row of the wrong size is replaced."""
    if not vectors:
        return
    session.execute(
        delete(PassageVector).where(
            PassageVector.model == embedder.name, PassageVector.digest.in_(list(vectors))
        )
    )
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    rows = [
        {"model": embedder.name, "digest": key, "vector": vector.tobytes(), "created_at": now}
        for key, vector in vectors.items()
    ]
    for chunk in _chunks(rows, _CHUNK):
        session.execute(insert(table(PassageVector)).values(list(chunk)).on_conflict_do_nothing())


# Vectors this process has seen, by (model, digest): a few MB for a city's catalog.
_MEMORY: dict[tuple[str, str], np.ndarray] = {}
_MEMORY_LIMIT = 50_000  # about 75 MB of 384-d vectors; beyond it the memory starts over


def _remember(model: str, vectors: dict[str, np.ndarray]) -> None:
    if len(_MEMORY) + len(vectors) > _MEMORY_LIMIT:
        _MEMORY.clear()
    _MEMORY.update(((model, key), vector) for key, vector in vectors.items())


def _compute(
    session: Session,
    embedder: Embedder,
    texts: dict[str, str],
    progress: Progress | None,
) -> dict[str, np.ndarray]:
    """Embed the texts (digest → text) in batches, storing each batch as it is done."""
    keys = list(texts)
    out: dict[str, np.ndarray] = {}
    if progress:
        progress(0, len(keys))
    for batch in _chunks(keys, BATCH):
        matrix = embedder.passage([texts[key] for key in batch]).astype(np.float32)
        computed = dict(zip(batch, matrix, strict=True))
        _store(session, embedder, computed)
        out.update(computed)
        if progress:
            progress(len(out), len(keys))
    return out


def _ensure(
    session: Session, embedder: Embedder, texts: Sequence[str], progress: Progress | None
) -> tuple[np.ndarray, int]:
    keys = [digest(text) for text in texts]
    unique = dict(zip(keys, texts, strict=True))
    found = _stored(session, embedder, list(unique))
    missing = {key: text for key, text in unique.items() if key not in found}
    # Another database of this process (a second worker's test database, a fresh copy) may
    # have had them computed already: store those instead of computing them again.
    known = {k: v for k in missing if (v := _MEMORY.get((embedder.name, k))) is not None}
    _store(session, embedder, known)
    found.update(known)
    missing = {key: text for key, text in missing.items() if key not in known}
    found.update(_compute(session, embedder, missing, progress))
    _remember(embedder.name, found)
    matrix = np.zeros((len(keys), embedder.dim), dtype=np.float32)
    for row, key in enumerate(keys):
        matrix[row] = found[key]
    return matrix, len(missing)


def vectors_for(session: Session, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """(len(texts), dim) passage vectors; those not cached yet are computed and stored."""
    matrix, _ = _ensure(session, embedder, texts, None)
    return matrix


def catalog_texts(session: Session) -> list[str]:
    """What the model embeds of every passage of the current catalog, each text once."""
    services = catalog_service.list_services(session)
    texts = (embedding_text(svc, p) for svc in services for p in service_passages(svc))
    return list(dict.fromkeys(texts))


def refresh(session: Session, embedder: Embedder, progress: Progress | None = None) -> int:
    """Embed every passage of the catalog that has no vector yet and delete this model's rows
    of texts the catalog no longer has; returns how many texts were computed."""
    texts = catalog_texts(session)
    _, computed = _ensure(session, embedder, texts, progress)
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
    return computed
