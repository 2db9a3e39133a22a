"""The editors' loop: questions the assistant answered badly, kept without personal data,
grouped for staff, taught to a service, marked as another authority's, or ignored; and
deleted after the retention period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from servicepoint.assistant import nlp
from servicepoint.assistant.dialogue import policy
from servicepoint.assistant.errors import QuestionNotFound
from servicepoint.assistant.models import LoggedQuestion
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.search import STOPWORDS, fold, lemma, words
from servicepoint.core.clock import utcnow
from servicepoint.core.i18n import N_

# How an editor settles a question besides teaching it: it is another authority's matter, or
# it is no question for the assistant at all (noise, a test, abuse).
SETTLED_AS = ("elsewhere", "ignored")


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


def _group(key: str, rows: list[LoggedQuestion]) -> QuestionGroup:
    newest = rows[0]
    return QuestionGroup(
        key,
        len(rows),
        newest.text,
        sorted({r.reason for r in rows}),
        newest.guess_service_id,
        newest.created_at,
        [r.id for r in rows],
        newest.confidence,
    )


def open_groups(session: Session, *, limit: int = 200) -> list[QuestionGroup]:
    rows = session.scalars(
        select(LoggedQuestion)
        .where(LoggedQuestion.handled_at.is_(None))
        .order_by(LoggedQuestion.created_at.desc())
        .limit(2000)
    ).all()
    groups: dict[str, list[LoggedQuestion]] = {}
    for row in rows:
        groups.setdefault(row.group_key, []).append(row)
    out = [_group(k, v) for k, v in groups.items()]
    out.sort(key=lambda g: (-g.count, -g.last_at.timestamp()))
    return out[:limit]


def _question(session: Session, question_id: int) -> LoggedQuestion:
    row = session.get(LoggedQuestion, question_id)
    if row is None:
        raise QuestionNotFound(N_("Diese Frage gibt es nicht."))
    return row


def _settle(session: Session, row: LoggedQuestion, handled_as: str, service_id: str | None) -> None:
    """The whole group of the question counts as handled, the same way."""
    now = utcnow()
    for other in session.scalars(
        select(LoggedQuestion).where(
            LoggedQuestion.group_key == row.group_key, LoggedQuestion.handled_at.is_(None)
        )
    ):
        other.handled_at, other.handled_as, other.handled_service_id = now, handled_as, service_id


def teach(
    session: Session, *, question_id: int, service_id: str, kind: str, text: str | None = None
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
    _settle(session, row, "taught", service_id)


def settle(session: Session, *, question_id: int, handled_as: str) -> None:
    """Close a question's group without teaching: another authority's matter, or ignored."""
    row = _question(session, question_id)
    _settle(session, row, handled_as if handled_as in SETTLED_AS else "ignored", None)


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
