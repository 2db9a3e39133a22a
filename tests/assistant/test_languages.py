"""Language detection for the assistant and the translated labels in the data folder."""

from __future__ import annotations

import re
import string

import pytest
import yaml

from servicepoint.assistant import foreign, languages, lexicon
from servicepoint.catalog.datafile import load_services
from servicepoint.config import DATA_ROOT

FOREIGN = ("tr", "ar", "uk", "ru", "pl", "fa", "ro", "es")


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Pasaportumu yenilemek istiyorum", "tr"),
        ("Kimlik kartımı kaybettim", "tr"),
        ("Türk pasaportu yenileme", "tr"),
        ("كم تكلفة جواز السفر؟", "ar"),
        ("Скільки коштує паспорт?", "uk"),
        ("Сколько стоит паспорт?", "ru"),
        ("Сколько стоит Personalausweis?", "ru"),  # a German term in a Russian question
        ("паспорт", "ru"),  # one Cyrillic word decides the script
        ("Ile kosztuje paszport?", "pl"),
        ("Chcę się zameldować", "pl"),
        ("هزینه گذرنامه چقدر است؟", "fa"),
        ("Cât costă un pașaport?", "ro"),
        ("¿Cuánto cuesta un pasaporte?", "es"),
        # short German and English stay German and English
        ("perso", "de"),
        ("Pass", "de"),
        ("Anmeldeformular", "de"),
        ("auto anmelden", "de"),
        ("Wie viel kostet ein Personalausweis?", "de"),
        ("Mein polnischer Personalausweis ist abgelaufen", "de"),
        ("how much is a passport", "en"),
        ("Turkish passport renewal", "en"),
        ("criminal record check", "en"),
    ],
)
def test_detect(text: str, lang: str) -> None:
    assert languages.detect(text, default="de") == lang


def test_unclear_short_messages_keep_the_default() -> None:
    assert languages.detect("ok", default="en") == "en"
    assert languages.detect("123", default="en") == "en"


def test_catalog_questions_stay_german_or_english() -> None:
    """The catalog's own German and English examples and keywords (3,500) are not taken for
    another language; the two known exceptions are the documented ones."""
    switched = []
    for svc in load_services(DATA_ROOT / "hannover" / "services"):
        for lang, items in (*svc.examples.items(), *svc.keywords.items()):
            switched += [t for t in items if languages.detect(t, default=lang) not in ("de", "en")]
    assert len(switched) <= 2, switched


def test_supported_and_direction() -> None:
    assert set(FOREIGN) | {"de", "en"} <= languages.supported()
    assert languages.direction("ar") == languages.direction("fa") == "rtl"
    assert {languages.direction(x) for x in ("de", "en", "tr", "uk", "ru", "pl")} == {"ltr"}
    assert languages.direction("xx") == "ltr"


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_language_file_has_every_label_with_the_same_placeholders() -> None:
    reference = languages.labels("de")
    assert reference.keys() == languages.labels("en").keys()
    for lang in languages.supported():
        data = lexicon.entries()[lang]
        assert data.get("dir") in ("ltr", "rtl"), lang
        assert data.get("name"), lang
        labels = languages.labels(lang)
        assert labels.keys() == reference.keys(), (lang, reference.keys() ^ labels.keys())
        for key, text in labels.items():
            assert text.strip(), (lang, key)
            assert _fields(text) == _fields(reference[key]), (lang, key)


def test_action_labels_are_the_ones_the_replies_use() -> None:
    """The German reference labels of the actions are the replies' own: otherwise they could
    not be recognised and translated."""
    sources = (DATA_ROOT.parent / "assistant" / "compose.py").read_text(encoding="utf-8")
    sources += (DATA_ROOT.parent / "assistant" / "replies.py").read_text(encoding="utf-8")
    for key in foreign.ACTION_KEYS:
        head = re.split(r"\{", languages.labels("de")[key])[0].strip()
        assert f'"{head}' in sources, key


def test_nationality_files_use_known_country_codes() -> None:
    from babel import Locale

    codes = set(Locale("en").territories)
    for lang in ("de", "en"):
        path = DATA_ROOT / "language" / lang / "nationalities.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert set(data["nationalities"]) <= codes, lang
        assert data["foreign"] and data["origin_cues"] and data["endings"]


@pytest.mark.parametrize(
    ("text", "lang", "country"),
    [
        ("Mein polnischer Personalausweis ist abgelaufen", "de", "PL"),
        ("Turkish passport renewal", "en", "TR"),
        ("Ich bin Türke, mein Pass läuft ab", "de", "TR"),
        ("Reisepass aus der Türkei verlängern", "de", "TR"),
        ("passport from Ukraine", "en", "UA"),
        ("deutscher und polnischer Pass", "de", "PL"),
        ("ausländischer Reisepass", "de", foreign.ANY_COUNTRY),
        ("Brauche ich für die Reise nach Polen einen Reisepass?", "de", None),  # a destination
        ("Urlaub in der Türkei, welcher Pass?", "de", None),
        ("trip to Turkey passport", "en", None),
        ("deutscher Reisepass", "de", None),
        ("Reisepass beantragen", "de", None),
    ],
)
def test_country_named(text: str, lang: str, country: str | None) -> None:
    assert foreign.country_named(text, lang, "DE") == country
