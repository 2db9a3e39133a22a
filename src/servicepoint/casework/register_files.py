"""The register files of a city folder (data/<city>/registers/): one validated model per row.

A broken file fails naming the file, the line (or entry) and the field. Lines starting with `#`
are comments (each synthetic file says so in its first line). Pure: no database.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from servicepoint.catalog.datafile import CatalogFileError, Text


class RegisterFileError(CatalogFileError):
    """A register file failed validation; the message names file, line or entry, and field."""


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_none(cls, raw: Any) -> Any:
        if isinstance(raw, dict):
            return {k: (None if v == "" else v) for k, v in raw.items()}
        return raw


class Resident(_Row):
    id: str = Field(pattern=r"^[A-Za-z0-9\-]{1,32}$")
    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    birth_date: dt.date
    street: str = Field(min_length=1, max_length=100)
    house_number: str = Field(min_length=1, max_length=10)
    postcode: str = Field(pattern=r"^\d{5}$")
    city: str = Field(min_length=1, max_length=100)
    residence: Literal["main", "secondary"]
    nationality: str = Field(pattern=r"^[A-Z]{2}$")
    registered_since: dt.date
    transfer_block: bool


class ZoneStreet(_Row):
    model_config = ConfigDict(populate_by_name=True)

    street: str = Field(min_length=1, max_length=100)
    from_number: int | None = Field(default=None, alias="from", ge=1)
    to_number: int | None = Field(default=None, alias="to", ge=1)

    @model_validator(mode="after")
    def _range(self) -> ZoneStreet:
        if (self.from_number is None) != (self.to_number is None):
            raise ValueError("give both 'from' and 'to', or neither (the whole street)")
        if self.from_number and self.to_number and self.from_number > self.to_number:
            raise ValueError("'from' must not be greater than 'to'")
        return self

    def covers(self, number: int | None) -> bool:
        if self.from_number is None or self.to_number is None:
            return True
        return number is not None and self.from_number <= number <= self.to_number


class ParkingZone(_Row):
    id: str = Field(pattern=r"^[A-Za-z0-9\-]{1,32}$")
    name: Text
    streets: list[ZoneStreet] = Field(min_length=1)


class Eligibility(_Row):
    min_age: int = Field(ge=0, le=30)
    eu_citizens: bool  # other EU citizens vote too (municipal elections); Germans always


class Election(_Row):
    id: str = Field(pattern=r"^[a-z0-9\-]{1,64}$")
    name: Text
    date: dt.date
    application_deadline: dt.date
    eligibility: Eligibility

    @model_validator(mode="after")
    def _deadline_first(self) -> Election:
        if self.application_deadline > self.date:
            raise ValueError("the application deadline must not be after the election")
        return self


class RollEntry(_Row):
    resident_id: str = Field(min_length=1, max_length=32)
    listed: bool
    polling_district: str | None = Field(default=None, max_length=16)
    postal_vote_issued: bool


class DogRecord(_Row):
    resident_id: str = Field(min_length=1, max_length=32)
    tax_number: str = Field(min_length=1, max_length=32)
    dog_name: str = Field(min_length=1, max_length=100)
    breed: str | None = Field(default=None, max_length=100)
    dangerous: bool  # danger established by the authority (§ 7 NHundG), not by breed
    since: dt.date
    until: dt.date | None = None

    def current(self, today: dt.date) -> bool:
        return self.since <= today and (self.until is None or self.until >= today)


M = TypeVar("M", bound=BaseModel)


def _problem(path: Path, where: str, exc: ValidationError) -> RegisterFileError:
    lines = [
        f"{path.name}: {where}, field {'.'.join(map(str, e['loc'])) or '(row)'!r}: {e['msg']}"
        for e in exc.errors()
    ]
    return RegisterFileError("\n".join(lines))


def _csv_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each data line; `#` lines are comments (the SYNTHETIC mark)."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip() and not line.startswith("#"):
            yield number, next(csv.reader([line]))


def read_csv(path: Path, model: type[M]) -> list[M]:
    """Every row of a register CSV, validated; the first bad row fails naming its line."""
    if not path.exists():
        return []
    lines = _csv_lines(path)
    _, header = next(lines, (0, []))
    rows: list[M] = []
    for number, cells in lines:
        if len(cells) != len(header):
            raise RegisterFileError(
                f"{path.name}: line {number}: {len(cells)} cells, the header has {len(header)}"
            )
        try:
            rows.append(model.model_validate(dict(zip(header, cells, strict=True))))
        except ValidationError as exc:
            where = f"line {number} (id {cells[0]!r})" if cells else f"line {number}"
            raise _problem(path, where, exc) from exc
    return rows


def read_yaml(path: Path) -> Any:
    if not path.exists():
        return None
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RegisterFileError(f"{path.name}: not valid YAML: {exc}") from exc


def read_zones(path: Path) -> list[ParkingZone]:
    raw = read_yaml(path) or {}
    zones = []
    for i, entry in enumerate(raw.get("zones") or [], start=1):
        try:
            zones.append(ParkingZone.model_validate(entry))
        except ValidationError as exc:
            name = entry.get("id") if isinstance(entry, dict) else None
            raise _problem(path, f"zone {i} (id {name!r})", exc) from exc
    unique(path, [z.id for z in zones], "zone id")
    return zones


def read_election(path: Path) -> Election | None:
    raw = read_yaml(path)
    if raw is None:
        return None
    try:
        return Election.model_validate(raw)
    except ValidationError as exc:
        raise _problem(path, "the election", exc) from exc


def unique(path: Path, keys: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise RegisterFileError(f"{path.name}: {what} {key!r} appears twice")
        seen.add(key)


def known_residents(path: Path, ids: Iterable[str], residents: set[str]) -> None:
    for resident_id in ids:
        if resident_id not in residents:
            raise RegisterFileError(
                f"{path.name}: resident_id {resident_id!r} is not in residents.csv"
            )
