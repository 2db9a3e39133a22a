"""Catalog search: pure unit tests on a hand-made index, then ranking on the real catalog."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.search import (
    SearchDoc,
    SearchIndex,
    analyse,
    build_index,
    fold,
    lemma,
    words,
)
from tests.conftest import DATA_DIR

DOCS = [
    SearchDoc(
        "pa",
        ("Personalausweis beantragen", "Apply for an identity card"),
        keywords=["Perso", "Verlängerung"],
        examples=["Mein Perso läuft ab"],
        summaries=("Ein neuer Ausweis", "A new ID card"),
    ),
    SearchDoc("rp", ("Reisepass beantragen", "Apply for a passport"), keywords=["Pass"]),
    SearchDoc("hund", ("Hund anmelden", "Register a dog"), keywords=["Hundesteuer", "dog tax"]),
    SearchDoc(
        "fz",
        ("Führungszeugnis beantragen", "Certificate of good conduct"),
        keywords=["criminal record certificate", "polizeiliches Führungszeugnis"],
    ),
    SearchDoc(
        "wa",
        ("Wohnsitz anmelden", "Register your address"),
        keywords=["Ummeldung", "Meldezettel", "Umzug"],
    ),
]


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return build_index(DOCS)


def top(index: SearchIndex, query: str) -> str | None:
    hits = index.search(query)
    return hits[0].id if hits else None


# -- fold, lemma, tokens --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Reisepaß", "reisepass"),
        ("Führungszeugnis", "fuehrungszeugnis"),
        ("ÄÖÜäöüß", "aeoeueaeoeuess"),
        ("Café", "cafe"),
        ("PERSO", "perso"),
    ],
)
def test_fold_lowercases_and_spells_out_umlauts(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_fold_makes_both_spellings_meet() -> None:
    assert fold("Reisepaß") == fold("Reisepass") == fold("REISEPASS")
    assert fold("Personalausweiß") == fold("personalausweiss")


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Ausweise", "ausweis"),  # German plural noun (tried capitalised)
        ("Anmeldungen", "anmeldung"),
        ("Hunde", "hund"),
        ("passports", "passport"),  # English plural
        ("Führungszeugnisse", "fuehrungszeugnis"),  # lemma comes out folded
    ],
)
def test_lemma_reduces_inflected_forms_and_folds(word: str, expected: str) -> None:
    assert lemma(word) == expected


def test_words_splits_on_punctuation_but_keeps_umlauts() -> None:
    assert words("Perso? Führungs-zeugnis, bitte_jetzt!") == [
        "Perso",
        "Führungs",
        "zeugnis",
        "bitte",
        "jetzt",
    ]


def test_analyse_drops_stopwords_and_short_words_and_adds_lemmas() -> None:
    tokens = analyse("Der Reisepass und die Ausweise, a b")
    assert "der" not in tokens and "und" not in tokens and "die" not in tokens
    assert "a" not in tokens and "b" not in tokens
    assert tokens == ["reisepass", "ausweise", "ausweis"]


def test_names_and_citizen_words_weigh_more_than_summaries_and_examples() -> None:
    doc = SearchDoc("x", ("Alpha",), keywords=["Beta"], examples=["Delta"], summaries=("Gamma",))
    tokens = doc.tokens()
    assert tokens.count("gamma") == tokens.count("delta") == 1
    assert tokens.count("alpha") >= tokens.count("beta") > 1


def test_phrases_are_folded_multi_and_single_word_texts() -> None:
    doc = SearchDoc("x", ("Führungszeugnis beantragen",), keywords=["dog tax", "Perso"])
    assert doc.phrases() == ["fuehrungszeugnis beantragen", "dog tax", "perso"]


# -- query expansion ------------------------------------------------------------------------------
def test_known_word_expands_to_itself(index: SearchIndex) -> None:
    assert index.expand("Reisepass") == ["reisepass"]


def test_stopwords_and_one_letter_words_expand_to_nothing(index: SearchIndex) -> None:
    assert index.expand("der") == []
    assert index.expand("x") == []
    assert index.query_terms("Ich brauche einen neuen Reisepass") == ["neu", "reisepass"]


def test_compound_is_split_into_known_parts(index: SearchIndex) -> None:
    assert index.expand("Personalausweisverlängerung") == ["personalausweis", "verlaengerung"]


def test_a_known_head_with_a_loosely_guessed_tail_is_no_compound() -> None:
    # "bettlägerig" is not "Bett" + "länger": a fuzzy tail must be a near-certain slip.
    docs = [SearchDoc("sm", ("Sperrmüll anmelden", "Bulky waste"), keywords=["Bett", "länger"])]
    assert build_index(docs).expand("bettlägerig") == []
    assert build_index(docs).expand("Bettlängr") == ["bett", "laenger"]


def test_a_loose_match_sharing_only_the_last_part_is_that_part() -> None:
    # "Fahrprüfung" is a Prüfung, not a misspelt "Fischerprüfung"; a real slip still matches.
    docs = [
        SearchDoc("fs", ("Fischereischein", "Fishing licence"), keywords=["Fischerprüfung"]),
        SearchDoc("fe", ("Führerschein", "Driving licence"), keywords=["Prüfung"]),
    ]
    index = build_index(docs)
    assert index.expand_kind("Fahrprüfung") == (["pruefung"], "head")
    assert index.expand_kind("Fischerprüfnug")[0] == ["fischerpruefung"]


def test_a_service_compound_also_speaks_of_its_parts() -> None:
    # "Umzug ins Ausland" spells apart what the catalog wrote as "Auslandsumzug".
    docs = [
        SearchDoc("ab", ("Wohnsitz abmelden", "Deregister"), keywords=["Auslandsumzug", "Ausland"]),
        SearchDoc("an", ("Wohnsitz anmelden", "Register"), keywords=["Umzug"]),
    ]
    index = build_index(docs)
    assert index.search("abmelden Umzug ins Ausland")[0].id == "ab"
    assert "umzug" in index.doc_terms[0]
    # ... without making the parts look common: "umzug" stays a word of one service
    assert index.idf("umzug") == index.max_idf


def test_a_word_of_its_own_is_no_slip() -> None:
    # "Krankenhaus" is a German word, not a misspelt "Krankenkasse"; "Krankenkase" is a slip.
    index = build_index([SearchDoc("kk", ("Krankenkasse wechseln", "Change health insurer"))])
    assert index.expand_kind("Krankenhaus")[1] != "fuzzy"
    assert index.expand("Krankenkase") == ["krankenkasse"]


def test_a_word_of_its_own_is_no_close_slip_unless_inflected() -> None:
    # "tauschen" is not a misspelt "Tasche", however close; "verlorenen" is "verloren" inflected.
    docs = [SearchDoc("fu", ("Fundsache melden", "Lost property"), ["Tasche verloren"])]
    index = build_index(docs)
    assert index.expand_kind("tauschen")[1] != "fuzzy"
    assert index.expand("verlorenen") == ["verloren"]
    assert index.expand("Tashe") == ["tasche"]


def test_compound_with_linking_s_is_split(index: SearchIndex) -> None:
    # "Hundesteuer" is known as a whole; "Reisepassverlängerung" needs the split.
    assert index.expand("Reisepassverlängerung") == ["reisepass", "verlaengerung"]


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("Reisepas", "reisepass"),
        ("Reisepaß", "reisepass"),
        ("Persnalausweis", "personalausweis"),
        ("Fürungszeugnis", "fuehrungszeugnis"),
        ("Hundesteur", "hundesteuer"),
    ],
)
def test_typos_are_matched_to_a_near_known_spelling(
    index: SearchIndex, typo: str, meant: str
) -> None:
    assert index.expand(typo) == [meant]


def test_a_slip_in_an_example_question_does_not_hide_the_catalog_word() -> None:
    # Example questions are citizens' writing: a misspelt one must not make the slip a word of
    # its own that the real word's typo tolerance then never reaches.
    docs = [*DOCS[:3], SearchDoc(**{**DOCS[3].__dict__, "examples": ["fürungszeugnis für job"]})]
    with_slip = build_index(docs)
    assert with_slip.expand("fürungszeugnis")[0] == "fuehrungszeugnis"
    assert top(with_slip, "wie lange dauert fürungszeugnis") == "fz"
    # a different slip closest to the example's slip also means the catalog's word
    assert with_slip.expand("fürungszeugniss")[0] == "fuehrungszeugnis"
    assert with_slip.spelled("fürungszeugniss kosten") == "fuehrungszeugnis kosten"
    # words the catalog itself spells stay as they are
    assert with_slip.expand("Führungszeugnis") == ["fuehrungszeugnis"]


def test_short_unknown_words_are_not_fuzzy_matched(index: SearchIndex) -> None:
    # Three letters are too few to guess from: "pas" must not become "pass" or "passport".
    assert index.expand("pas") == []


def test_clipped_word_completes_to_known_terms(index: SearchIndex) -> None:
    # Too far from any whole word for the fuzzy match, but the start of a known one.
    assert index.expand("Hundest") == ["hundesteuer"]
    assert index.expand("Meldez") == ["meldezettel"]


def test_gibberish_expands_to_nothing(index: SearchIndex) -> None:
    assert index.expand("xyzzyq") == []
    assert index.search("xyzzyq") == []


def test_expansion_cache_gives_the_same_answer(index: SearchIndex) -> None:
    first = index.expand("Reisepas")
    assert index.expand("reisepas") == first  # same folded key, served from the cache


# -- ranking on the small index -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("perso", "pa"),
        ("Personalausweiß", "pa"),
        ("Personalausweisverlängerung", "pa"),
        ("Reisepas", "rp"),
        ("Reisepaß", "rp"),
        ("passport", "rp"),
        ("passports", "rp"),
        ("dog tax", "hund"),
        ("Hundesteuer", "hund"),
        ("criminal record certificate", "fz"),
        ("Meldezettel", "wa"),
        ("Ummeldung nach Umzug", "wa"),
        ("Mein Perso läuft ab", "pa"),
    ],
)
def test_small_index_ranks_the_right_doc_first(
    index: SearchIndex, query: str, expected: str
) -> None:
    assert top(index, query) == expected


def test_results_are_sorted_best_first_and_limited(index: SearchIndex) -> None:
    hits = index.search("beantragen", limit=2, min_score=0.0)
    assert len(hits) == 2
    assert hits[0].score >= hits[1].score
    all_hits = [h for h in index.search("beantragen", limit=10, min_score=0.0) if h.score > 0]
    assert [h.score for h in all_hits] == sorted((h.score for h in all_hits), reverse=True)
    assert {h.id for h in all_hits} == {"pa", "rp", "fz"}


def test_common_word_alone_is_below_the_default_threshold(index: SearchIndex) -> None:
    # "beantragen" is in most names: on its own it is no evidence for any one service.
    assert index.search("beantragen") == []


HUND = [d.id for d in DOCS].index("hund")


def test_query_equal_to_a_citizen_word_gets_the_strongest_bonus(index: SearchIndex) -> None:
    exact = index.scores("dog tax")[HUND]
    same_words = index.scores("tax dog")[HUND]  # same BM25 terms, neither exact nor a phrase
    assert exact == pytest.approx(same_words * 1.6)


def test_query_containing_a_multi_word_phrase_gets_a_bonus(index: SearchIndex) -> None:
    contained = index.scores("pay dog tax now")[HUND]
    same_words = index.scores("pay tax dog now")[HUND]
    assert contained == pytest.approx(same_words * 1.3)


def test_empty_and_stopword_only_queries_find_nothing(index: SearchIndex) -> None:
    assert index.search("") == []
    assert index.search("   ") == []
    assert index.search("der die das und") == []
    assert index.search("?!…") == []


def test_min_score_filters_weak_hits(index: SearchIndex) -> None:
    assert index.search("Reisepass", min_score=1000.0) == []


def test_empty_index_and_doc_without_text_do_not_break() -> None:
    idx = build_index([SearchDoc("empty", ()), *DOCS[:1]])
    assert top(idx, "perso") == "pa"
    assert all(h.id != "empty" for h in idx.search("beantragen"))


# -- ranking on the real catalog ------------------------------------------------------------------
def _has(slug_fragment: str) -> bool:
    return any((DATA_DIR / "services").glob(f"*{slug_fragment}*.yaml"))


def top_names(session: Session, query: str, n: int = 1) -> list[str]:
    return [
        svc.name_de
        for svc, _ in catalog_service.search_services(session, query=query, limit=max(n, 3))
    ][:n]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("perso", "Personalausweis beantragen"),
        ("Perso verlängern", "Personalausweis beantragen"),
        ("Personalausweiß", "Personalausweis beantragen"),
        ("Personalausweisverlängerung", "Personalausweis beantragen"),
        ("Reisepas", "Reisepass beantragen"),
        ("Reisepaß", "Reisepass beantragen"),
        ("ummelden", "Wohnsitz anmelden (Zuzug oder Umzug)"),
        ("Meldezettel", "Wohnsitz anmelden (Zuzug oder Umzug)"),
        ("Umzug innerhalb Hannover", "Wohnsitz anmelden (Zuzug oder Umzug)"),
        ("Führungszeugnis", "Führungszeugnis beantragen"),
        ("Fürungszeugnis", "Führungszeugnis beantragen"),
        ("Hundesteuer", "Hund anmelden oder abmelden (Hundesteuer)"),
        ("Briefwahl", "Briefwahl beantragen"),
        ("Ausweis verloren", "Verlust oder Diebstahl eines Ausweisdokuments melden"),
        ("Perso weg", "Verlust oder Diebstahl eines Ausweisdokuments melden"),
        ("Pass abgelaufen", "Reisepass beantragen"),
        ("Kinderreisepass", "Reisepass beantragen"),
        ("vorläufiger Personalausweis", "Vorläufigen Personalausweis beantragen"),
        ("Ersatzausweis", "Vorläufigen Personalausweis beantragen"),
        ("eID PIN vergessen", "Online-Ausweisfunktion: PIN zurücksetzen oder aktivieren"),
        ("Abmeldung", "Wohnsitz abmelden"),
        ("wegziehen ins Ausland", "Wohnsitz abmelden"),
        ("Zweitwohnsitz", "Nebenwohnung an- oder abmelden"),
        ("Meldebescheinigung", "Meldebescheinigung beantragen"),
        ("Melderegisterauskunft", "Einfache Melderegisterauskunft beantragen"),
        ("Auskunftssperre", "Auskunftssperre im Melderegister beantragen"),
        ("Widerspruch Datenweitergabe Bundeswehr", "Übermittlungssperren einrichten"),
        ("Gewerbezentralregister", "Auskunft aus dem Gewerbezentralregister beantragen"),
        ("Urkunde beglaubigen", "Amtliche Beglaubigung von Dokumenten und Unterschriften"),
        ("Lebensbescheinigung Rente", "Lebensbescheinigung ausstellen lassen"),
        ("Parkausweis", "Bewohnerparkausweis beantragen"),
        ("Wahlschein", "Briefwahl beantragen"),
        ("Fundbüro", "Fundsache melden oder abholen"),
        ("Hund anmelden", "Hund anmelden oder abmelden (Hundesteuer)"),
        ("Gewerbeschein", "Gewerbe anmelden, ummelden oder abmelden"),
        ("Geburtsurkunde", "Geburtsurkunde beantragen"),
        ("Heiraten", "Eheschließung anmelden"),
        ("Sterbeurkunde", "Sterbefall beurkunden und Sterbeurkunde beantragen"),
        ("Austritt Kirche", "Kirchenaustritt erklären"),
        ("Auto anmelden", "Fahrzeug zulassen, ummelden oder abmelden"),
        ("Führerschein umtauschen", "Führerschein beantragen, umtauschen oder ersetzen"),
        ("Aufenthaltserlaubnis", "Aufenthaltstitel beantragen oder verlängern"),
        ("Wohngeld", "Wohngeld beantragen"),
        ("Einbürgerung", "Einbürgerung beantragen"),
        ("Schwerbehindertenausweis", "Schwerbehindertenausweis beantragen"),
        ("Sperrmüll", "Sperrmüll anmelden"),
    ],
)
def test_german_queries_rank_the_right_service_first(
    session: Session, query: str, expected: str
) -> None:
    assert top_names(session, query) == [expected]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("passport", "Reisepass beantragen"),
        ("criminal record certificate", "Führungszeugnis beantragen"),
        ("certificate of good conduct", "Führungszeugnis beantragen"),
        ("identity card", "Personalausweis beantragen"),
        ("dog tax", "Hund anmelden oder abmelden (Hundesteuer)"),
        ("postal vote", "Briefwahl beantragen"),
        ("I lost my ID card", "Verlust oder Diebstahl eines Ausweisdokuments melden"),
        ("temporary passport", "Vorläufigen Reisepass beantragen"),
        ("reset PIN", "Online-Ausweisfunktion: PIN zurücksetzen oder aktivieren"),
        ("I moved house", "Wohnsitz anmelden (Zuzug oder Umzug)"),
        ("register my address", "Wohnsitz anmelden (Zuzug oder Umzug)"),
        ("change of address", "Wohnsitz anmelden (Zuzug oder Umzug)"),
        ("second home", "Nebenwohnung an- oder abmelden"),
        ("parking permit", "Bewohnerparkausweis beantragen"),
        ("certify a copy", "Amtliche Beglaubigung von Dokumenten und Unterschriften"),
        ("life certificate", "Lebensbescheinigung ausstellen lassen"),
        ("lost property", "Fundsache melden oder abholen"),
        ("register a business", "Gewerbe anmelden, ummelden oder abmelden"),
        ("birth certificate", "Geburtsurkunde beantragen"),
        ("leave the church", "Kirchenaustritt erklären"),
        ("car registration", "Fahrzeug zulassen, ummelden oder abmelden"),
        ("driving licence", "Führerschein beantragen, umtauschen oder ersetzen"),
        ("residence permit", "Aufenthaltstitel beantragen oder verlängern"),
        ("housing benefit", "Wohngeld beantragen"),
        ("naturalisation", "Einbürgerung beantragen"),
        ("bulky waste", "Sperrmüll anmelden"),
    ],
)
def test_english_queries_rank_the_right_service_first(
    session: Session, query: str, expected: str
) -> None:
    assert top_names(session, query) == [expected]


@pytest.mark.skipif(not _has("fischereischein"), reason="Fischereischein data file not present")
@pytest.mark.parametrize("query", ["Angelschein", "Fischereischein", "fishing licence"])
def test_fishing_licence_by_its_colloquial_name(session: Session, query: str) -> None:
    assert top_names(session, query) == ["Fischereischein beantragen"]


def test_temporary_documents_rank_below_the_regular_one(session: Session) -> None:
    names = top_names(session, "Reisepass", n=2)
    assert names == ["Reisepass beantragen", "Vorläufigen Reisepass beantragen"]


def test_search_returns_service_rows_with_scores_best_first(session: Session) -> None:
    results = catalog_service.search_services(session, query="Ausweis", limit=5)
    assert 1 < len(results) <= 5
    scores = [hit.score for _, hit in results]
    assert scores == sorted(scores, reverse=True)
    assert all(svc.id == hit.id for svc, hit in results)


def test_nonsense_finds_nothing(session: Session) -> None:
    assert catalog_service.search_services(session, query="xyzzyq", limit=5) == []


def test_editor_term_is_found_after_it_is_added(session: Session) -> None:
    query = "Bürgerpapierdings"
    assert all(
        svc.id != "personalausweis"
        for svc, _ in catalog_service.search_services(session, query=query)
    )
    catalog_service.add_term(
        session, service_id="personalausweis", lang="de", kind="keyword", text=query
    )
    session.flush()
    assert top_names(session, query) == ["Personalausweis beantragen"]


def test_index_is_rebuilt_after_a_rolled_back_term_is_replaced(session: Session) -> None:
    # A term added and rolled back, then another added in its place, can get the same id and
    # leaves the same count: the cached index must still notice the change.
    nested = session.begin_nested()
    catalog_service.add_term(
        session, service_id="reisepass", lang="de", kind="keyword", text="Zwischenwortalpha"
    )
    assert top_names(session, "Zwischenwortalpha") == ["Reisepass beantragen"]
    nested.rollback()
    catalog_service.add_term(
        session, service_id="briefwahl", lang="de", kind="keyword", text="Zwischenwortbeta"
    )
    session.flush()
    assert top_names(session, "Zwischenwortbeta") == ["Briefwahl beantragen"]


def test_a_phrase_keeps_its_negation() -> None:
    idx = build_index([SearchDoc("temp", ("Temporary ID card",), ("ID card not ready",))])
    assert idx.phrase_words("my ID card isn't ready yet") == {"id", "card", "not", "ready"}
    assert idx.phrase_words("the ID card is not ready") == {"id", "card", "not", "ready"}
    assert idx.phrase_words("how long until my ID card is ready") == frozenset()
