"""Language knowledge of the assistant: personal-data scrubbing, language, sub-questions, cues."""

from __future__ import annotations

import re

import pytest

from servicepoint.assistant import nlp

# -- scrubbing personal data before anything is stored -----------------------------------------


@pytest.mark.parametrize(
    ("text", "secret", "marker"),
    [
        ("Antwort bitte an lena.beispiel@example.org, danke", "lena.beispiel", "[E-Mail]"),
        ("mail me: j.doe+city@mail.example.co.uk", "example.co.uk", "[E-Mail]"),
        ("Rufen Sie mich an: +49 511 1234567", "1234567", "[Nummer]"),
        ("Meine Nummer ist 0511/168-32000.", "32000", "[Nummer]"),
        ("Handy 0176 98765432 ab 18 Uhr", "98765432", "[Nummer]"),
        ("call (0511) 123 45 67 please", "123 45 67", "[Nummer]"),
        ("Tel. 0049 511 7654321", "7654321", "[Nummer]"),
        ("Überweisung von DE89 3704 0044 0532 0130 00 bitte prüfen", "0532", "[IBAN]"),
        ("IBAN DE89370400440532013000", "370400440532013000", "[IBAN]"),
        ("iban de89 3704 0044 0532 0130 00", "0130", "[IBAN]"),
        ("Ausweisnummer L01X00T47 ist weg", "L01X00T47", "[Nummer]"),
        ("passport no. C4J5R2K8M", "C4J5R2K8M", "[Nummer]"),
        ("geboren am 12.08.1964 in Hannover", "1964", "[Datum]"),
        ("born 1964-08-12", "1964", "[Datum]"),
        ("Geburtstag 3.2.90", "3.2.90", "[Datum]"),
        ("Ich bin am 12. August 1964 geboren", "1964", "[Datum]"),
    ],
)
def test_scrub_removes_personal_data(text: str, secret: str, marker: str) -> None:
    clean = nlp.scrub(text)
    assert secret.lower() not in clean.lower()
    assert marker in clean


def test_scrub_keeps_the_question_around_removed_data() -> None:
    text = "Mein Perso L01X00T47 ist weg, bitte an max@example.org oder 0511 9876543 antworten"
    assert nlp.scrub(text) == (
        "Mein Perso [Nummer] ist weg, bitte an [E-Mail] oder [Nummer] antworten"
    )


def test_scrub_removes_everything_of_a_full_message() -> None:
    text = (
        "Hallo, ich bin Lena (lena.b@example.org, +49 176 1234 5678), geboren 01.02.1990, "
        "IBAN DE02120300000000202051, Ausweis T22000129. Was kostet ein Pass?"
    )
    clean = nlp.scrub(text)
    assert "@" not in clean
    # Apart from nothing: every digit of the personal data is gone.
    assert not re.search(r"\d", clean), clean
    assert clean.endswith("Was kostet ein Pass?")


@pytest.mark.parametrize(
    "text",
    [
        "Was kostet ein Reisepass?",
        "Reisepass mit 48 Seiten für Kinder unter 12",
        "Ich brauche 2 Meldebescheinigungen",
        "Hundesteuer für 3 Hunde im Jahr 2026",
        "How much is a passport for a child under 24?",
    ],
)
def test_scrub_leaves_ordinary_questions_alone(text: str) -> None:
    assert nlp.scrub(text) == text


def test_scrub_is_idempotent_and_drops_nul() -> None:
    text = "Pass\x00 verloren, Tel 0511 1234567"
    once = nlp.scrub(text)
    assert "\x00" not in once
    assert nlp.scrub(once) == once


# -- language --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Wie beantrage ich einen neuen Personalausweis?",
        "Brauche ich für die Ummeldung einen Termin?",
        "Was muss ich mitbringen, wenn ich meinen Hund anmelde?",
        "ich hab meinen führerschein verloren was jetzt",
        "Ich will einen kleinen Shop in der City öffnen",
    ],
)
def test_detect_lang_german(text: str) -> None:
    assert nlp.detect_lang(text, default="en") == "de"


