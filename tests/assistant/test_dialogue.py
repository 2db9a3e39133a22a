"""Dialogue decisions with a conversation State: follow-ups, topic switches, asking back."""

from __future__ import annotations

from typing import Any

import pytest

from servicepoint.assistant import matcher
from servicepoint.assistant.dialogue import Decision, State, decide, policy
from servicepoint.assistant.matcher import Candidate, Match
from servicepoint.catalog.search import SearchIndex


def turn(index: SearchIndex, text: str, state: State) -> Decision:
    return decide(index, text, state, matcher.match(index, text))


def talking_about(service_id: str, aspects: list[str] | None = None) -> State:
    return State(lang="de", service_id=service_id, aspects=aspects or [])


# -- follow-ups keep the topic ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "aspects"),
    [
        ("Was kostet das?", ["cost"]),
        ("Geht das auch online?", ["online"]),
        ("Und wie lange dauert das?", ["duration"]),
        ("Was muss ich dafür mitbringen?", ["documents"]),
        ("Wo geht das?", ["where"]),
        ("Brauche ich dafür einen Termin?", ["booking"]),
        ("Gebüren?", ["cost"]),  # misspelt
        ("how much is it?", ["cost"]),
        ("what should I bring?", ["documents"]),
        ("Geht das auch übers Internet?", ["online"]),  # "übers" = "über das"
        ("bis wann spätestens?", ["duration"]),
    ],
)
def test_followup_keeps_the_topic(index: SearchIndex, text: str, aspects: list[str]) -> None:
    d = turn(index, text, talking_about("reisepass", ["cost"]))
    assert d.kind == "answer"
    assert d.service_id == "reisepass"
    assert d.followup
    assert d.aspects == aspects


@pytest.mark.parametrize("text", ["und für Kinder?", "and for children?", "Und für mein Baby?"])
def test_followup_for_children_keeps_topic_and_question(index: SearchIndex, text: str) -> None:
    d = turn(index, text, talking_about("personalausweis", ["cost"]))
    assert (d.kind, d.service_id) == ("answer", "personalausweis")
    assert d.aspects == ["cost"]  # the sub-question carries over


def test_a_followup_about_the_visit_keeps_the_topic(index: SearchIndex) -> None:
    d = turn(index, "Müssen wir beide persönlich hinkommen?", talking_about("eheschliessung"))
    assert (d.kind, d.service_id) == ("answer", "eheschliessung") and d.followup
    thanks = turn(index, "Danke!", talking_about("eheschliessung"))
    assert not thanks.followup


def test_followup_naming_the_topic_by_a_part_of_its_name(index: SearchIndex) -> None:
    d = turn(index, "und was kostet der Schein?", talking_about("fischereischein"))
    assert (d.kind, d.service_id, d.aspects) == ("answer", "fischereischein", ["cost"])


def test_followup_using_the_verb_of_the_topic_keeps_it(index: SearchIndex) -> None:
    # "anmelden" alone would be the Wohnsitz; in a talk about the wedding it is the wedding's.
    d = turn(index, "Ab wann können wir das anmelden?", talking_about("eheschliessung"))
    assert (d.kind, d.service_id) == ("answer", "eheschliessung") and d.followup
    assert turn(index, "Wie kann ich mich anmelden?", State()).service_id == "wohnsitz-anmelden"


@pytest.mark.parametrize(
    "text",
    [
        "Muss sie da selbst mit hin?",
        "can she sign it for him?",
        "Kann mein Mann das für mich dort abgeben, wenn ich krank bin?",
    ],
)
def test_a_message_pointing_back_stays_on_the_topic(index: SearchIndex, text: str) -> None:
    """'da', 'she', 'dort' point at the last topic, even with a word the catalog lacks."""
    d = turn(index, text, talking_about("personalausweis"))
    assert (d.kind, d.service_id) == ("answer", "personalausweis")
    assert d.followup


@pytest.mark.parametrize(
    ("text", "service_id"),
    [
        ("Und was kostet ein Führungszeugnis?", "fuehrungszeugnis"),
        ("Ich brauche auch einen Angelschein", "fischereischein"),
        ("How do I register my dog?", "hundesteuer"),
    ],
)
def test_a_new_explicit_service_switches_the_topic(
    index: SearchIndex, text: str, service_id: str
) -> None:
    d = turn(index, text, talking_about("reisepass", ["cost"]))
    assert d.kind == "answer"
    assert d.service_id == service_id
    assert not d.followup


@pytest.mark.parametrize(
    "text",
    [
        "Was kostet eine Pizza?",
        "Wie lange dauert ein Marathon?",
        "und wie wird das Wetter morgen?",
        "How much is a beer?",
    ],
)
def test_a_sub_question_about_something_else_is_no_followup(index: SearchIndex, text: str) -> None:
    """Answering with the passport's fees here would be pretending."""
    d = turn(index, text, talking_about("reisepass", ["cost"]))
    assert d.kind == "out_of_scope"
    assert d.service_id is None


