"""City-wide facts from the data folder (city.yaml), read once per folder."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path
from typing import Any

import yaml

# The city's tables of districts: a city names them after itself (hannover_stadtteile.csv).
STADTBEZIRKE = "*stadtbezirke*.csv"
STADTTEILE = "*stadtteile*.csv"


def city_tables(city_dir: Path, pattern: str) -> list[Path]:
    """The data folder's files matching `pattern` (e.g. STADTTEILE), in name order."""
    return sorted(city_dir.glob(pattern))


@cache
def place_names(city_dir: Path) -> tuple[str, ...]:
    """The city's own name and its districts and quarters (from the data folder's
    *stadtbezirke*/*stadtteile* tables): where someone lives says nothing about which
    service they need."""
    names = [str(city_facts(city_dir).get("name") or "")]
    for pattern, column in ((STADTBEZIRKE, "stadtbezirk"), (STADTTEILE, "stadtteil")):
        for path in city_tables(city_dir, pattern):
            with path.open(encoding="utf-8") as fh:
                names += [row.get(column) or "" for row in csv.DictReader(fh)]
    return tuple(sorted({n for n in names if n}))


@cache
def city_facts(city_dir: Path) -> dict[str, Any]:
    path = city_dir / "city.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    return data or {}


def _elsewhere_topics(city_dir: Path) -> list[dict[str, Any]]:
    path = city_dir / "elsewhere.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    return list((data or {}).get("topics") or [])


@cache
def elsewhere_words(city_dir: Path) -> tuple[str, ...]:
    """Words and phrases naming matters that other authorities handle (the data folder's
    elsewhere.yaml): a question about them is no question for the city's services."""
    topics = _elsewhere_topics(city_dir)
    return tuple(sorted({str(w) for t in topics for w in t.get("words") or []}))


@cache
def elsewhere_topics(city_dir: Path) -> dict[str, tuple[str, str]]:
    """Each of those words with its topic's German and English name, so a reply can say
    which matter the question seems to be about (the German name where no English one)."""
    return {
        str(w): (str(t["topic"]), str(t.get("topic_en") or t["topic"]))
        for t in _elsewhere_topics(city_dir)
        if t.get("topic")
        for w in t.get("words") or []
    }