@pytest.mark.parametrize(
    "text",
    [
        "How do I apply for a new identity card?",
        "Do I need an appointment to register my address?",
        "what should I bring when I register my dog",
        "i lost my driving licence what now",
        # words the German dictionary also knows ("open", "small", "city", "shop")
        "I want to open a small cafe, what do I need from the city?",
        "I want to open a small shop in the city",
    ],
)
def test_detect_lang_english(text: str) -> None:
    assert nlp.detect_lang(text, default="de") == "en"


@pytest.mark.parametrize("text", ["ok", "?", "2", "ID?", "online"])
def test_detect_lang_falls_back_to_default_when_unclear(text: str) -> None:
    assert nlp.detect_lang(text, default="de") == "de"
    assert nlp.detect_lang(text, default="en") == "en"


# -- sub-questions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "aspect"),
    [
        # German
        ("Was kostet der Reisepass?", "cost"),
        ("Wie teuer ist eine Meldebescheinigung?", "cost"),
        ("Welche Gebühren fallen an?", "cost"),
        ("Wie viel muss ich bezahlen?", "cost"),
        ("Welche Unterlagen brauche ich?", "documents"),
        ("Was muss ich mitbringen?", "documents"),
        ("Brauche ich ein Foto?", "documents"),
        ("Wie lange dauert das?", "duration"),
        ("Wann ist der Ausweis fertig?", "duration"),
        ("Geht das auch online?", "online"),
        ("Kann ich das im Internet erledigen?", "online"),
        ("Wo kann ich das machen?", "where"),
        ("In welchem Bürgeramt geht das?", "where"),
        ("Wann hat das Bürgeramt geöffnet?", "hours"),
        ("Öffnungszeiten?", "hours"),
        ("Wer ist zuständig?", "responsible"),
        ("Welche Behörde kümmert sich darum?", "responsible"),
        ("Brauche ich einen Termin?", "booking"),
        ("Wie kann ich einen Termin buchen?", "booking"),
        # English
        ("How much does a passport cost?", "cost"),
        ("How much is it?", "cost"),
        ("What are the fees?", "cost"),
        ("What documents do I need?", "documents"),
        ("What do I have to bring?", "documents"),
        ("How long does it take?", "duration"),
        ("How much time does it take?", "duration"),
        ("Can I do it online?", "online"),
        ("Where do I have to go?", "where"),
        # "what do I need" asks for the documents
        ("Was brauche ich dafür?", "documents"),
        ("Was brauche ich für einen Reisepass?", "documents"),
        ("What do I need for a passport?", "documents"),
        # the part of town asks where, too
        ("Kann ich das nur in meinem Bezirk machen?", "where"),
        ("Which is the nearest office?", "where"),
        ("can I apply in any district?", "where"),
        ("What are the opening hours?", "hours"),
        ("Which authority is responsible?", "responsible"),
        ("How do I book an appointment?", "booking"),
        # misspelt
        ("Was kosstet das?", "cost"),
        ("Gebüren für den Pass?", "cost"),
        ("welche Unterlagn brauch ich", "documents"),
        ("wie lange dauerts", "duration"),
        ("Ofnungszeiten vom Bürgeramt", "hours"),
        ("wer ist da zustendig", "responsible"),
        ("Termn buchen", "booking"),
        ("what documnets do I need", "documents"),
        ("how do I make an apointment", "booking"),
    ],
)
def test_aspects_finds_the_sub_question(text: str, aspect: str) -> None:
    assert aspect in nlp.aspects(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Was kostet ein Reisepass und welche Unterlagen brauche ich?", ["cost", "documents"]),
        ("Which documents, and how long does it take?", ["documents", "duration"]),
        ("Kann ich online einen Termin buchen und was kostet das?", ["cost", "online", "booking"]),
        ("How much time does it take?", ["duration"]),  # not a question about money
        ("Wie viele Unterlagen brauche ich?", ["documents"]),  # "viele" is no price
        ("Wieviel Zeit brauchen die?", ["duration"]),
    ],
)
def test_aspects_several_in_a_stable_order(text: str, expected: list[str]) -> None:
    assert nlp.aspects(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Reisepass beantragen",
        "Ich will heiraten",
        "Danke!",  # thanks ask nothing
        "Hallo",
        "How do I apply for a passport?",  # "apply" is no question about an app
        "I feel lost with all this",  # "feel" is no fee
        "Europawahl per Brief",  # "Europa" is no price in euro
        "amtliche Beglaubigung",  # "amtlich" asks for no office
        "Wir brauchen das für die Hochzeit",  # "brauchen" is no misspelt "buchen"
    ],
)
def test_aspects_empty_for_a_general_question(text: str) -> None:
    assert nlp.aspects(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wie lange ist ein Führungszeugnis gültig?", []),
        ("How long is a passport valid?", []),
        ("Wie lange dauert es, bis der neue Ausweis gültig ist?", ["duration"]),
        ("Wie lange dauert ein Reisepass?", ["duration"]),
        # "what do I need to do" asks how it works, not for documents
        ("What do I need to do to register?", []),
        ("Was muss ich tun?", []),
    ],
)
def test_how_long_valid_is_no_processing_time(text: str, expected: list[str]) -> None:
    assert nlp.aspects(text) == expected


