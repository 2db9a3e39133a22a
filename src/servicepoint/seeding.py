"""Load a whole city folder: the catalog and locations, then each location's booking capacity."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from servicepoint.appointment import service as appointment_service
from servicepoint.casework.formspec import load_forms
from servicepoint.catalog.seed import SeedReport, seed_catalog


def seed_city(
    session: Session, *, folder: Path, progress: Callable[[str], None] | None = None
) -> SeedReport:
    """Idempotent: running it again updates and never duplicates. The online forms are checked
    first: the catalog links every service that has one to it."""
    load_forms(folder)
    report = seed_catalog(session, folder=folder, progress=progress)
    appointment_service.seed_capacity(session, folder=folder)
    return report
