"""The editors' loop: questions the assistant answered badly, kept without personal data,
grouped for staff, taught to a service, marked as another authority's, or ignored; and
deleted after the retention period."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from servicepoint.assistant import nlp
from servicepoint.assistant.dialogue import policy
from servicepoint.assistant.embedding import Embedder
from servicepoint.assistant.errors import QuestionNotFound
from servicepoint.assistant.models import LoggedQuestion
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.search import STOPWORDS, fold, lemma, words
from servicepoint.core.clock import utcnow
from servicepoint.core.i18n import N_

# How an editor settles a question besides teaching it: it is another authority's matter, or
# it is no question for the assistant at all (noise, a test, abuse).
SETTLED_AS = ("elsewhere", "ignored")

# Two questions are asked "the same" when the cosine distance of their meaning vectors (below)
# stays under this, for the average of two groups (average linkage). The small multilingual
# model puts any two German questions at a cosine of about 0.8-0.9, paraphrases at about 0.9
# and more, so on its own it separates little; the assistant's guess beside it (its best
# candidate, however unsure) joins paraphrases it read alike ("Wohnsitz anmelden" / "neu in
# Hannover, registrieren": combined cosine about 0.93) and parts look-alikes it read apart
# ("Wohnsitz" / "Wohngeld": about 0.45). 0.08 keeps those together and questions of one guess
# but another matter apart (raw cosine under 0.84), as questions without a shared guess unless
# nearly identical (raw cosine above 0.92).
MEANING_DISTANCE = 0.08
# Only the newest open questions are embedded (each once, then cached): older ones keep their
# word groups, so a long list never makes the page wait for the model.
MAX_EMBEDDED = 300
_VECTORS: dict[tuple[str, str], np.ndarray] = {}
_VECTORS_LOCK = threading.Lock()


def group_key(text: str) -> str:
    """Questions that differ only in form, order or spelling land in one group."""
    toks = sorted({lemma(w) for w in words(text) if len(fold(w)) > 2})
    return " ".join(toks)[:300] or fold(text)[:300]


def log_question(
    session: Session, *, text: str, lang: str, reason: str, guess: str | None, confidence: float
) -> None:
    clean = nlp.scrub(text)[:1000]
    session.add(
        LoggedQuestion(
            lang=lang,
            text=clean,
            group_key=group_key(clean),
            reason=reason,
            guess_service_id=guess,
            confidence=round(confidence, 3),
        )
    )


@dataclass(frozen=True)
class QuestionGroup:
    key: str
    count: int
    example: str
    reasons: list[str]
    guess_service_id: str | None
    last_at: dt.datetime
    ids: list[int]
    confidence: float = 0.0

    @property
    def suggested_service_id(self) -> str | None:
        """The guess, only where the assistant was sure enough to answer with it (the
        calibrated answer threshold) and no citizen called that answer unhelpful: a wrong
        service pre-selected is taught by one careless click."""
        if "unhelpful" in self.reasons or self.confidence < policy()["answer_threshold"]:
            return None
        return self.guess_service_id


def _group(rows: list[LoggedQuestion]) -> QuestionGroup:
    newest = rows[0]
    # The guess the assistant was surest of; it is pre-selected only when sure enough.
    surest = max(rows, key=lambda r: r.confidence)
    return QuestionGroup(
        newest.group_key,
        len(rows),
        newest.text,
        sorted({r.reason for r in rows}),
        surest.guess_service_id,
        newest.created_at,
        [r.id for r in rows],
        surest.confidence,
    )


def _embedded(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """The texts' query vectors, each computed once per model in this process."""
    with _VECTORS_LOCK:
        missing = sorted({t for t in texts if (embedder.name, t) not in _VECTORS})
        if missing:
            if len(_VECTORS) > 20 * MAX_EMBEDDED:
                _VECTORS.clear()
            vectors = embedder.query(missing)
            _VECTORS.update(((embedder.name, t), v) for t, v in zip(missing, vectors, strict=True))
        return np.stack([_VECTORS[(embedder.name, t)] for t in texts])


def meaning_vectors(embedder: Embedder, rows: Sequence[LoggedQuestion]) -> np.ndarray:
    """Per question its embedding beside its guessed service (one-hot, as much weight as the
    embedding), normalised."""
    guesses = sorted({r.guess_service_id for r in rows if r.guess_service_id})
    onehot = np.zeros((len(rows), len(guesses)), dtype=np.float32)
    for i, row in enumerate(rows):
        if row.guess_service_id:
            onehot[i, guesses.index(row.guess_service_id)] = 1.0
    joined = np.hstack([_embedded(embedder, [r.text for r in rows]), onehot])
    norms: np.ndarray = np.linalg.norm(joined, axis=1, keepdims=True)
    out: np.ndarray = joined / np.maximum(norms, 1e-9)
    return out