# -- separable verbs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "joined"),
    [
        ("Wie melde ich mich um?", "Wie ummelden ich mich?"),
        ("Wann hole ich den Ausweis ab?", "Wann abholen ich den Ausweis?"),
        ("Was bringe ich mit? Und was kostet das?", "Was mitbringen ich? Und was kostet das?"),
        ("Wen rufe ich an", "Wen anrufen ich"),
        # the verb after a subject of several words; the possessive before it is no verb
        ("Meine Wohnung in Linden gebe ich auf.", "Meine Wohnung in Linden aufgeben ich."),
        ("Mein Auto melde ich morgen ab", "Mein Auto abmelden ich morgen"),
        ("Meine Tochter Anna kommt mit", "Meine Tochter Anna mitkommen"),
        # typed in lower case: after an article it is a noun, the verb comes next
        ("die miete frisst mich auf", "die miete auffressen mich"),
    ],
)
def test_join_separable_rejoins_split_verbs(text: str, joined: str) -> None:
    assert nlp.join_separable(text) == joined


@pytest.mark.parametrize(
    "text",
    [
        "Was kostet ein Pass?",
        "Ich will mich ummelden",
        "How do I sign up?",
        "an",
        "Pass ab",
        "Meine Tochter ist schon um",  # "sein" has no separable particle form here
        "Antwort bitte an",  # "bitte" is please, not the verb bitten
        "das alte Sofa muss weg",  # a modal verb takes no particle
        "er schuldet mir Geld und ist einfach weg",  # the particle closes the last clause
    ],
)
def test_join_separable_leaves_other_sentences(text: str) -> None:
    assert nlp.join_separable(text) == text


def test_split_verbs_carry_their_sub_question() -> None:
    assert nlp.aspects("Was bringe ich mit?") == ["documents"]
    assert "responsible" in nlp.aspects("Wen rufe ich da an?")


