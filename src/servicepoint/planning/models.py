"""Planning tables: what planners add to the city's data, their scenarios, and the mobile
ServicePoint's stops and plans.

The city's data folder (Stadtteile, Stadtbezirke, offices) is read-only. What a planner changes
lies here, each row with who and when, so that a scenario can say what it rests on. Weights and
candidate sites carry a `source`, so that booking statistics and, later, citizens' votes and
proposals can feed them through the same columns.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servicepoint.core.clock import utcnow
from servicepoint.core.db import Base


class DistrictPoint(Base):
    """A Stadtteil's point or shape set by a planner (map correction) or by an imported official
    district layer (GeoJSON: centroid and polygon). Wins over the data folder's point."""

    __tablename__ = "planning_district_point"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)  # Stadtteil as in the CSV
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    # GeoJSON geometry (Polygon/MultiPolygon) from an imported layer; None for a map correction.
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(300))  # "Korrektur auf der Karte" | file name
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class GridPoint(Base):
    """One point of an imported finer demand grid (CSV of points with weights)."""

    __tablename__ = "planning_grid_point"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(300))
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Site(Base):
    """A site a scenario may open: a planner's candidate (address or coordinates, a name, a fixed
    cost), or a current office's point placed by a planner where the location has none."""

    __tablename__ = "planning_site"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="candidate")  # candidate | office
    location_id: Mapped[str | None] = mapped_column(
        ForeignKey("location.id", ondelete="CASCADE"), unique=True
    )
    address: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    fixed_cost_cents: Mapped[int | None] = mapped_column(Integer)
    # "planner" today; "proposal" when citizens' proposals feed candidates (participation).
    source: Mapped[str] = mapped_column(String(300), default="planner")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Scenario(Base):
    """A named planning run: its inputs, its progress while the job runs, and its result."""

    __tablename__ = "planning_scenario"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # tradeoff | close | add | cover | balanced | pmedian | mclp | evaluate
    kind: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # queued -> running -> done | failed
    status: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    progress_note: Mapped[str | None] = mapped_column(String(300))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


class MobileStop(Base):
    """A place the mobile ServicePoint may visit: proposed from the worst-served districts or a
    special stop a planner adds (care home, library, community centre) with its opening hours."""

    __tablename__ = "mobile_stop"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # district | care_home | library | community
    district: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    approximate: Mapped[bool] = mapped_column(Boolean, default=False)
    demand: Mapped[float] = mapped_column(Float, default=0.0)  # visits per year it would serve
    # The host's hours, {"mo": [["09:00", "12:00"]], ...}; None = no restriction known.
    opening_hours: Mapped[dict[str, list[list[str]]] | None] = mapped_column(JSON)
    frequency_weeks: Mapped[int] = mapped_column(Integer, default=2)  # 1, 2 or 4
    min_spacing_days: Mapped[int] = mapped_column(Integer, default=5)
    service_minutes: Mapped[int] = mapped_column(Integer, default=120)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class MobilePlan(Base):
    """A multi-week plan for the van: each day's route with times, the checker's verdict, and
    whether it was published as bookable locations."""

    __tablename__ = "mobile_plan"
    __table_args__ = (UniqueConstraint("name", name="uq_mobile_plan_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[dt.date]
    weeks: Mapped[int] = mapped_column(Integer, default=4)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    progress_note: Mapped[str | None] = mapped_column(String(300))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # days -> visits with times
    violations: Mapped[list[str] | None] = mapped_column(JSON)  # the independent checker's
    error: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[dt.datetime | None]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
