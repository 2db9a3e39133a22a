"""Load a city's data folder into the database (idempotent: updates, never duplicates)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from servicepoint.catalog import locations as location_service
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.datafile import load_services


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
    for seed in locations:
        report.locations_created += location_service.seed_location(session, seed=seed)
        if progress:
            progress(seed.name)
    session.flush()
    return report


def count_items(folder: Path) -> int:
    return len(list((folder / "services").glob("*.yaml"))) + len(
        location_service.load_seed_file(folder / "locations.yaml")
    )
