"""Locations (ServicePoints): seed, read, edit and import, tracking where each value came from."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.catalog.errors import InvalidLocationData, LocationNotFound
from servicepoint.catalog.hours import HoursError, parse_hours
from servicepoint.catalog.models import Location
from servicepoint.core.clock import utcnow
from servicepoint.core.i18n import N_
from servicepoint.core.inputs import (
    MAX_JSON_DEPTH,
    LongText,
    Name,
    ShortText,
    first_bad_field,
    json_texts,
    json_too_deep,
)

# What the location form may change. Opening hours and the 24/31 December rules are office
# facts: only the capacity page edits them, because it checks them against the service hours.
EDITABLE = (
    "name",
    "street",
    "house_number",
    "building",
    "postcode",
    "city",
    "lat",
    "lon",
    "phone",
    "notes",
)
OFFICE_FACTS = ("opening_hours", "dec24", "dec31")
# An official file may publish opening hours too; slots are cut to them (appointment.slots).
IMPORTABLE = (*EDITABLE, "opening_hours")
# The city's seed and the capacity page may set every fact.
PATCHABLE = (*EDITABLE, *OFFICE_FACTS)
# How an office keeps 24 and 31 December (see appointment.slots.SPECIAL_RULES).
SPECIAL_DAY_RULE = r"^(closed|morning|regular)?$"
# Kinds that are no place to go to: the city's video consultations take bookings like an
# office, but they belong on no map, location list, kiosk or call display.
VIRTUAL_KINDS = frozenset({"video"})
# A Bürgeramt: an office with an address and weekly hours. The other kinds are a mobile
# ServicePoint's stops (open on visit dates only) and the virtual ones.
OFFICE_KIND = "buergeramt"


class LocationPatch(BaseModel):
    """Changes to a location; fields left out stay as they are, empty strings clear a value."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    # Names are normalised and may not start like a spreadsheet formula (core.inputs).
    name: Name | None = Field(default=None, min_length=2, max_length=200)
    street: Name | None = Field(default=None, max_length=200)
    house_number: ShortText | None = Field(default=None, max_length=20)
    building: Name | None = Field(default=None, max_length=200)
    postcode: str | None = Field(default=None, max_length=5, pattern=r"^(\d{5})?$")
    city: Name | None = Field(default=None, max_length=100)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    opening_hours: ShortText | None = Field(default=None, max_length=500)
    dec24: str | None = Field(default=None, max_length=16, pattern=SPECIAL_DAY_RULE)
    dec31: str | None = Field(default=None, max_length=16, pattern=SPECIAL_DAY_RULE)
    phone: ShortText | None = Field(default=None, max_length=64)
    notes: LongText | None = Field(default=None, max_length=2000)

    @field_validator("opening_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value:
            try:
                parse_hours(value)
            except HoursError as exc:
                raise ValueError(str(exc)) from exc
        return value

    @field_validator("lat", "lon", mode="before")
    @classmethod
    def _blank_coordinate(cls, value: Any) -> Any:
        # The edit form sends unknown coordinates as "": that clears them like any other field.
        return None if isinstance(value, str) and not value.strip() else value


class LocationSeed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]{1,63}$")
    name: str
    kind: str = OFFICE_KIND
    street: str | None = None
    house_number: str | None = None
    building: str | None = None
    postcode: str | None = None
    lat: float | None = None
    lon: float | None = None
    opening_hours: str | None = None
    dec24: str | None = Field(default=None, pattern=SPECIAL_DAY_RULE)
    dec31: str | None = Field(default=None, pattern=SPECIAL_DAY_RULE)
    phone: str | None = None
    notes: str | None = None
    source: str
    # A field whose value comes from elsewhere than `source` (e.g. the city's calendar).
    field_sources: dict[str, str] = Field(default_factory=dict)


def _stamp(loc: Location, field: str, *, source: str, by: str) -> None:
    prov = dict(loc.provenance or {})
    prov[field] = {"source": source, "by": by, "at": utcnow().isoformat(timespec="seconds")}
    loc.provenance = prov


def _set(loc: Location, field: str, value: Any, *, source: str, by: str) -> bool:
    if field == "opening_hours":
        value = parse_hours(value) if value else None
    if value == "":
        value = None
    if getattr(loc, field) == value:
        return False
    setattr(loc, field, value)
    _stamp(loc, field, source=source, by=by)
    return True


