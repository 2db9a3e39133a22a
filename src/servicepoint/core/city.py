"""City-wide facts from the data folder (city.yaml), read once per folder."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml


@cache
def city_facts(city_dir: Path) -> dict[str, Any]:
    path = city_dir / "city.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    return data or {}