# -- follow-up cues ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Was kostet das?",
        "Wie lange ist der gültig?",  # validity is a sub-question, too
        "Geht das auch online?",
        "und für Kinder?",
        "Und wie lange dauert das?",
        "and for children?",
        "how long does it take?",
        "Was brauche ich dafür?",
        "Und was kostet der Spaß?",  # colloquial for "the whole thing"
        "Müssen wir beide persönlich hinkommen?",  # only the visit: about the current topic
        "Geht das auch übers Internet?",
        "bis wann spätestens?",  # a deadline is a question of time
    ],
)
def test_is_followup(text: str) -> None:
    assert nlp.is_followup(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Reisepass",
        "Ich will heiraten",
        "Danke!",  # thanks ask nothing
        "Hallo",
        # long messages stand on their own even when they contain "das"
        "Ich bin letzte Woche nach Hannover gezogen und frage mich jetzt, ob ich das "
        "irgendwo melden muss",
    ],
)
def test_is_not_followup(text: str) -> None:
    assert not nlp.is_followup(text)


@pytest.mark.parametrize(
    "text",
    [
        "und für Kinder?",
        "Ausweis für mein Baby",
        "Pass für meine minderjährige Tochter",
        "Was gilt unter 18?",
        "and for my kids?",
        "for a minor",
        "for children under 24",
    ],
)
def test_mentions_children(text: str) -> None:
    assert nlp.mentions_children(text)


@pytest.mark.parametrize("text", ["Was kostet das?", "Pass für Erwachsene", "for adults"])
def test_does_not_mention_children(text: str) -> None:
    assert not nlp.mentions_children(text)


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("Ich fliege übermorgen in die Türkei", True),
        ("Brauche dringend einen Pass", True),
        ("my flight is tomorrow", True),
        ("the new ID won't be ready in time, I travel next week", True),
        ("Der Ausweis wird nicht rechtzeitig fertig", True),
        ("Ich brauche so schnell wie möglich einen Pass", True),
        ("Is there a paper ID they can give me on the spot?", True),
        ("I need it right away", True),
        ("Mein Perso ist weg und ich brauche sofort Ersatz", True),
        ("nächsten Dienstag habe ich einen Notartermin", True),  # a weekday deadline
        ("I need it by Friday", True),
        ("Wir fliegen in 5 Tagen nach Kanada", True),  # a count of days ahead
        ("in three days I leave", True),
        ("Der Pass kommt in 3 Wochen", False),
        ("Hat das Bürgeramt am Samstag offen?", False),  # opening hours, no deadline
        ("Muss ich das sofort melden?", False),  # asks whether it is due
        ("Do I have to register immediately after moving?", False),
        ("Wie schnell geht das?", False),  # asks how long, names no deadline
        ("Guten Morgen, was kostet ein Pass?", False),  # a greeting, no deadline
        ("Wie lange dauert ein Reisepass?", False),
        ("Morgenstern", False),
        ("Hat das Bürgeramt heute offen? Ich will meinen Pass beantragen", False),
    ],
)
def test_is_urgent(text: str, urgent: bool) -> None:
    assert nlp.is_urgent(text) is urgent


@pytest.mark.parametrize(
    "text",
    [
        "Hallo",
        "Guten Morgen!",
        "Danke",
        "thank you",
        "Moin",
        # small talk around a greeting asks for no service ("today" alone is no topic)
        "Hi there, how are you today?",
        "How are you today?",
        "Hallo, wie geht's?",
        "Moin moin, alles gut?",
    ],
)
def test_is_greeting(text: str) -> None:
    assert nlp.is_greeting(text)


@pytest.mark.parametrize(
    "text",
    [
        "Hallo, was kostet ein Pass?",
        "Reisepass",
        "",
        "today",  # no greeting: a time without a topic
        "Hallo, wo seid ihr?",  # a sub-question
        "Hi, I need a passport today",
    ],
)
def test_is_not_greeting(text: str) -> None:
    assert not nlp.is_greeting(text)


@pytest.mark.parametrize(
    ("text", "thanks"),
    [
        ("Danke!", True),
        ("vielen Dank für die Hilfe", True),
        ("ok thanks", True),
        ("Hallo", False),
        ("Danke, wie beantrage ich einen Pass?", False),  # a question, not a goodbye
    ],
)
def test_is_thanks(text: str, thanks: bool) -> None:
    assert nlp.is_thanks(text) is thanks


