"""What the planners' pages show, read once per data folder (it changes only with a release)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

from servicepoint.planning import demand


@dataclass(frozen=True)
class DemandOverview:
    districts: tuple[demand.District, ...]
    bars: Mapping[str, int]  # each district's bar width in percent of the largest


@cache
def demand_overview(city_dir: Path) -> DemandOverview:
    """Residents per Stadtteil with their bar widths; cached, as a request must not parse files."""
    districts = demand.load_districts(city_dir)
    return DemandOverview(tuple(districts), MappingProxyType(demand.share_of_largest(districts)))