def _by_meaning(embedder: Embedder, rows: Sequence[LoggedQuestion]) -> list[int]:
    """A cluster number per question (agglomerative, average linkage over cosine distance)."""
    if len(rows) < 2:
        return [0] * len(rows)
    # Imported here: scikit-learn takes a second to load, and only this page needs it.
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(
        n_clusters=None,
        metric="cosine",
        linkage="average",
        distance_threshold=MEANING_DISTANCE,
    )
    return [int(label) for label in model.fit_predict(meaning_vectors(embedder, rows))]


def _clusters(
    rows: Sequence[LoggedQuestion], embedder: Embedder | None
) -> list[list[LoggedQuestion]]:
    """Open questions grouped by meaning (newest first in each group); by their word key
    without a model (backend "none") and beyond the newest MAX_EMBEDDED."""
    groups: dict[str, list[LoggedQuestion]] = {}
    embedded = list(rows[:MAX_EMBEDDED]) if embedder is not None else []
    labels = _by_meaning(embedder, embedded) if embedder is not None else []
    for row, label in zip(embedded, labels, strict=True):
        groups.setdefault(f"m{label}", []).append(row)
    for row in rows[len(embedded) :]:
        groups.setdefault(f"w{row.group_key}", []).append(row)
    return list(groups.values())


def _open_rows(session: Session) -> list[LoggedQuestion]:
    return list(
        session.scalars(
            select(LoggedQuestion)
            .where(LoggedQuestion.handled_at.is_(None))
            .order_by(LoggedQuestion.created_at.desc(), LoggedQuestion.id.desc())
            .limit(2000)
        ).all()
    )


def open_groups(
    session: Session, *, embedder: Embedder | None = None, limit: int = 200
) -> list[QuestionGroup]:
    """Open questions in groups of one meaning, the largest and newest first."""
    out = [_group(rows) for rows in _clusters(_open_rows(session), embedder)]
    out.sort(key=lambda g: (-g.count, -g.last_at.timestamp()))
    return out[:limit]


def _question(session: Session, question_id: int) -> LoggedQuestion:
    row = session.get(LoggedQuestion, question_id)
    if row is None:
        raise QuestionNotFound(N_("Diese Frage gibt es nicht."))
    return row


def _settle(
    session: Session,
    row: LoggedQuestion,
    handled_as: str,
    service_id: str | None,
    embedder: Embedder | None,
) -> None:
    """The whole group of the question (as the editor saw it) counts as handled, the same way."""
    now = utcnow()
    group = next((g for g in _clusters(_open_rows(session), embedder) if row in g), [row])
    for other in group:
        other.handled_at, other.handled_as, other.handled_service_id = now, handled_as, service_id


def teach(
    session: Session,
    *,
    question_id: int,
    service_id: str,
    kind: str,
    text: str | None = None,
    embedder: Embedder | None = None,
) -> None:
    """Attach a logged question (or an edited form of it) to a service as a citizen word or
    example; the whole group counts as handled. The search index is rebuilt on next use."""
    row = _question(session, question_id)
    term = nlp.scrub((text or row.text).strip())
    kind = "example" if kind == "example" else "keyword"
    # Words of an example the catalog does not know as a whole ("Flitzerschein", known at most
    # by its last part "Schein") carry the question; as citizen words they also find the
    # service when asked differently.
    if kind == "example":
        index = catalog_service.search_index(session)
        for word in nlp.content_words(nlp.without_personal_data(term), STOPWORDS):
            if len(word) >= 5 and index.expand_kind(word)[1] in ("none", "head"):
                catalog_service.add_term(
                    session, service_id=service_id, lang=row.lang, kind="keyword", text=word
                )
    catalog_service.add_term(session, service_id=service_id, lang=row.lang, kind=kind, text=term)
    _settle(session, row, "taught", service_id, embedder)


def settle(
    session: Session, *, question_id: int, handled_as: str, embedder: Embedder | None = None
) -> None:
    """Close a question's group without teaching: another authority's matter, or ignored."""
    row = _question(session, question_id)
    handled_as = handled_as if handled_as in SETTLED_AS else "ignored"
    _settle(session, row, handled_as, None, embedder)


def dismiss(session: Session, *, question_id: int) -> None:
    settle(session, question_id=question_id, handled_as="ignored")


def open_count(session: Session) -> int:
    stmt = select(func.count(LoggedQuestion.id)).where(LoggedQuestion.handled_at.is_(None))
    return int(session.scalar(stmt) or 0)


def purge_questions(
    session: Session, *, retention_days: int, now: dt.datetime | None = None
) -> int:
    """Delete logged questions older than the retention period, handled or not."""
    cutoff = (now or utcnow()) - dt.timedelta(days=retention_days)
    result = session.execute(delete(LoggedQuestion).where(LoggedQuestion.created_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