def test_content_words_drop_question_and_pointer_words() -> None:
    from servicepoint.catalog.search import STOPWORDS

    assert nlp.content_words("Was kostet das für den Reisepass?", STOPWORDS) == ["Reisepass"]
    assert nlp.content_words("Hallo, und wie lange dauert das?", STOPWORDS) == []
    # "Was passiert, wenn …?" asks for consequences, it names nothing
    assert nlp.content_words("Was passiert, wenn mein Ausweis abgelaufen ist?", STOPWORDS) == [
        "Ausweis",
        "abgelaufen",
    ]
    # the part of town says where, not which service
    assert nlp.content_words("passport in any district?", STOPWORDS) == ["passport"]
    # discourse particles carry no topic
    assert nlp.content_words("ok egal, wie beantrage ich einen Reisepass?", STOPWORDS) == [
        "Reisepass"
    ]
    # nor do letter and chat formulae
    letter = "Sehr geehrte Damen und Herren, hallo zusammen, sorry für die blöde Frage: Reisepass"
    assert nlp.content_words(letter, STOPWORDS) == ["Reisepass"]
    assert nlp.content_words("Dear Sir or Madam, passport? Kind regards", STOPWORDS) == [
        "passport",
        "Kind",
    ]
    # nor does "own": "einen eigenen Ausweis" is an Ausweis
    assert nlp.content_words("Ich brauche einen eigenen Ausweis", STOPWORDS) == ["Ausweis"]
    # numbers, also written out, name no service; nor does "für Erwachsene"
    assert nlp.content_words("a passport for my son, he is five", STOPWORDS) == ["passport", "son"]
    assert nlp.content_words("Reisepass für Erwachsene", STOPWORDS) == ["Reisepass"]
    # numbers (ages, dates) and inflected sub-question words name no service
    assert nlp.content_words("Ausweis mit 17 beantragt", STOPWORDS) == ["Ausweis"]
    # unless they belong to a phrase the caller keeps
    kept = nlp.content_words("address registration cost", STOPWORDS, keep=frozenset({"address"}))
    assert kept == ["address", "registration"]


@pytest.mark.parametrize(
    ("text", "content"),
    [
        ("Meine Mutter ist 89 Jahre alt und bettlägerig", ["Mutter", "bettlägerig"]),
        ("Braucht mein zehnjähriger Sohn einen Perso?", ["Braucht", "Sohn", "Perso"]),
        ("I'm a 19-year-old student", ["student"]),
        ("Ausweis vor 4 Wochen beantragt", ["Ausweis"]),
        # without a number, the words keep their meaning
        ("Wochenmarkt Öffnungszeiten alte Stadt", ["Wochenmarkt", "alte", "Stadt"]),
    ],
)
def test_content_words_drop_ages_and_spans(text: str, content: list[str]) -> None:
    from servicepoint.catalog.search import STOPWORDS

    assert nlp.content_words(text, STOPWORDS) == content


@pytest.mark.parametrize(
    ("text", "left"),
    [
        ("Was kostet ein Reisepass? Ich bin unter lena@example.org erreichbar", "Reisepass"),
        ("Sie erreichen mich unter 0511 123456. Was kostet ein Pass?", "Pass"),
        ("Rückruf bitte unter 0511 123456, es geht um Wohngeld", "Wohngeld"),
        ("Geboren am 12.03.1990, ich brauche eine Geburtsurkunde", "Geburtsurkunde"),
    ],
)
def test_contact_details_and_their_words_are_left_out_for_matching(text: str, left: str) -> None:
    from servicepoint.catalog.search import STOPWORDS

    # the details and the words around them say nothing about the service
    assert nlp.content_words(nlp.without_personal_data(text), STOPWORDS) == [left]
