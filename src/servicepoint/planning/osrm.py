"""Road distances from an OSRM-compatible routing server's table service
(`/table/v1/driving/{lon,lat;…}?sources=…&destinations=…&annotations=distance`)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt

from servicepoint.core.i18n import N_
from servicepoint.errors import ServicePointError
from servicepoint.planning.geo import Located, coordinates

# OSRM's default --max-table-size is 100 coordinates per request (sources + destinations).
MAX_COORDINATES = 100
MAX_ANSWER_BYTES = 5_000_000  # a 50 × 50 table of metres is a few dozen kB
DEFAULT_DEADLINE = 300.0  # seconds for the whole matrix; the httpx timeout is per read only
_LATE = N_("Der Routing-Server hat nicht rechtzeitig geantwortet.")


class RoutingUnavailable(ServicePointError):
    status_code = 502
    code = "routing_unavailable"


def _chunks(count: int, size: int) -> list[range]:
    return [range(start, min(count, start + size)) for start in range(0, count, size)]


def _request_url(base: str, coords: npt.NDArray[np.float64], n_sources: int) -> str:
    # OSRM takes lon,lat; 6 decimals are 0.1 m.
    path = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in coords)
    sources = ";".join(str(i) for i in range(n_sources))
    destinations = ";".join(str(i) for i in range(n_sources, len(coords)))
    return (
        f"{base.rstrip('/')}/table/v1/driving/{path}"
        f"?sources={sources}&destinations={destinations}&annotations=distance"
    )


def _distances(answer: Any, rows: int, cols: int) -> npt.NDArray[np.float64]:
    """The answer's metres as km; anything else (an error code, a missing or unreachable pair,
    a wrong shape) means the server cannot be trusted for this run."""
    if not isinstance(answer, dict) or answer.get("code") != "Ok":
        code = answer.get("code") if isinstance(answer, dict) else None
        raise RoutingUnavailable(
            N_("Der Routing-Server meldet einen Fehler (%(answer)s)."), answer=str(code)[:60]
        )
    table = answer.get("distances")
    if not isinstance(table, list) or len(table) != rows:
        raise RoutingUnavailable(N_("Der Routing-Server hat keine Entfernungstabelle geliefert."))
    out = np.empty((rows, cols), dtype=np.float64)
    for i, row in enumerate(table):
        if not isinstance(row, list) or len(row) != cols:
            raise RoutingUnavailable(
                N_("Die Entfernungstabelle des Routing-Servers ist unvollständig.")
            )
        for j, metres in enumerate(row):
            if (
                not isinstance(metres, int | float)
                or isinstance(metres, bool)
                or not math.isfinite(metres)
                or metres < 0
            ):
                raise RoutingUnavailable(
                    N_("Der Routing-Server findet keinen Weg für ein Paar von Punkten.")
                )
            out[i, j] = metres / 1000.0
    return out


def _body(response: httpx.Response, deadline: float) -> bytes:
    """The answer's bytes, read in chunks with the deadline checked after each: a server that
    drips a byte at a time resets httpx's read timeout, never this one."""
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if time.monotonic() > deadline:
            raise RoutingUnavailable(_LATE)
        if len(body) > MAX_ANSWER_BYTES:
            raise RoutingUnavailable(N_("Die Antwort des Routing-Servers ist zu groß."))
    return bytes(body)


def _fetch(client: httpx.Client, url: str, deadline: float) -> Any:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise RoutingUnavailable(_LATE)
    try:
        with client.stream(
            "GET", url, timeout=min(client.timeout.read or remaining, remaining)
        ) as response:
            status, body = response.status_code, _body(response, deadline)
    except httpx.TimeoutException:
        raise RoutingUnavailable(_LATE) from None
    except httpx.HTTPError:
        raise RoutingUnavailable(N_("Der Routing-Server ist nicht erreichbar.")) from None
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if status != 200 and not isinstance(answer, dict):
        raise RoutingUnavailable(
            N_("Der Routing-Server antwortet mit HTTP %(status)s."), status=status
        )
    if answer is None:
        raise RoutingUnavailable(N_("Die Antwort des Routing-Servers ist kein JSON."))
    return answer


def osrm_km(
    url: str,
    points: Sequence[Located],
    sites: Sequence[Located],
    *,
    timeout: float,
    total_seconds: float = DEFAULT_DEADLINE,
) -> npt.NDArray[np.float64]:
    """n × m road km, asked in blocks of at most 100 coordinates (sites up to half of them,
    points the rest); any failure is RoutingUnavailable (502), never a partial matrix. `timeout`
    bounds each connect or read, `total_seconds` the whole matrix (checked per block and while
    an answer is read)."""
    deadline = time.monotonic() + total_seconds
    a, b = coordinates(points), coordinates(sites)
    dist = np.empty((len(a), len(b)), dtype=np.float64)
    if not len(a) or not len(b):
        return dist
    width = min(len(b), MAX_COORDINATES // 2)
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for rows in _chunks(len(a), MAX_COORDINATES - width):
            for cols in _chunks(len(b), width):
                block = np.vstack([a[rows.start : rows.stop], b[cols.start : cols.stop]])
                answer = _fetch(client, _request_url(url, block, len(rows)), deadline)
                dist[rows.start : rows.stop, cols.start : cols.stop] = _distances(
                    answer, len(rows), len(cols)
                )
    return dist
