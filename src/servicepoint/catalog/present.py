"""Turn catalog rows into language-specific views for the API and the pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from babel.dates import format_date

from servicepoint.catalog.models import Location, Service
from servicepoint.catalog.schemas import (
    AuthorityRead,
    DocumentRead,
    FeeRead,
    LocationRead,
    ServiceDetail,
    ServiceItem,
    TutorialRead,
    TutorialStepRead,
)
from servicepoint.core.i18n import pick


def _opt(value: dict[str, str] | None, lang: str) -> str | None:
    return pick(value, lang) or None


def service_path(svc: Service) -> str:
    return f"/leistungen/{svc.slug}"


def tutorial_path(svc: Service) -> str:
    return f"/leistungen/{svc.slug}/anleitung"


def online_url(svc: Service, *, base: str) -> str | None:
    """The online service's address; our own form (a path such as /antrag/x) on this site."""
    url = svc.online_url
    return base + url if url and url.startswith("/") else url


def service_item(svc: Service, *, base: str, lang: str) -> ServiceItem:
    return ServiceItem(
        id=svc.id,
        name=svc.name_de,
        summary=pick(svc.data["summary"], lang),
        url=base + service_path(svc),
        channels=list(svc.channels),
        online_url=online_url(svc, base=base),
    )


def _tutorial(svc: Service, *, base: str, lang: str) -> TutorialRead | None:
    tut: dict[str, Any] | None = svc.data.get("tutorial")
    if not tut:
        return None
    return TutorialRead(
        title=pick(tut["title"], lang),
        url=base + tutorial_path(svc),
        duration_minutes=tut.get("duration_minutes"),
        prerequisites=[pick(p, lang) for p in tut["prerequisites"]],
        steps=[
            TutorialStepRead(title=pick(s["title"], lang), text=pick(s["text"], lang))
            for s in tut["steps"]
        ],
        afterwards=pick(tut["afterwards"], lang),
    )


def service_detail(
    svc: Service, *, base: str, lang: str, keywords: Sequence[str] | None = None
) -> ServiceDetail:
    """The service's page data. `keywords` stands in for the citizen words read from its
    terms, for callers that do not show them (the assistant composes from the facts)."""
    data = svc.data
    resp = data["responsible"]
    return ServiceDetail(
        **service_item(svc, base=base, lang=lang).model_dump(),
        name_en=svc.name_en,
        leika=svc.leika,
        lang=lang,
        documents=[
            DocumentRead(text=pick(d["text"], lang), condition=_opt(d.get("condition"), lang))
            for d in data.get("documents", [])
        ],
        fees=[
            FeeRead(
                label=pick(f["label"], lang),
                amount_cents=f["amount_cents"],
                condition=_opt(f.get("condition"), lang),
                valid_from=f.get("valid_from"),
                source=f["source"],
            )
            for f in data.get("fees", [])
        ],
        fees_as_of=data.get("fees_as_of"),
        processing_time=_opt(data.get("processing_time"), lang),
        legal_basis=data.get("legal_basis"),
        responsible=AuthorityRead(
            name=pick(resp["name"], lang),
            phone=resp.get("phone"),
            email=resp.get("email"),
            url=resp.get("url"),
            address=resp.get("address"),
            note=_opt(resp.get("note"), lang),
        ),
        appointment_minutes=data.get("appointment_minutes"),
        tutorial=_tutorial(svc, base=base, lang=lang),
        keywords=list(keywords)
        if keywords is not None
        else [t.text for t in svc.terms if t.kind == "keyword" and t.lang == lang],
        sources=list(data.get("sources", [])),
    )


def address(loc: Location) -> str | None:
    """The known parts of the address; None when nothing is known."""
    street = " ".join(p for p in (loc.street, loc.house_number) if p)
    town = " ".join(p for p in (loc.postcode, loc.city) if p)
    parts = [p for p in (loc.building, street, town if street or loc.building else "") if p]
    return ", ".join(parts) or None


def location_read(loc: Location) -> LocationRead:
    return LocationRead(
        id=loc.id,
        name=loc.name,
        address=address(loc),
        lat=loc.lat,
        lon=loc.lon,
        kind=loc.kind,
        # A mobile ServicePoint's stop has no weekly hours: it opens on its visit dates only.
        opening_hours=(loc.opening_hours or {}) if loc.kind == "mobile" else loc.opening_hours,
        street=loc.street,
        house_number=loc.house_number,
        building=loc.building,
        postcode=loc.postcode,
        city=loc.city,
        phone=loc.phone,
        service_ids=loc.service_ids,
        provenance=loc.provenance or {},
    )


# How a list shows a visit's day; Babel knows the names and abbreviations of each language.
SHORT_DAY = {"de": "EEE dd.MM.", "en": "EEE d MMM"}


def short_day(day: dt.date, lang: str) -> str:
    """A visit's day as a list shows it: "Di. 12.01." / "Tue 12 Jan"."""
    return format_date(day, SHORT_DAY.get(lang, SHORT_DAY["de"]), locale=lang)
