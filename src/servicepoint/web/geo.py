"""Map data for Leaflet pages: our markers plus district points for orientation without tiles."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request

from servicepoint.catalog.models import Location
from servicepoint.core.city import city_facts


@cache
def district_points(city_dir: Path) -> tuple[tuple[str, float, float], ...]:
    """Stadtbezirk reference points (Wikipedia infobox points; rows without them skipped)."""
    path = city_dir / "hannover_stadtbezirke.csv"
    if not path.exists():
        return ()
    with path.open(encoding="utf-8") as fh:
        return tuple(
            (row["stadtbezirk"], float(row["lat"]), float(row["lon"]))
            for row in csv.DictReader(fh)
            if row.get("lat") and row.get("lon")
        )


def script_json(data: object) -> str:
    """JSON that is safe inside <script>: no '</script>' or HTML can break out of it."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def map_context(
    request: Request, locations: Sequence[Location], editable: bool = False
) -> dict[str, Any]:
    settings = request.app.state.settings
    facts = city_facts(settings.city_dir)
    markers = [
        {
            "id": loc.id,
            "name": loc.name,
            "lat": loc.lat,
            "lon": loc.lon,
            "url": f"/standorte/{loc.id}",
            "kind": loc.kind,
        }
        for loc in locations
        if loc.lat is not None
    ]
    data = {
        "center": facts.get("center") or [51.0, 10.0],
        "zoom": 12,
        "markers": markers,
        "references": [
            {"name": n, "lat": la, "lon": lo} for n, la, lo in district_points(settings.city_dir)
        ],
        "editable": editable,
    }
    return {
        "json": script_json(data),
        "mobile": any(m["kind"] == "mobile" for m in markers),
        "located": len(markers),
        "total": len(locations),
    }
