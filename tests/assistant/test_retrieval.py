"""Hybrid retrieval: char-n-gram BM25 and the real multilingual model over catalog passages."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy.orm import Session

from servicepoint.assistant import retrieval
from servicepoint.assistant.passages import (
    MAX_CHARS,
    Passage,
    embedding_text,
    sentences,
    service_passages,
)
from servicepoint.assistant.retrieval import HybridIndex, char_bm25, char_ngrams, hybrid_index
from tests.assistant.embedding_support import SUBSET, memo_model, subset_services


@pytest.fixture(scope="module")
def index() -> HybridIndex:
    """The SUBSET's own texts (no keywords, no examples: a city's bare catalog)."""
    services = subset_services()
    by_service = {svc.id: service_passages(svc) for svc in services}
    owner = {svc.id: svc for svc in services}
    model = memo_model()
    texts = [embedding_text(owner[p.service_id], p) for p in retrieval.ordered(by_service)]
    return HybridIndex(by_service, model, model.passage(texts))


def _top(result: retrieval.Retrieval, scores: np.ndarray, n: int) -> list[str]:
    return [result.service_ids[i] for i in np.argsort(-scores)[:n]]


@pytest.mark.parametrize(
    "question",
    [
        "Ich ziehe nach Hannover",
        "I am moving to Hannover",
        "Hannover'a taşınıyorum",  # Turkish: no word of it is in the catalog
    ],
)
def test_moving_to_the_city_finds_the_registration(index: HybridIndex, question: str) -> None:
    result = index.retrieve(question)
    assert "wohnsitz-anmelden" in _top(result, result.dense_max, 3)


@pytest.mark.parametrize(
    ("question", "service"),
    [
        ("wir wollen heiraten", "eheschliessung"),
        ("We would like to get married", "eheschliessung"),
        ("Evlenmek istiyoruz", "eheschliessung"),
        ("Ich möchte deutscher Staatsbürger werden", "einbuergerung"),
    ],
)
def test_the_dense_half_understands_other_words_and_languages(
    index: HybridIndex, question: str, service: str
) -> None:
    result = index.retrieve(question)
    assert _top(result, result.dense_max, 1) == [service]


def test_the_arrays_line_up_with_the_services(index: HybridIndex) -> None:
    result = index.retrieve("Reisepass verloren, was nun?")
    assert result.service_ids == index.service_ids == sorted(SUBSET)
    n = len(SUBSET)
    for scores in (
        result.bm25,
        result.bm25_catalog,
        result.dense_max,
        result.dense_catalog,
        result.dense_terms,
        result.dense_top3,
    ):
        assert scores.shape == (n,)
    assert np.allclose(result.dense_catalog, result.dense_max)  # a bare catalog: no terms
    assert not result.dense_terms.any()
    assert (result.dense_top3 <= result.dense_max + 1e-6).all()
    for sid, best in zip(result.service_ids, result.best_passage, strict=True):
        assert index.passages[best].service_id == sid
    assert np.array_equal(result.bm25, result.bm25_catalog)
    # the question's vector may come from the caller (embedded once per request)
    qvec = index.embed_query("Reisepass verloren, was nun?")
    assert qvec is not None
    assert np.allclose(
        index.retrieve("Reisepass verloren, was nun?", qvec).dense_max, result.dense_max
    )


def test_char_ngrams_are_folded_and_padded() -> None:
    grams = char_ngrams("Reisepaß!")
    assert grams[:3] == [" re", "rei", "eis"]
    assert " reis" in grams and "ass " in grams and "pass " in grams
    assert char_ngrams("a") == [" a "]
    assert char_ngrams("?!") == []


def test_char_bm25_tolerates_typos_and_inflection() -> None:
    bm25 = char_bm25(["Reisepass beantragen", "Hund anmelden und Hundesteuer", "Wohngeld"])
    assert int(np.argmax(bm25.scores("reisepas beantrgen"))) == 0
    assert int(np.argmax(bm25.scores("Hundes"))) == 1
    assert not bm25.scores("xyzzy").any()
    assert char_bm25([]).scores("Wohngeld").shape == (0,)


def test_keywords_count_in_bm25_but_not_in_its_catalog_half() -> None:
    by_service = {
        "a": [Passage("a", "name", "de", "Reisepass beantragen")],
        "b": [
            Passage("b", "name", "de", "Fundsache melden"),
            Passage("b", "keyword", "de", "Portemonnaie"),
        ],
    }
    result = HybridIndex(by_service, None, None).retrieve("Portemonnaie")
    assert result.bm25[1] > 0 and result.bm25[0] == 0
    assert not result.bm25_catalog.any()


def test_without_a_model_the_dense_scores_are_zero(session: Session) -> None:
    index = hybrid_index(session, None)
    assert index.embed_query("Reisepass") is None
    result = index.retrieve("Reisepass beantragen")
    assert _top(result, result.bm25, 1) == ["reisepass"]
    for scores in (result.dense_max, result.dense_catalog, result.dense_terms, result.dense_top3):
        assert not scores.any()
    assert result.best_passage == [-1] * len(result.service_ids)
    assert hybrid_index(session, None) is index  # one build per catalog


def test_sentences_know_abbreviations_in_both_languages() -> None:
    de = "Bitte bringen Sie z. B. den Ausweis mit. Nr. 5 gilt ggf. auch für Kinder. Als PDF. Gut."
    assert sentences(de) == [
        "Bitte bringen Sie z. B. den Ausweis mit.",
        "Nr. 5 gilt ggf. auch für Kinder.",
        "Als PDF.",
        "Gut.",
    ]
    assert sentences("Bring e.g. your ID card. Mr. Smith helps.", "en") == [
        "Bring e.g. your ID card.",
        "Mr. Smith helps.",
    ]
    assert sentences("  ") == []


def test_a_long_sentence_is_cut_to_fit_the_model() -> None:
    long = "; ".join(["Ein Satzteil mit einigen Wörtern darin"] * 40) + "."
    pieces = sentences(long)
    assert len(pieces) > 1 and all(len(p) <= MAX_CHARS for p in pieces)
    assert " ".join(pieces) == long