def apply_patch(
    loc: Location,
    patch: LocationPatch,
    *,
    source: str,
    by: str,
    fields: tuple[str, ...] = PATCHABLE,
) -> list[str]:
    """Set the given ones of `fields`; returns the names of those that changed."""
    changed = []
    for field in patch.model_fields_set & set(fields):
        if _set(loc, field, getattr(patch, field), source=source, by=by):
            changed.append(field)
    return sorted(changed)


def load_seed_file(path: Path) -> list[LocationSeed]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    seeds = []
    for i, entry in enumerate(raw):
        try:
            seeds.append(LocationSeed.model_validate(entry))
        except ValidationError as exc:
            raise InvalidLocationData(f"{path.name}: entry {i + 1}: {exc}") from exc
    return seeds


def seed_location(session: Session, *, seed: LocationSeed) -> bool:
    """Create a location from the city data; values an admin has set are never overwritten."""
    loc = session.get(Location, seed.id)
    created = loc is None
    if loc is None:
        loc = Location(id=seed.id, name=seed.name, kind=seed.kind, city="Hannover", provenance={})
        session.add(loc)
        _stamp(loc, "name", source=seed.source, by="seed")
    for field in PATCHABLE:
        value = getattr(seed, field, None)
        current_by = (loc.provenance or {}).get(field, {}).get("by")
        if value is not None and current_by in (None, "seed"):
            source = seed.field_sources.get(field, seed.source)
            _set(loc, field, value, source=source, by="seed")
    return created


def seed_virtual(
    session: Session, *, location_id: str, name: str, kind: str, source: str
) -> Location:
    """A location that is no place (e.g. the video consultations): a name and a kind, and no
    address, hours or city, which stay unknown; a name an admin has set is kept."""
    loc = session.get(Location, location_id)
    if loc is None:
        loc = Location(id=location_id, name=name, kind=kind, provenance={})
        session.add(loc)
        _stamp(loc, "name", source=source, by="seed")
    elif (loc.provenance or {}).get("name", {}).get("by") in (None, "seed"):
        _set(loc, "name", name, source=source, by="seed")
    loc.kind = kind
    return loc


def is_physical(loc: Location) -> bool:
    return loc.kind not in VIRTUAL_KINDS


def list_locations(session: Session) -> Sequence[Location]:
    """The places citizens can go to (maps, lists, kiosks); virtual ones are left out."""
    stmt = select(Location).where(Location.kind.not_in(VIRTUAL_KINDS))
    return session.scalars(stmt.order_by(Location.name)).all()


def list_offices(session: Session) -> Sequence[Location]:
    """The city's Bürgerämter only, by name: no mobile stops, no virtual locations (what the
    assistant names for "where")."""
    stmt = select(Location).where(Location.kind == OFFICE_KIND)
    return session.scalars(stmt.order_by(Location.name)).all()


def get_location(session: Session, *, location_id: str) -> Location:
    # A NUL can never be an id, and PostgreSQL rejects it in a query: answer "not found".
    loc = None if "\x00" in location_id else session.get(Location, location_id)
    if loc is None:
        raise LocationNotFound(N_("Diesen Standort gibt es nicht."))
    return loc


def get_office(session: Session, *, location_id: str) -> Location:
    """A place citizens can go to; a virtual location is 404 here (no kiosk, no display)."""
    loc = get_location(session, location_id=location_id)
    if not is_physical(loc):
        raise LocationNotFound(N_("Diesen Standort gibt es nicht."))
    return loc


def update_location(
    session: Session, *, location_id: str, patch: LocationPatch, source: str, by: str
) -> list[str]:
    return apply_patch(get_location(session, location_id=location_id), patch, source=source, by=by)


# -- import of official files -----------------------------------------------------------------
MAX_IMPORT_ROWS = 1000  # a city has dozens of offices; more rows are a wrong file
_REJECTED = N_("Import abgelehnt, fehlerhafte Zeilen: %(rows)s")


def _rows_from_csv(text: str) -> list[dict[str, Any]]:
    # The header decides the delimiter: values such as opening hours contain ";" themselves.
    header = text.split("\n", 1)[0]
    reader = csv.DictReader(
        io.StringIO(text), delimiter=";" if header.count(";") > header.count(",") else ","
    )
    try:
        rows = list(reader)
    except csv.Error as exc:  # e.g. a cell beyond the csv module's field size limit
        raise InvalidLocationData(_REJECTED, rows=f"{reader.line_num}: {exc}") from exc
    surplus = [str(n) for n, row in enumerate(rows, start=1) if None in row]
    if surplus:  # DictReader files cells beyond the header under the key None
        raise InvalidLocationData(
            _REJECTED, rows="; ".join(f"{n}: zu viele Spalten" for n in surplus)
        )
    return [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items()} for row in rows]


