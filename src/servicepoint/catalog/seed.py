"""Load a city's data folder into the database (idempotent: updates, never duplicates)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.catalog import locations as location_service
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.datafile import CatalogFileError, ServiceFile, load_services
from servicepoint.catalog.errors import InvalidLocationData
from servicepoint.catalog.hours import SPECIAL_DAYS, SPECIAL_RULES
from servicepoint.catalog.models import Service
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
    records = with_online_forms(load_services(folder / "services"), folder)
    locations = location_service.load_seed_file(folder / "locations.yaml")
    _no_clash_with_form_services(session, records)
    report = SeedReport(locations_total=len(locations))
    # Stale services first: a data file may take over the slug of a service whose file is gone.
    report.services_removed = catalog_service.remove_services_not_in(
        session, keep_ids={r.id for r in records}
    )
    for record in records:
        _, created = catalog_service.upsert_service(session, record=record)
        report.services_created += created
        report.services_updated += not created
        if progress:
            progress(record.name.de)
    calendar = _city_calendar(folder)
    for seed in locations:
        seed = _with_city_calendar(seed, calendar)
        report.locations_created += location_service.seed_location(session, seed=seed)
        if progress:
            progress(seed.name)
    session.flush()
    return report


def _no_clash_with_form_services(session: Session, records: list[ServiceFile]) -> None:
    """A data file may not take the id or slug of a service made on the admin form: the seed
    would overwrite it (or the database refuse the slug). Said before anything is written."""
    form_services = session.scalars(select(Service).where(Service.source == "form")).all()
    by_id = {svc.id: svc for svc in form_services}
    by_slug = {svc.slug: svc for svc in form_services}
    for record in records:
        for attr, taken in (("id", by_id), ("slug", by_slug)):
            value = getattr(record, attr)
            svc = taken.get(value)
            if svc is not None:
                raise CatalogFileError(
                    f"the data file of {record.name.de!r} uses the {attr} {value!r} of the "
                    f"service {svc.name_de!r} made on the admin form "
                    f"(/verwaltung/leistungen/{svc.id}); give the data file another {attr}"
                )


def online_form_path(service_id: str) -> str:
    """Where the city's own online form of a service lives (casework's citizen pages)."""
    return f"/antrag/{service_id}"


def with_online_forms(records: list[ServiceFile], folder: Path) -> list[ServiceFile]:
    """A service with a form in the data folder (forms/<service id>.yaml) is done online with
    our own form, so the catalog, the search and the assistant lead there first: "online" comes
    first among its channels and online_url is the form. A form for no service is an error."""
    forms = {path.stem for path in (folder / "forms").glob("*.yaml")}
    unknown = sorted(forms - {r.id for r in records})
    if unknown:
        raise CatalogFileError(f"forms/{unknown[0]}.yaml: there is no service {unknown[0]!r}")
    return [_with_online_form(r) if r.id in forms else r for r in records]


def _with_online_form(record: ServiceFile) -> ServiceFile:
    channels = ["online", *(c for c in record.channels if c != "online")]
    data = {**record.model_dump(), "channels": channels}
    data["online_url"] = online_form_path(record.id)
    try:
        return ServiceFile.model_validate(data)  # e.g. an online service needs a tutorial
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]) for e in exc.errors())
        raise CatalogFileError(
            f"{record.slug}.yaml: has an online form (forms/{record.id}.yaml), so: {problems}"
        ) from exc


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
