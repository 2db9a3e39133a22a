"""Load a city's data folder into the database (idempotent: updates, never duplicates)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from servicepoint.catalog import locations as location_service
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.datafile import load_services
from servicepoint.catalog.errors import InvalidLocationData
from servicepoint.catalog.hours import SPECIAL_DAYS, SPECIAL_RULES
from servicepoint.core.city import city_facts


@dataclass
class SeedReport:
    services_created: int = 0
    services_updated: int = 0
    services_removed: int = 0
    locations_created: int = 0
    locations_total: int = 0


def seed_catalog(
    session: Session, *, folder: Path, progress: Callable[[str], None] | None = None
) -> SeedReport:
    """Validate every file first, then write; a broken file changes nothing."""
    records = load_services(folder / "services")
    locations = location_service.load_seed_file(folder / "locations.yaml")
    report = SeedReport(locations_total=len(locations))
    for record in records:
        _, created = catalog_service.upsert_service(session, record=record)
        report.services_created += created
        report.services_updated += not created
        if progress:
            progress(record.name.de)
    report.services_removed = catalog_service.remove_services_not_in(
        session, keep_ids={r.id for r in records}
    )
    calendar = _city_calendar(folder)
    for seed in locations:
        seed = _with_city_calendar(seed, calendar)
        report.locations_created += location_service.seed_location(session, seed=seed)
        if progress:
            progress(seed.name)
    session.flush()
    return report


def _city_calendar(folder: Path) -> dict[str, str]:
    """How the city keeps 24 and 31 December (city.yaml `year_end`), with its source."""
    rules = dict(city_facts(folder).get("year_end") or {})
    for key in SPECIAL_DAYS:
        if rules.get(key) not in (None, *SPECIAL_RULES):
            raise InvalidLocationData(f"city.yaml: year_end.{key} must be one of {SPECIAL_RULES}")
    return {k: str(v) for k, v in rules.items() if v is not None}


def _with_city_calendar(
    seed: location_service.LocationSeed, calendar: dict[str, str]
) -> location_service.LocationSeed:
    """An office follows the city's calendar unless its own entry says otherwise."""
    rules = {k: calendar[k] for k in SPECIAL_DAYS if k in calendar and getattr(seed, k) is None}
    source = calendar.get("source", "city.yaml")
    sources = {**seed.field_sources, **dict.fromkeys(rules, source)}
    return seed.model_copy(update={**rules, "field_sources": sources})


def count_items(folder: Path) -> int:
    return len(list((folder / "services").glob("*.yaml"))) + len(
        location_service.load_seed_file(folder / "locations.yaml")
    )