def test_followup_without_a_topic_is_out_of_scope(index: SearchIndex) -> None:
    d = turn(index, "Was kostet das?", State())
    assert d.kind == "out_of_scope"
    assert d.service_id is None


# -- asking back and picking an option -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "picked"),
    [
        ("1", "personalausweis"),
        ("2", "reisepass"),
        ("den ersten", "personalausweis"),
        ("die zweite bitte", "reisepass"),
        ("the second one", "reisepass"),
        ("Reisepass", "reisepass"),
    ],
)
def test_picking_a_clarify_option(index: SearchIndex, text: str, picked: str) -> None:
    state = State(lang="de", options=["personalausweis", "reisepass"])
    d = turn(index, text, state)
    assert (d.kind, d.service_id) == ("answer", picked)
    assert d.confidence >= 0.9


def test_an_option_number_out_of_range_picks_nothing(index: SearchIndex) -> None:
    state = State(lang="de", options=["personalausweis", "reisepass"])
    d = turn(index, "3", state)
    assert d.service_id not in ("personalausweis", "reisepass") or d.kind != "answer"


def test_two_equally_likely_services_are_asked_back() -> None:
    """With a near tie and no sub-question, it asks instead of guessing."""
    from servicepoint.catalog.search import SearchDoc, build_index

    index = build_index([SearchDoc("a", ("Alpha",)), SearchDoc("b", ("Beta",))])
    tie = Match(
        candidates=[Candidate(0, "a", 10.0), Candidate(1, "b", 9.9)],
        features={},
        confidence=0.95,
        content_words=1,
    )
    # a fixed policy: the test is about the rule, not about this calibration's threshold
    policy = {"answer_threshold": 0.5, "clarify_ratio": 0.97, "followup_threshold": 0.8}
    d = decide(index, "neues Ding", State(), tie, policy)
    assert d.kind == "clarify"
    assert d.options == ["a", "b"]
    assert d.service_id is None

    clear = Match([Candidate(0, "a", 10.0), Candidate(1, "b", 2.0)], {}, 0.95, 1)
    assert decide(index, "neues Ding", State(), clear, policy).service_id == "a"


@pytest.mark.parametrize(
    ("text", "options", "aspects"),
    [
        ("neuer Ausweis", ["personalausweis", "reisepass"], []),
        ("Was kostet ein neuer Ausweis?", ["personalausweis", "reisepass"], ["cost"]),
        ("Ausweis für mein Kind", ["personalausweis", "reisepass"], []),
        ("neuer Ausweis in Linden-Süd", ["personalausweis", "reisepass"], []),
        # words of two of the service's shared phrases ("neuer Ausweis", "Ausweisdokument")
        ("Ich brauche ein neues Ausweisdokument", ["personalausweis", "reisepass"], []),
        ("brauche eine Urkunde vom Standesamt", ["geburtsurkunde", "sterbefall"], []),
    ],
)
def test_words_the_catalog_declares_shared_are_asked_back(
    index: SearchIndex, text: str, options: list[str], aspects: list[str]
) -> None:
    """The issue's own example: "neuer Ausweis" is Personalausweis or Reisepass."""
    d = turn(index, text, State())
    assert (d.kind, d.service_id, d.options, d.aspects) == ("clarify", None, options, aspects)


@pytest.mark.parametrize(
    ("text", "service_id"),
    [
        ("neuer Personalausweis", "personalausweis"),
        ("Ausweis verloren", "verlust-ausweisdokument"),
        ("Geburtsurkunde für mein Baby", "geburtsurkunde"),
    ],
)
def test_a_word_beyond_the_shared_ones_decides(
    index: SearchIndex, text: str, service_id: str
) -> None:
    d = turn(index, text, State())
    assert (d.kind, d.service_id) == ("answer", service_id)


def test_greeting(index: SearchIndex) -> None:
    for text in ("Hallo!", "Guten Morgen", "thanks"):
        d = turn(index, text, State())
        assert d.kind == "greeting"
        assert d.service_id is None


def test_thresholds_can_be_passed_in(index: SearchIndex) -> None:
    text = "Was kostet ein Reisepass?"
    m = matcher.match(index, text)
    strict = {**policy(), "answer_threshold": 1.01}
    assert decide(index, text, State(), m).kind == "answer"
    assert decide(index, text, State(), m, strict).kind == "out_of_scope"


# -- the state itself ------------------------------------------------------------------------


def test_state_round_trips() -> None:
    state = State(
        lang="en",
        service_id="reisepass",
        aspects=["cost"],
        options=["a", "b"],
        last={"message_id": "m1"},
        recent=[{"message_id": "m0"}, {"message_id": "m1"}],
    )
    assert State.load(state.dump()) == state


def test_state_loads_from_nothing() -> None:
    nothing: list[dict[str, Any] | None] = [None, {}]
    for raw in nothing:
        state = State.load(raw)
        assert state == State()
        assert state.service_id is None and state.recent == []