def _rows_from_geojson(text: str) -> list[dict[str, Any]]:
    if json_too_deep(text):  # json.loads would recurse until the interpreter gives up
        raise InvalidLocationData(
            N_("Die GeoJSON-Datei ist zu tief verschachtelt (höchstens %(depth)s Ebenen)."),
            depth=MAX_JSON_DEPTH,
        )
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidLocationData(N_("Die Datei ist kein gültiges GeoJSON.")) from exc
    except ValueError as exc:  # an integer with more digits than Python converts (over 4300)
        raise InvalidLocationData(
            N_("Die GeoJSON-Datei enthält eine Zahl mit zu vielen Ziffern.")
        ) from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InvalidLocationData(N_("GeoJSON muss eine FeatureCollection sein."))
    features = doc.get("features")
    if not isinstance(features, list):
        raise InvalidLocationData(N_("GeoJSON muss eine FeatureCollection sein."))
    rows = []
    for feature in features:
        feature = feature if isinstance(feature, dict) else {}
        raw_props = feature.get("properties")
        props = dict(raw_props) if isinstance(raw_props, dict) else {}
        geom = feature.get("geometry")
        if isinstance(geom, dict) and geom.get("type") == "Point":
            coords = geom.get("coordinates")
            if not isinstance(coords, list) or len(coords) < 2:
                raise InvalidLocationData(N_("Die Datei ist kein gültiges GeoJSON."))
            props["lon"], props["lat"] = coords[0], coords[1]
        rows.append({str(k).lower(): v for k, v in props.items()})
    return rows


def parse_import(text: str, *, filename: str) -> list[dict[str, Any]]:
    """Rows of an official CSV or GeoJSON file as plain dicts (not yet validated)."""
    looks_json = filename.lower().endswith((".geojson", ".json")) or text.lstrip().startswith("{")
    rows = _rows_from_geojson(text) if looks_json else _rows_from_csv(text)
    if not rows:
        raise InvalidLocationData(N_("Die Datei enthält keine Standorte."))
    if len(rows) > MAX_IMPORT_ROWS:
        raise InvalidLocationData(
            N_("Die Datei enthält zu viele Zeilen (höchstens %(rows)s)."), rows=MAX_IMPORT_ROWS
        )
    _refuse_bad_text(rows)
    return rows


def _refuse_bad_text(rows: list[dict[str, Any]]) -> None:
    """The request guard's rule for every key and value of every row: a file is read after
    the guard, and a JSON escape such as \\u0000 only becomes a character when parsed."""
    for number, row in enumerate(rows, start=1):
        field = first_bad_field(json_texts(row, root="?"))
        if field is not None:
            raise InvalidLocationData(
                # The request guard's words (core.inputs.BAD_TEXT), with the row of the file.
                N_(
                    "Ungültige Eingabe – Zeile %(row)s, %(field)s: enthält unerlaubte Steuer- "
                    "oder Sonderzeichen"
                ),
                row=number,
                field=field,
            )


def _match(session: Session, row: dict[str, Any]) -> Location | None:
    """The office a row names; a virtual location takes no address from a file."""
    loc = None
    if row.get("id"):
        loc = session.get(Location, str(row["id"]))
    elif row.get("name"):
        loc = session.scalar(select(Location).where(Location.name == str(row["name"])))
    return loc if loc is not None and is_physical(loc) else None


def import_locations(
    session: Session, *, text: str, filename: str, source: str, by: str
) -> dict[str, list[str]]:
    """Apply an official file: all rows are checked first, so a bad row changes nothing."""
    rows = parse_import(text, filename=filename)
    planned: list[tuple[Location, LocationPatch]] = []
    problems = []
    for number, row in enumerate(rows, start=1):
        loc = _match(session, row)
        if loc is None:
            problems.append(f"{number}: unbekannter Standort ({row.get('id') or row.get('name')})")
            continue
        values = {k: v for k, v in row.items() if k in IMPORTABLE and v not in ("", None)}
        try:
            planned.append((loc, LocationPatch.model_validate(values)))
        except ValidationError as exc:
            fields = ", ".join(str(e["loc"][0]) for e in exc.errors())
            problems.append(f"{number}: {fields}")
    if problems:
        raise InvalidLocationData(_REJECTED, rows="; ".join(problems[:20]))
    return {
        loc.id: apply_patch(loc, patch, source=source, by=by, fields=IMPORTABLE)
        for loc, patch in planned
    }
