"""The language's word lists live in the data folder (data/language/<lang>/<topic>.yaml), not
in code: they load, German and English have the same keys, and the code does not grow lists
again (counted by scripts/count_wordlists.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from servicepoint.assistant import nlp
from servicepoint.catalog import search, wordlists

ROOT = Path(__file__).resolve().parents[2]
# Topics whose mechanism reads both languages; separable_verbs is German grammar only.
BOTH = (
    "aspects calendar destinations followup greetings numbers offices personal_cues "
    "stopwords urgency"
).split()
# Word-list entries left in the modules that moved theirs (see wordlists_after in the notes).
MOVED = ("assistant/nlp.py", "assistant/lexicon.py", "catalog/search.py")
MAX_ENTRIES_IN_CODE = 40


def _count_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "count_wordlists", ROOT / "scripts" / "count_wordlists.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# Maps of word → number (the rest of a topic file holds words only).
NUMBERED = ("ordinals",)


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() if k not in NUMBERED for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


@pytest.mark.parametrize("topic", [*BOTH, "separable_verbs"])
def test_topic_files_load_with_words_only(topic: str) -> None:
    files = wordlists.topic(topic)
    assert "de" in files
    # YAML reads a bare `no` or `on` as a boolean: every word must stay a string
    leaves = _leaves(files)
    assert leaves and all(isinstance(leaf, str) and leaf for leaf in leaves)


def test_ordinals_choose_an_option_by_position() -> None:
    for lang, data in wordlists.topic("numbers").items():
        table = data.get("ordinals") or {}
        assert all(isinstance(w, str) and isinstance(p, int) and p >= 1 for w, p in table.items())
        assert table or lang not in ("de", "en")
    assert [nlp.option_index(w) for w in ("den", "zweiten", "Third", "1", "0", "99999")] == [
        None,
        1,
        2,
        0,
        None,
        None,
    ]


@pytest.mark.parametrize("topic", BOTH)
def test_german_and_english_have_the_same_keys(topic: str) -> None:
    files = wordlists.topic(topic)
    assert set(files) >= {"de", "en"}
    assert set(files["de"]) == set(files["en"])


def test_lists_are_gathered_over_languages_and_folded() -> None:
    assert {"fuer", "for", "nicht", "not"} <= search.STOPWORDS
    assert "weg" not in search.STOPWORDS  # a lost document, not a function word
    assert {"gebuehr", "fee "} <= set(nlp._ASPECT_STEMS["cost"])
    assert {"buergeramt", "townhall"} <= nlp.OFFICE_WORDS
    assert {"fuenf", "five"} <= nlp.NUMBER_WORDS


def test_rules_built_from_the_lists_still_read_phrases() -> None:
    assert nlp.aspects("Wie viel kostet der Pass?") == ["cost"]
    assert nlp.aspects("how much time does it take") == ["duration"]
    assert "documents" in nlp.aspects("Was brauche ich dafür?")
    assert "documents" not in nlp.aspects("Was brauche ich zu tun?")
    assert nlp.is_urgent("Ich brauche das bis Freitag")
    assert nlp.is_urgent("in fünf Tagen fliege ich")
    assert not nlp.is_urgent("Guten Morgen")
    assert nlp.without_personal_data("Rückruf bitte unter 0511 1234567") == ""


def test_code_holds_few_word_list_entries() -> None:
    script = _count_script()
    package = ROOT / "src" / "servicepoint"
    counts = script.count_files([package / path for path in MOVED], ROOT)
    assert sum(c.total for c in counts) < MAX_ENTRIES_IN_CODE, [(c.path, c.total) for c in counts]


def test_the_count_sees_each_kind_of_list() -> None:
    script = _count_script()
    source = (
        'A = frozenset({"x", "y", "z"})\n'
        'B = "one two three four".split()\n'
        'C = r"\\b(?:kosten|gebuehr|preis)\\b"\n'
        'D = ("de", "en")\n'
    )
    count = script.count_source(source)
    assert (count.containers, count.split_words, count.regex_branches) == (3, 4, 3)


def test_the_count_tells_names_from_words() -> None:
    script = _count_script()
    source = (
        'ASPECTS = ("cost", "where", "hours")\n'
        'KEYS = ["log_top", "margin", "n_content"]\n'
        'TAGS = r"\\[(?:E-Mail|IBAN|Datum)\\]"\n'
        'HINTS = ("unter", "minderj", "child", "cost")\n'
        "def f(a: str) -> bool:\n"
        '    return a in ("cost", "where") or a == "hours"\n'
    )
    count = script.count_source(source)
    # ASPECTS are names (used singly), KEYS and TAGS are no natural-language text; the hints
    # are a word list, counted whole although "cost" is also a name
    assert (count.containers, count.regex_branches, count.names) == (4, 0, 9)
