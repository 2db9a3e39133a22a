"""Matching on the real seeded catalog: which service a message is about, and how sure we are."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from servicepoint.assistant import matcher, reading
from servicepoint.assistant.dialogue import State, decide, policy
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.search import SearchIndex
from servicepoint.config import DATA_ROOT
from servicepoint.core.city import elsewhere_topics, elsewhere_words, place_names

PERSONALAUSWEIS = "Personalausweis beantragen"
REISEPASS = "Reisepass beantragen"
ANMELDEN = "Wohnsitz anmelden (Zuzug oder Umzug)"
FISCHEREI = "Fischereischein beantragen"
FUEHRERSCHEIN = "Führerschein beantragen, umtauschen oder ersetzen"
FUEHRUNGSZEUGNIS = "Führungszeugnis beantragen"
HUNDESTEUER = "Hund anmelden oder abmelden (Hundesteuer)"


def top(index: SearchIndex, names: dict[str, str], text: str) -> str | None:
    best = matcher.match(index, text).best
    return names[best.service_id] if best else None


FAHRZEUG = "Fahrzeug zulassen, ummelden oder abmelden"
GEWERBE = "Gewerbe anmelden, ummelden oder abmelden"
AUFENTHALT = "Aufenthaltstitel beantragen oder verlängern"
VERLUST = "Verlust oder Diebstahl eines Ausweisdokuments melden"

COLLOQUIAL = [
    ("Mein Perso ist abgelaufen, was nun?", PERSONALAUSWEIS),
    ("perso weg neuer muss her", PERSONALAUSWEIS),
    ("Wo kriege ich einen Angelschein her?", FISCHEREI),
    ("Ich muss mich ummelden", ANMELDEN),
    ("wie kann ich mich ummelden nach dem umzug", ANMELDEN),
    ("Ich will meinen alten grauen Lappen umtauschen", FUEHRERSCHEIN),
]
MISSPELT = [
    ("Personalausweiß beantragen", PERSONALAUSWEIS),
    ("Brauche neuen Reisepaß für den Urlaub", REISEPASS),
    ("Reisepaß beantragen", REISEPASS),
    ("Fürerschein umtauschen", FUEHRERSCHEIN),
    ("Führungszeugniss beantragen", FUEHRUNGSZEUGNIS),
]
COMPOUNDS = [
    ("Personalausweisverlängerung", PERSONALAUSWEIS),
    ("Was kostet eine Reisepassverlängerung?", REISEPASS),
    ("Wohnsitzanmeldung", ANMELDEN),
    ("Führungszeugnisantrag", FUEHRUNGSZEUGNIS),
    ("Hundesteueranmeldung", HUNDESTEUER),
]
ENGLISH = [
    ("How do I get a German ID card?", PERSONALAUSWEIS),
    ("I need a new passport for my holiday", REISEPASS),
    ("how do I register my new address in Hannover", ANMELDEN),
    ("Where do I get a fishing licence?", FISCHEREI),
    ("I need a certificate of good conduct for my new employer", FUEHRUNGSZEUGNIS),
]
# German splits verbs: "melde … um" is "ummelden".
SEPARABLE = [
    ("Wie melde ich mich um?", ANMELDEN),
    ("Wie melde ich mein Auto um?", FAHRZEUG),
    ("Wie melde ich mein Gewerbe ab?", GEWERBE),
    ("Wann hole ich den fertigen Ausweis ab?", PERSONALAUSWEIS),
]
RAMBLING = [
    (
        "So, ich hab da mal eine Frage, und zwar ist mein Personalausweis letzte Woche "
        "abgelaufen und ich fliege bald nicht weg, aber ich brauche ihn trotzdem für die Bank. "
        "Was muss ich da jetzt machen und wo?",
        PERSONALAUSWEIS,
    ),
    (
        "Guten Abend! Wir sind vor zwei Wochen aus Köln hergezogen, die Kisten sind endlich "
        "ausgepackt, und jetzt wollte ich fragen, wo und wie ich mich in Hannover ummelde. "
        "Muss meine Frau mitkommen?",
        ANMELDEN,
    ),
    (
        "Hello, I am an international student and I just arrived in Hannover last week. My "
        "landlord told me I have to register my address at the city. How does that work?",
        ANMELDEN,
    ),
    (
        "Hallo. Wir haben seit Samstag einen kleinen Welpen aus dem Tierheim. Meine Nachbarin "
        "sagt, dass man für einen Hund Steuern zahlen muss. Stimmt das und wie melde ich ihn an?",
        HUNDESTEUER,
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    COLLOQUIAL + MISSPELT + COMPOUNDS + ENGLISH + SEPARABLE + RAMBLING,
)
def test_the_right_service_comes_first(
    index: SearchIndex, names: dict[str, str], text: str, expected: str
) -> None:
    assert top(index, names, text) == expected


CLEAR = [
    "Was kostet ein Personalausweis?",
    "Ich brauche einen Angelschein",
    "Wie melde ich mich um?",
    "Personalausweisverlängerung",
    "Brauche neuen Reisepaß für den Urlaub",
    "How do I get a German ID card?",
    "Where do I get a fishing licence?",
]
OFF_TOPIC = [
    "Wird es am Wochenende in Hannover regnen?",
    "What's the weather forecast for tomorrow?",
    "Wie hat Hannover 96 am Samstag gespielt?",
    "Who will win the Bundesliga this season?",
    "Hast du ein gutes Rezept für Gulasch?",
    "How do I bake bread?",
    "Was ergibt 12 geteilt durch 4?",
    "What is 7 times 8?",
    "xqzt vlorp gnnnh",
    "asdf asdf asdf",
    "What is the capital of France?",
]


@pytest.mark.parametrize("text", CLEAR)
def test_clear_questions_are_confident(index: SearchIndex, text: str) -> None:
    m = matcher.match(index, text)
    assert m.confidence >= policy()["answer_threshold"], (text, m.features)
    assert decide(index, text, State(), m).kind == "answer"


@pytest.mark.parametrize("text", OFF_TOPIC)
def test_off_topic_questions_get_low_confidence(index: SearchIndex, text: str) -> None:
    m = matcher.match(index, text)
    assert m.confidence < policy()["answer_threshold"], (text, m.features)
    decision = decide(index, text, State(), m)
    assert decision.kind == "out_of_scope"
    assert decision.service_id is None


def test_confidence_higher_for_clear_than_for_off_topic(index: SearchIndex) -> None:
    clear = [matcher.match(index, t).confidence for t in CLEAR]
    off = [matcher.match(index, t).confidence for t in OFF_TOPIC]
    assert min(clear) > max(off)
    assert all(0.0 <= c <= 1.0 for c in clear + off)


@pytest.mark.parametrize(
    ("text", "right"),
    [
        ("Wie melde ich mich in Hannover an?", ANMELDEN),
        ("Wie melde ich mich um?", ANMELDEN),
        ("Wann hole ich meinen Pass ab?", REISEPASS),
    ],
)
def test_never_a_confident_wrong_answer(
    index: SearchIndex, names: dict[str, str], text: str, right: str
) -> None:
    """Where the matcher is unsure, it may ask or give up, but must not answer wrongly."""
    decision = decide(index, text, State(), matcher.match(index, text))
    if decision.kind == "answer":
        assert decision.service_id is not None
        assert names[decision.service_id] == right


def test_candidates_are_ranked_and_bounded(index: SearchIndex) -> None:
    m = matcher.match(index, "Ausweis verloren, was nun?")
    scores = [c.score for c in m.candidates]
    assert 1 <= len(scores) <= 5
    assert scores == sorted(scores, reverse=True)
    assert all(s > 0 for s in scores)
    assert set(m.features) == set(matcher.FEATURES)


def test_nothing_to_match_gives_no_candidates(index: SearchIndex) -> None:
    for text in ("", "?!", "und das", "Hallo"):
        m = matcher.match(index, text)
        assert m.candidates == []
        assert m.confidence == 0.0
        assert m.best is None


def test_matching_is_deterministic(index: SearchIndex) -> None:
    text = "Was brauche ich für einen neuen Reisepass für mein Kind?"
    first = matcher.match(index, text)
    again = matcher.match(index, text)
    assert first == again


def test_confidence_follows_the_weights() -> None:
    features = {"log_top": 2.0, "margin": 0.5, "coverage": 1.0, "phrase": 1.0, "bias": 1.0}
    assert matcher.confidence_of(features, {"bias": 0.0}) == pytest.approx(0.5)
    assert matcher.confidence_of(features, {"phrase": 50.0}) > 0.999
    assert matcher.confidence_of(features, {"phrase": -50.0}) < 0.001


def test_a_district_name_does_not_hijack_ummelden(
    index: SearchIndex, names: dict[str, str]
) -> None:
    assert top(index, names, "Ich muss mich ummelden, bin in die Südstadt gezogen") == ANMELDEN


def test_a_validity_question_is_about_the_document_named(
    index: SearchIndex, names: dict[str, str]
) -> None:
    assert top(index, names, "Wie lange gilt ein Reisepaß?") == REISEPASS


def test_a_catalog_phrase_keeps_its_sub_question_word(
    index: SearchIndex, names: dict[str, str]
) -> None:
    # "address" alone asks where; in "address registration" it names the Anmeldung
    assert "address" in index.phrase_words("how much does the address registration cost")
    assert top(index, names, "how much does the address registration cost") == ANMELDEN


def test_a_story_close_to_an_example_question_finds_its_service(
    index: SearchIndex, names: dict[str, str]
) -> None:
    text = (
        "Ich bin letztes Jahr aus Bayern nach Hannover gezogen und habe dort meinen "
        "Fischereischein gemacht. Gilt der hier weiter oder brauche ich einen neuen?"
    )
    assert top(index, names, text) == "Fischereischein beantragen"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Reisepass abgelaufen und ich fliege übermorgen", "Vorläufigen Reisepass beantragen"),
        ("Was kostet ein neuer Reisepass?", "Reisepass beantragen"),
        ("my ID card expired and I travel tomorrow", "Vorläufigen Personalausweis beantragen"),
        # the passport is named in full, the stand-in is not: the hurry still decides
        (
            "My son's passport has expired and we fly to a wedding next week, can you help?",
            "Vorläufigen Reisepass beantragen",
        ),
        (
            "Muss ich nach der Heirat sofort einen neuen Ausweis beantragen?",
            "Personalausweis beantragen",
        ),
    ],
)
def test_a_hurried_question_finds_the_stand_in(
    index: SearchIndex, names: dict[str, str], text: str, expected: str
) -> None:
    assert top(index, names, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mein Reisepass ist noch lange gültig, aber mein Perso läuft bald ab", PERSONALAUSWEIS),
        ("I already have a valid passport, but what about my ID card?", PERSONALAUSWEIS),
        # "aber" as a particle turns nothing
        ("Führerschein verloren, ich brauche ihn aber dringend für die Arbeit", FUEHRERSCHEIN),
    ],
)
def test_the_clause_after_a_turn_names_the_service(
    index: SearchIndex, names: dict[str, str], text: str, expected: str
) -> None:
    assert top(index, names, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mein Personalausweis ist abgelaufen, der Reisepass ist aber noch gültig.",
            PERSONALAUSWEIS,
        ),
        ("My passport is still valid but my ID card expired last month", PERSONALAUSWEIS),
        ("Der Perso ist noch bis 2031 gültig. Ich brauche einen Reisepass für Kanada", REISEPASS),
    ],
)
def test_a_document_said_to_be_still_valid_is_not_the_one_asked_about(
    index: SearchIndex, names: dict[str, str], text: str, expected: str
) -> None:
    assert top(index, names, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Ist mein Reisepass noch gültig, wenn ich umgezogen bin?",  # a question about validity
        "Mein Reisepass ist noch gültig.",  # nothing else is said
    ],
)
def test_validity_alone_or_asked_about_keeps_the_document(
    index: SearchIndex, names: dict[str, str], text: str
) -> None:
    assert reading.unsettled(text) == text


@pytest.mark.parametrize(("typo", "word"), [("Verlist", "verlust"), ("fisihng", "fishing")])
def test_one_slip_in_a_mid_length_word_is_forgiven(
    index: SearchIndex, typo: str, word: str
) -> None:
    assert index.expand_kind(typo) == ([word], "fuzzy")
    assert index.expand_kind("Wetter")[1] == "none"  # the first letter must match


def test_a_slip_does_not_hide_a_catalog_phrase(index: SearchIndex, names: dict[str, str]) -> None:
    assert index.spelled("Meldezattel abgeben") == "meldezettel abgeben"
    assert index.spelled("Wetter morgen") == "wetter morgen"  # nothing close: left alone
    assert top(index, names, "how much does the address rgeistration cost") == ANMELDEN


def test_a_compound_with_a_generic_tail_is_answered(index: SearchIndex) -> None:
    m = matcher.match(index, "Hundesteueranmeldung")
    assert decide(index, "Hundesteueranmeldung", State(), m).kind == "answer"


def test_a_long_rambling_message_is_answered(index: SearchIndex) -> None:
    text = RAMBLING[1][0]
    assert decide(index, text, State(), matcher.match(index, text)).kind == "answer"


def test_place_names_are_no_evidence_and_both_indexes_stay_cached(session: Session) -> None:
    places = place_names(DATA_ROOT / "hannover")
    with_places = catalog_service.search_index(session, places)
    plain = catalog_service.search_index(session)  # the site search's own index
    assert with_places.expand_kind("Südstadt") == ([], "stop")
    assert plain.expand_kind("Südstadt")[1] != "stop"
    # Alternating callers reuse their index instead of rebuilding it each time.
    assert catalog_service.search_index(session, places) is with_places
    assert catalog_service.search_index(session) is plain


# -- matters of other authorities (data/hannover/elsewhere.yaml) -------------------------------
def test_the_city_lists_matters_other_authorities_handle(tmp_path: Path) -> None:
    words = elsewhere_words(DATA_ROOT / "hannover")
    assert {"kindergeld", "rundfunkbeitrag", "finanzamt"} <= set(words)
    assert elsewhere_words(tmp_path) == ()  # a city without the file: nothing is excluded
    topics = elsewhere_topics(DATA_ROOT / "hannover")
    assert topics["gez"] == ("Rundfunkbeitrag", "Broadcasting fee (Rundfunkbeitrag)")
    assert set(topics) == set(words)  # every word belongs to a named topic
    # a topic without an English name is named in German
    other = tmp_path / "other"
    other.mkdir()
    (other / "elsewhere.yaml").write_text(
        "topics:\n  - topic: Müllabfuhr\n    words: [mülltonne]\n", encoding="utf-8"
    )
    assert elsewhere_topics(other) == {"mülltonne": ("Müllabfuhr", "Müllabfuhr")}


def elsewhere_in(index: SearchIndex, text: str) -> list[str]:
    return list(index.elsewhere_words(text))


def test_other_matters_are_found_as_words_and_compound_starts(index: SearchIndex) -> None:
    assert elsewhere_in(index, "Wo stelle ich den Kindergeldantrag?") == ["kindergeld"]
    assert "tax return" in elsewhere_in(index, "help with my tax return please")
    assert elsewhere_in(index, "Mein Ausweis wurde angezeigt") == []  # no 'gez' inside words
    assert elsewhere_in(index, "Personalausweis beantragen") == []
    # every word of a topic, in any order; a word that starts most of a topic's compound
    assert "arbeitslosengeld" in elsewhere_in(index, "Ich bin arbeitslos, wo melde ich mich?")
    assert "acknowledgement of paternity" in elsewhere_in(index, "acknowledge paternity early")
    assert elsewhere_in(index, "Ich habe eine neue Wohnung") == []  # too short a start
    assert elsewhere_in(index, "Ich ziehe aus Deutschland weg") == []  # a word of its own


def test_a_foreign_country_named_as_destination_is_a_topic_word(index: SearchIndex) -> None:
    assert elsewhere_in(index, "Wie beantrage ich ein Visum für Indien?") == ["visum reiseziel"]
    assert elsewhere_in(index, "Do I need a visa to travel to the United States?") != []
    assert elsewhere_in(index, "Wir fliegen in die USA, brauchen wir ein Visum?") != []
    # coming from a country, living in one, or Germany itself is no destination
    assert elsewhere_in(index, "Ich komme aus Indien und mein Visum läuft ab") == []
    assert elsewhere_in(index, "Meine Frau lebt in Syrien und braucht ein Visum") == []
    assert elsewhere_in(index, "Visum für Deutschland verlängern") == []
    # the visa named as the purpose of one of our documents is not the matter asked about
    assert elsewhere_in(index, "Führungszeugnis für mein Visum nach Kanada") == []


def test_a_document_for_a_visa_abroad_is_still_answered(
    index: SearchIndex, names: dict[str, str]
) -> None:
    for text, expected in (
        ("Ich brauche ein Führungszeugnis für mein Visum für Kanada", FUEHRUNGSZEUGNIS),
        (
            "I need a police clearance certificate for my visa application to Canada",
            FUEHRUNGSZEUGNIS,
        ),
        # entering a country with one of our documents is about that document
        ("Wir wollen in die USA einreisen, reicht der Kinderreisepass?", REISEPASS),
    ):
        m = matcher.match(index, text)
        assert top(index, names, text) == expected
        assert decide(index, text, State(), m).kind == "answer"


def test_the_other_matter_counts_by_its_share_of_the_message(index: SearchIndex) -> None:
    whole = matcher.match(index, "Elterngeld beantragen").features["elsewhere"]
    part = matcher.match(index, "Geburtsurkunde für das Elterngeld").features["elsewhere"]
    assert whole == 1.0
    assert 0.0 < part < 0.7


def test_the_other_matter_weighs_most_where_the_service_is_not_the_focus(
    index: SearchIndex,
) -> None:
    # "Geburtsurkunde" is the message's most telling word and names the service
    named = matcher.match(index, "Geburtsurkunde für das Elterngeld").features
    assert named["focus"] == 1.0 and named["unfocused"] == 0.0
    # "Rundfunkbeitrag" is, and names none of ours
    other = matcher.match(index, "Rundfunkbeitrag abmelden wegen Umzug ins Ausland").features
    assert other["focus"] == 0.0 and other["unfocused"] == other["elsewhere"] > 0.0


@pytest.mark.parametrize(
    "text",
    [
        "Kindergeld beantragen",
        "Wo bekomme ich einen Bibliotheksausweis?",
        "Steuererklärung abgeben",
        # a visa for travelling abroad is the other country's embassy's; ours is the stay here
        "Brauche ich ein Visum für meine Reise nach Indien?",
        "Do I need a visa to travel to Canada?",
        "Brauche ich als Deutscher ein Visum für Thailand?",
        # a stolen bicycle is the police's; a stolen ID card is ours (below)
        "Mein Fahrrad ist gestohlen worden, wo zeige ich das an?",
        "My bike was stolen from the station, where do I report it?",
        "Wie finde ich einen Hausarzt?",
        "Where can I complain about a rude bus driver?",
        # taxes in general are the tax office's; the dog tax is ours (below)
        "I have a question about my taxes",
        # a topic word that could also ask a sub-question ("Internet") still names the topic
        "Wie melde ich Internet in meiner neuen Wohnung an?",
    ],
)
def test_other_authorities_matters_are_not_answered(index: SearchIndex, text: str) -> None:
    m = matcher.match(index, text)
    assert m.features["elsewhere"] >= 0.5
    assert decide(index, text, State(), m).kind == "out_of_scope"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hund anmelden Hundesteuer", HUNDESTEUER),
        ("Muss ich für meinen Hund Steuern zahlen?", HUNDESTEUER),
        ("Wie viel Hundesteuer zahle ich für einen Kampfhund?", HUNDESTEUER),
        ("Wohngeld beantragen", "Wohngeld beantragen"),
        # Elterngeld is another authority's, the birth certificate for it is ours
        ("Geburtsurkunde für das Elterngeld", "Geburtsurkunde beantragen"),
        ("Mein Visum läuft ab, wie kann ich es verlängern?", AUFENTHALT),
        ("Mein Personalausweis wurde gestohlen, was muss ich tun?", VERLUST),
        ("Führerschein für den Bus umtauschen", FUEHRERSCHEIN),
    ],
)
def test_our_own_services_keep_their_answer(
    index: SearchIndex, names: dict[str, str], text: str, expected: str
) -> None:
    m = matcher.match(index, text)
    assert m.features["elsewhere"] < 1.0
    d = decide(index, text, State(), m)
    assert d.kind == "answer" and names[str(d.service_id)] == expected
