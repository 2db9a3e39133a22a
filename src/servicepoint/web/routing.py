"""Every route of an app, also those behind FastAPI 0.16x's included routers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from starlette.routing import Route


def every_route(routes: Iterable[Any]) -> Iterator[Route]:
    """The routes, with `include_router()`'s wrappers opened (`app.routes` hides them there)."""
    for route in routes:
        if isinstance(route, Route):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from every_route(included.routes)
