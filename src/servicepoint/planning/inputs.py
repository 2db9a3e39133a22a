"""What location planning rests on, read from the data folder and what planners stored: the
demand points and their weights, the sites, and the planners' changes to both (map
corrections, an imported district layer or demand grid, candidate sites, offices' points).

Services take `session` first, the rest keyword-only, and never commit. Every change is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from sqlalchemy.orm import Session

from servicepoint.config import Settings
from servicepoint.planning.demand import DemandSet, SiteSet, WeightAdjuster
from servicepoint.planning.imports import ImportReport
from servicepoint.planning.models import Site

Basis = Literal["stadtteile", "grid"]
Year = Literal["current", "2034"]
# (session, since, until) -> bookings per location id in that period (appointment domain's).
BookingCounter = Callable[..., Mapping[str, int]]


def demand_set(
    session: Session,
    *,
    settings: Settings,
    basis: Basis = "stadtteile",
    year: Year = "current",
    rate: float | None = None,
    adjusters: Sequence[WeightAdjuster] = (),
) -> DemandSet:
    raise NotImplementedError


def site_set(session: Session, *, settings: Settings) -> SiteSet:
    raise NotImplementedError


def correct_point(
    session: Session, *, settings: Settings, name: str, lat: float, lon: float, user: str
) -> None:
    raise NotImplementedError


def import_district_layer(
    session: Session, *, settings: Settings, data: bytes, filename: str, user: str
) -> ImportReport:
    raise NotImplementedError


def import_grid(
    session: Session, *, settings: Settings, data: bytes, filename: str, user: str
) -> ImportReport:
    raise NotImplementedError


def add_candidate(
    session: Session,
    *,
    settings: Settings,
    name: str,
    lat: float,
    lon: float,
    address: str | None,
    fixed_cost_cents: int | None,
    user: str,
) -> Site:
    raise NotImplementedError


def delete_candidate(session: Session, *, site_id: str, user: str) -> None:
    raise NotImplementedError


def place_office(
    session: Session, *, settings: Settings, location_id: str, lat: float, lon: float, user: str
) -> Site:
    raise NotImplementedError
