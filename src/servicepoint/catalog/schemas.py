"""API shapes of the catalog (../shared/API.md: /api/services, /api/locations)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


class ServiceItem(BaseModel):
    id: str
    name: str
    summary: str
    url: str
    channels: list[str]
    online_url: str | None


class SearchItem(ServiceItem):
    score: float


class DocumentRead(BaseModel):
    text: str
    condition: str | None


class FeeRead(BaseModel):
    label: str
    amount_cents: int
    condition: str | None
    valid_from: dt.date | None
    source: str


class AuthorityRead(BaseModel):
    name: str
    phone: str | None
    email: str | None
    url: str | None
    address: str | None
    note: str | None


class TutorialStepRead(BaseModel):
    title: str
    text: str


class TutorialRead(BaseModel):
    title: str
    url: str
    duration_minutes: int | None
    prerequisites: list[str]
    steps: list[TutorialStepRead]
    afterwards: str


class ServiceDetail(ServiceItem):
    name_en: str
    leika: str | None
    lang: str
    documents: list[DocumentRead]
    fees: list[FeeRead]
    fees_as_of: dt.date | None
    processing_time: str | None
    legal_basis: str | None
    responsible: AuthorityRead
    appointment_minutes: int | None
    tutorial: TutorialRead | None
    keywords: list[str]
    sources: list[str]


class LocationRead(BaseModel):
    id: str
    name: str
    address: str | None
    lat: float | None
    lon: float | None
    kind: str
    opening_hours: dict[str, list[list[str]]] | None
    street: str | None
    house_number: str | None
    building: str | None
    postcode: str | None
    city: str | None
    phone: str | None
    service_ids: list[str] | None
    provenance: dict[str, dict[str, str]]
