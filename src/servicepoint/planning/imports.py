"""Parsing of planners' uploads (pure): the official district layer (GeoJSON) and a finer
demand grid (CSV). Nothing is dropped silently: every refused row or feature is an issue."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from servicepoint.planning.demand import DataIssue


@dataclass(frozen=True)
class LayerFeature:
    lat: float
    lon: float
    geometry: dict[str, Any]


@dataclass(frozen=True)
class LayerImport:
    features: dict[str, LayerFeature]  # Stadtteil name (as in the CSV) -> its point and shape
    issues: tuple[DataIssue, ...]


@dataclass(frozen=True)
class GridRow:
    line: int
    label: str
    lat: float
    lon: float
    weight: float  # residents the point stands for (the rate makes visits of them)


@dataclass(frozen=True)
class GridImport:
    rows: tuple[GridRow, ...]
    issues: tuple[DataIssue, ...]


@dataclass(frozen=True)
class ImportReport:
    """What an import did: shown to the planner after the upload."""

    filename: str
    imported: int  # features or rows stored
    replaced: int  # rows of the earlier import that this one replaced
    issues: tuple[DataIssue, ...]


def parse_district_layer(
    data: bytes, known_names: Collection[str], *, name_property: str | None = None
) -> LayerImport:
    raise NotImplementedError


def parse_grid_csv(data: bytes) -> GridImport:
    raise NotImplementedError
