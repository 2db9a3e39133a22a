"""JSON routes of the catalog (contract: ../shared/API.md)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from servicepoint.catalog import locations as location_service
from servicepoint.catalog import present
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.schemas import LocationRead, SearchItem, ServiceDetail, ServiceItem
from servicepoint.core.db import SessionDep
from servicepoint.core.inputs import Key

router = APIRouter(prefix="/api", tags=["catalog"])
Lang = Query(
    default=None, max_length=2, pattern="^(de|en)$", description="Language of texts (default de)"
)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _lang(request: Request, lang: str | None) -> str:
    return lang or request.state.lang


@router.get("/services", response_model=list[SearchItem] | list[ServiceItem])
def services(
    request: Request,
    q: str | None = Query(default=None, max_length=500),
    lang: str | None = Lang,
    session: Session = SessionDep,
) -> list[SearchItem] | list[ServiceItem]:
    """The whole catalog, or the matches for `q`, best first."""
    base, chosen = _base(request), _lang(request, lang)
    if q is not None and q.strip():
        return [
            SearchItem(
                **present.service_item(svc, base=base, lang=chosen).model_dump(),
                score=round(hit.score, 3),
            )
            for svc, hit in catalog_service.search_services(session, query=q, limit=20)
        ]
    return [
        present.service_item(svc, base=base, lang=chosen)
        for svc in catalog_service.list_services(session)
    ]


@router.get("/services/{service_id}", response_model=ServiceDetail)
def service_detail(
    service_id: Key, request: Request, lang: str | None = Lang, session: Session = SessionDep
) -> ServiceDetail:
    """One service in full: documents, fees, processing time, responsibility, tutorial."""
    svc = catalog_service.get_service(session, service_id=service_id)
    return present.service_detail(svc, base=_base(request), lang=_lang(request, lang))


@router.get("/locations", response_model=list[LocationRead])
def locations(session: Session = SessionDep) -> list[LocationRead]:
    """All ServicePoints with address, coordinates and opening hours (null = unknown)."""
    return [present.location_read(loc) for loc in location_service.list_locations(session)]


@router.get("/locations/{location_id}", response_model=LocationRead)
def location(location_id: Key, session: Session = SessionDep) -> LocationRead:
    """One ServicePoint, with the source of each value."""
    return present.location_read(location_service.get_location(session, location_id=location_id))
