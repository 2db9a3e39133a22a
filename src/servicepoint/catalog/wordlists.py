"""Word lists from the data folder: one file per topic and language
(`data/language/<lang>/<topic>.yaml`, e.g. `de/greetings.yaml`), read once; pure.

The search and the assistant gather each list over all languages, as a message may mix them;
each caller folds the words as it compares them. A word ending in `*` stands for any word
beginning so (`telefon*`: "Telefonnummer").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from servicepoint.config import DATA_ROOT

LANGUAGE_ROOT = DATA_ROOT / "language"


@cache
def topic(name: str, root: Path = LANGUAGE_ROOT) -> dict[str, dict[str, Any]]:
    """One topic's file of every language that has it, by language code (in code order)."""
    out = {}
    for path in sorted(root.glob(f"*/{name}.yaml")):
        out[path.parent.name] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return out


def _at(data: Any, key: str) -> Any:
    """The value under a dotted key ("stems.cost"), or None."""
    for part in key.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def gathered(name: str, key: str, root: Path = LANGUAGE_ROOT) -> tuple[str, ...]:
    """One list of a topic, gathered over all languages in language order."""
    return tuple(str(item) for data in topic(name, root).values() for item in _at(data, key) or [])


def of_language(name: str, key: str, root: Path = LANGUAGE_ROOT) -> dict[str, Any]:
    """One entry of a topic per language that has it: for rules that differ in form."""
    return {lang: value for lang, data in topic(name, root).items() if (value := _at(data, key))}


def alternation(items: Iterable[str]) -> str:
    """A regex group matching any of the words or phrases; `*` ends a word beginning."""
    return "(?:" + "|".join(pattern(item) for item in items) + ")"


def pattern(item: str) -> str:
    """One word or phrase as a regex: escaped, `*` for the rest of the word."""
    return re.escape(item[:-1]) + r"\w*" if item.endswith("*") else re.escape(item)
