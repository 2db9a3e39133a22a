"""Which language a question is written in, and whether the assistant has labels for it.

German and English are told apart by `nlp.detect_lang` (tuned on the catalog's questions); a
message switches to another language only when the detector (lingua, whose models ship with
the package) is sure of it. A non-Latin script decides at once, even in one word: "паспорт" is
no German. The languages are those with a data file `data/language/<code>/assistant.yaml`
that has `labels`; each file says its writing direction (`dir`) and the language's own `name`.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Collection, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import simplemma

from servicepoint.assistant import lexicon, nlp

if TYPE_CHECKING:
    from lingua import LanguageDetector

HOME = ("de", "en")  # the languages the details are written in
# A Latin-script message switches from German/English to another language only when it has at
# least MIN_LETTERS letters, fewer than HOME_SHARE of its words are German or English dictionary
# words, and the detector gives the other languages together at least CONFIDENT: "perso" or
# "Anmeldeformular" stay German, "Kimlik kartı" is Turkish. Tuned on the catalog's own 3,522
# German and English examples and keywords (the detector alone at 0.95 switched 8, e.g. "auto
# anmelden" to Turkish; with the dictionary share 2: "Fe de vida", which is Spanish, and
# "Belegart 9") and a handful of questions in each other language (test_languages.py).
CONFIDENT = 0.8
UNLABELLED_SURE = 0.6
HOME_SHARE = 0.5
MIN_LETTERS = 8
# One Latin word is too little for the detector over all languages: German compounds read as
# Welsh ("Zweithund"), Yoruba ("Erstwohnsitz") or Norwegian ("Parkvignette").
MIN_WORDS = 2
PREFER_LABELLED = 0.5
UNDETERMINED = "und"  # ISO 639-2 "undetermined": a script no detector places


def _files() -> dict[str, dict[str, Any]]:
    return {code: data for code, data in lexicon.entries().items() if data.get("labels")}


def supported() -> frozenset[str]:
    """Languages with translated labels in the data folder (German and English included)."""
    return frozenset(_files()) | frozenset(HOME)


def direction(lang: str) -> str:
    """ "rtl" or "ltr", as the language's data file says; unknown languages are "ltr"."""
    return "rtl" if _files().get(lang, {}).get("dir") == "rtl" else "ltr"


def labels(lang: str) -> dict[str, str]:
    """The translated fixed strings of one language (empty for an unknown one)."""
    return {str(k): str(v) for k, v in (_files().get(lang, {}).get("labels") or {}).items()}


def unlabelled(home: str) -> dict[str, str]:
    """The fixed strings (German or English) that open a reply to a question in a language
    without labels (`unlabelled` in de/en assistant.yaml)."""
    data = lexicon.entries().get(home, {}).get("unlabelled") or {}
    return {str(k): str(v) for k, v in data.items()}


def own_name(lang: str) -> str:
    """The language's name in itself ("Türkçe"), or its code when unknown."""
    return str(_files().get(lang, {}).get("name") or lang)


def _script_of(word: str) -> str:
    letter = next(ch for ch in word if ch.isalpha())
    return unicodedata.name(letter, "?").split(" ")[0]


def _lettered(text: str) -> list[str]:
    """The words of a message that have letters."""
    return [w for w in text.split() if any(ch.isalpha() for ch in w)]


def _written_in(word: str, name: str) -> bool:
    return any(ch.isalpha() for ch in word) and _script_of(word) == name


def script(text: str) -> str | None:
    """The writing system of the message ("LATIN", "ARABIC", "CYRILLIC", …): another script
    than Latin when it writes at least half of the words, since a question in Russian may name
    a German term ("Сколько стоит Personalausweis?")."""
    counts = Counter(_script_of(w) for w in text.split() if any(ch.isalpha() for ch in w))
    if not counts:
        return None
    other = [(n, s) for s, n in counts.items() if s != "LATIN"]
    if other and 2 * max(other)[0] >= sum(counts.values()):
        return max(other)[1]
    return "LATIN" if "LATIN" in counts else counts.most_common(1)[0][0]


@cache
def _scripts() -> dict[str, str | None]:
    # A language's script is that of its own name in the data file ("Українська": CYRILLIC).
    return {code: script(own_name(code)) for code in supported()}


@cache
def _detector() -> LanguageDetector:
    """Built once per process, on first use, over all of lingua's languages, so that a French
    question is French and not the nearest supported language. Low-accuracy mode (trigrams
    only) adds ~70 MB to a worker and stays around a millisecond; the full models would add
    ~1 GB."""
    from lingua import LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()


def _ranked(text: str) -> list[tuple[str, float]]:
    return [
        (v.language.iso_code_639_1.name.lower(), v.value)
        for v in _detector().compute_language_confidence_values(text)
        if v.value > 0
    ]


def has_labels(lang: str) -> bool:
    """Whether the assistant can write a preface in `lang` (its labels are in the data folder)."""
    return lang in supported()


def _likeliest(ranked: Sequence[tuple[str, float]], allowed: Collection[str] = ()) -> str | None:
    """The detector's first language; a labelled one (among `allowed`, when given) that has at
    least PREFER_LABELLED of the first's confidence wins the tie: one word "паспорт" is
    Kazakh 0.43, Russian 0.28 by trigrams alone."""
    if not ranked:
        return None
    top = ranked[0][1]
    for code, p in ranked:
        if has_labels(code) and (not allowed or code in allowed) and p >= PREFER_LABELLED * top:
            return code
    return ranked[0][0]


def detect(text: str, *, default: str) -> str:
    """The message's language (ISO 639-1 code, also of a language the assistant has no labels
    for; "und" for a script the detector cannot place); `default` where a short German/English
    message cannot tell."""
    written = script(text)
    if written is None:
        return default
    if written != "LATIN":
        same = [code for code, s in _scripts().items() if s == written]
        # only the words in that script: a German term in it would pull towards German
        ranked = _ranked(" ".join(w for w in text.split() if _written_in(w, written)))
        if not ranked:
            return same[0] if len(same) == 1 else UNDETERMINED
        return _likeliest(ranked, same) or UNDETERMINED
    home = nlp.detect_lang(text, default=default if default in HOME else "de")
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS or len(_lettered(text)) < MIN_WORDS:
        return home
    known = dict(simplemma.langdetect(text, lang=HOME))
    if max(known.get(code, 0.0) for code in HOME) >= HOME_SHARE:
        return home
    # Sure that it is neither German nor English, the likeliest other language is taken even
    # when its neighbours share the rest ("Türk pasaportu yenileme": Turkish 0.58, Romanian 0.42).
    others = [(code, p) for code, p in _ranked(text) if code not in HOME]
    if not others or sum(p for _, p in others) < CONFIDENT:
        return home
    code = _likeliest(others) or home
    # A language the assistant has no labels for must be clear on its own: letters that make
    # no language ("qwrtz plmokn") spread over many rare ones and are read as German/English.
    if not has_labels(code) and dict(others).get(code, 0.0) < UNLABELLED_SURE:
        return home
    return code
