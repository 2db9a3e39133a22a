"""Pydantic models for the city's catalog data files (YAML/CSV under data/<city>/).

Every file is validated on load; a broken file fails naming the file, the entry and the field.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

Channel = Literal["online", "appointment", "video", "mobile", "external"]
CHANNELS: tuple[Channel, ...] = ("online", "appointment", "video", "mobile", "external")


# A folder of the machine the data was gathered on (a home, scratch or work folder, a drive
# letter): meaningless to a citizen and revealing about the machine, so it must never reach a page.
MACHINE_PATH = re.compile(r"(?<![\w.~-])/(?:work|home|tmp|root|Users)/|\b[A-Za-z]:\\")


def _one_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", value):
        raise ValueError(
            f"a source must be one http(s) URL, without notes, paths or lists: {value!r}"
        )
    return value


def _no_machine_path(value: str) -> str:
    if MACHINE_PATH.search(value):
        raise ValueError(f"names a file path of a machine; cite a URL or a law instead: {value!r}")
    return value


SourceUrl = Annotated[str, AfterValidator(_one_url)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Text(_Strict):
    """A German text with its English translation."""

    de: str = Field(min_length=1)
    en: str = Field(min_length=1)


class DocumentItem(_Strict):
    text: Text
    condition: Text | None = None


class FeeItem(_Strict):
    label: Text
    amount_cents: int = Field(ge=0)
    condition: Text | None = None
    valid_from: dt.date | None = None
    source: Annotated[str, AfterValidator(_no_machine_path)] = Field(min_length=1)


class Authority(_Strict):
    name: Text
    phone: str | None = None
    email: str | None = None
    url: str | None = None
    address: str | None = None
    note: Text | None = None


class TutorialStep(_Strict):
    title: Text
    text: Text


class Tutorial(_Strict):
    title: Text
    duration_minutes: int | None = Field(default=None, ge=1, le=600)
    prerequisites: list[Text] = Field(min_length=1)
    steps: list[TutorialStep] = Field(min_length=2)
    afterwards: Text


class Variant(_Strict):
    """One way or step of a service with its own answer to "can I do it online?" (PIN reset:
    at the office; PIN change: online). Only what the service's own text states."""

    name: Text
    online: bool
    text: Text | None = None
    online_url: str | None = None


class ServiceFile(_Strict):
    """One service of the catalog, as written in data/<city>/services/<slug>.yaml."""

    id: str = Field(pattern=r"^[0-9a-z][0-9a-z\-]{1,63}$")
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]{1,80}$")
    leika: str | None = Field(default=None, pattern=r"^\d{14}$")
    name: Text
    summary: Text
    # The service in a few paragraphs (what it is, who needs it); shown on the service page and
    # read by the assistant's retrieval, so a service with no keywords is still found.
    description: Text | None = None
    keywords: dict[Literal["de", "en"], list[str]] = Field(default_factory=dict)
    examples: dict[Literal["de", "en"], list[str]] = Field(default_factory=dict)
    # Words citizens use for this service and others alike ("neuer Ausweis": Personalausweis
    # or Reisepass?). A message that says no more than one of them is asked back.
    shared_words: dict[Literal["de", "en"], list[str]] = Field(default_factory=dict)
    # Ids of the services this one stands in for when time is short (the temporary identity
    # card for the regular one): a hurried question about those is probably about this one.
    urgent_for: list[str] = Field(default_factory=list)
    # A German document only German nationals get (identity card, passport): a foreign one is
    # a matter of that country's consulate or embassy, which the assistant says.
    nationals_only: bool = False
    documents: list[DocumentItem] = Field(default_factory=list)
    fees: list[FeeItem] = Field(default_factory=list)
    fees_as_of: dt.date | None = None
    processing_time: Text | None = None
    legal_basis: str | None = None
    channels: list[Channel] = Field(min_length=1)
    online_url: str | None = None
    responsible: Authority
    appointment_minutes: int | None = Field(default=None, ge=5, le=240)
    tutorial: Tutorial | None = None
    # Ways or steps that differ in whether they can be done online; empty = one statement for
    # the whole service (its channels).
    variants: list[Variant] = Field(default_factory=list)
    # Shown under "Quellen" as links; a note on a source goes in a YAML comment beside it.
    sources: list[SourceUrl] = Field(default_factory=list)

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, value: list[Channel]) -> list[Channel]:
        if len(set(value)) != len(value):
            raise ValueError("channels must not repeat")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ServiceFile:
        # Each check has its own error type (the code), so a form can say which of its fields
        # is meant without reading the English message.
        if "online" in self.channels and not self.online_url:
            raise PydanticCustomError("online_needs_url", "channel 'online' needs an online_url")
        if "online" in self.channels and self.tutorial is None:
            raise PydanticCustomError("online_needs_tutorial", "an online service needs a tutorial")
        if "appointment" in self.channels and self.appointment_minutes is None:
            raise PydanticCustomError(
                "appointment_needs_minutes", "channel 'appointment' needs appointment_minutes"
            )
        if self.fees and self.fees_as_of is None:
            raise PydanticCustomError("fees_need_date", "fees need fees_as_of (the 'Stand' date)")
        return self


class CatalogFileError(Exception):
    """A data file failed validation; the message names file, entry and field."""


def _describe(path: Path, entry: str, exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        field = ".".join(str(part) for part in err["loc"]) or "(entry)"
        problems.append(f"{path.name}: entry {entry!r}, field {field!r}: {err['msg']}")
    return "\n".join(problems)


def load_service_file(path: Path) -> ServiceFile:
    """Read and validate one service YAML file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogFileError(f"{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogFileError(f"{path.name}: expected a mapping of fields")
    entry = str(raw.get("id") or raw.get("slug") or path.stem)
    try:
        return ServiceFile.model_validate(raw)
    except ValidationError as exc:
        raise CatalogFileError(_describe(path, entry, exc)) from exc


def load_services(folder: Path) -> list[ServiceFile]:
    """Load every service file of a city folder; ids and slugs must be unique."""
    services = [load_service_file(p) for p in sorted(folder.glob("*.yaml"))]
    for attr in ("id", "slug"):
        seen: dict[str, str] = {}
        for svc in services:
            key = getattr(svc, attr)
            if key in seen:
                raise CatalogFileError(f"{attr} {key!r} used twice ({seen[key]}, {svc.slug})")
            seen[key] = svc.slug
    ids = {svc.id for svc in services}
    for svc in services:
        unknown = sorted(set(svc.urgent_for) - ids)
        if unknown:
            raise CatalogFileError(f"{svc.slug}: urgent_for names unknown services {unknown}")
    return services
