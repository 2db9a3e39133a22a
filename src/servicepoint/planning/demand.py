"""Demand data from the city's folder: residents per Stadtteil, as published (no estimates)."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from servicepoint.core.city import STADTTEILE, city_tables


@dataclass(frozen=True)
class District:
    name: str
    borough: str
    population: int | None
    as_of: dt.date | None


def _int(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def _district(row: dict[str, str]) -> District:
    population, as_of = _int(row["population"]), _date(row["population_date"])
    return District(row["stadtteil"], row["stadtbezirk"], population, as_of)


def load_districts(city_dir: Path) -> list[District]:
    """The city's Stadtteile (its *stadtteile*.csv), most residents first; an empty list if the
    data folder has no such table."""
    rows: list[dict[str, str]] = []
    for path in city_tables(city_dir, STADTTEILE):
        with path.open(encoding="utf-8", newline="") as handle:
            rows += csv.DictReader(handle)
    districts = [_district(r) for r in rows]
    return sorted(districts, key=lambda d: -(d.population or 0))


def share_of_largest(districts: list[District]) -> dict[str, int]:
    """Each district's population as a percentage of the largest: the width of its bar."""
    top = max((d.population or 0 for d in districts), default=0)
    return {d.name: round(100 * (d.population or 0) / top) if top else 0 for d in districts}
