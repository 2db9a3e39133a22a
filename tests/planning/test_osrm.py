"""Road distances from an OSRM-compatible server, tested against a real HTTP server on
loopback that answers like OSRM's table service (and, on request, like a broken one)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from servicepoint.config import Settings
from servicepoint.planning import geo
from servicepoint.planning.demand import DemandPoint, SiteInfo
from servicepoint.planning.osrm import MAX_COORDINATES, RoutingUnavailable, osrm_km


class FakeOsrm(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.mode = "ok"
        self.requests: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: FakeOsrm

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        mode = self.server.mode
        if mode == "slow":
            time.sleep(1.0)
        if mode == "html":
            return self._send(500, b"<html>Internal error</html>", "text/html")
        if mode == "drip":
            return self._drip(b'{"code": "Ok", "distances": [[1, 2], [3, 4]]}')
        parts = urlsplit(self.path)
        coords = [
            tuple(float(x) for x in pair.split(","))
            for pair in parts.path.removeprefix("/table/v1/driving/").split(";")
        ]
        query = parse_qs(parts.query)
        sources = [int(i) for i in query["sources"][0].split(";")]
        destinations = [int(i) for i in query["destinations"][0].split(";")]
        assert query["annotations"] == ["distance"]
        # Metres: 1000 × |Δlat| × 100 + 1000 × |Δlon| × 100, easy to check by hand.
        table: list[list[float | None]] = [
            [
                round(
                    100_000 * (abs(coords[s][1] - coords[d][1]) + abs(coords[s][0] - coords[d][0])),
                    3,
                )
                for d in destinations
            ]
            for s in sources
        ]
        answer: dict[str, Any] = {"code": "Ok", "distances": table}
        if mode == "noroute":
            table[0][0] = None
        elif mode == "error":
            answer = {"code": "InvalidQuery", "message": "Query string malformed"}
            return self._send(400, json.dumps(answer).encode())
        elif mode == "short":
            answer["distances"] = table[:-1]
        elif mode == "ragged":
            table[-1] = table[-1][:-1]
        elif mode == "negative":
            table[0][0] = -5
        self._send(200, json.dumps(answer).encode())

    def _drip(self, body: bytes) -> None:
        """Each byte well within a read timeout, the whole far beyond any deadline."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for byte in body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:  # the client gave up: that is the point
            pass

    def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[FakeOsrm]:
    fake = FakeOsrm()
    thread = threading.Thread(target=fake.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.shutdown()
    fake.server_close()
    thread.join(5)


def _points(n: int) -> list[DemandPoint]:
    return [
        DemandPoint(f"p{i}", f"p{i}", None, 52.30 + i * 0.001, 9.70, 1, 1.0, "exact")
        for i in range(n)
    ]


def _sites(m: int) -> list[SiteInfo]:
    return [SiteInfo(f"s{j}", f"s{j}", "office", 52.30, 9.70 + j * 0.01, "exact") for j in range(m)]


def _expected_km(p: DemandPoint, s: SiteInfo) -> float:
    return 100 * (abs((p.lat or 0) - (s.lat or 0)) + abs((p.lon or 0) - (s.lon or 0)))


def test_table_in_km_and_blocks_of_at_most_100_coordinates(server: FakeOsrm) -> None:
    points, sites = _points(130), _sites(60)
    dist = osrm_km(server.url, points, sites, timeout=5)
    assert dist.shape == (130, 60)
    for i in (0, 49, 50, 129):
        for j in (0, 49, 50, 59):
            assert dist[i, j] == pytest.approx(_expected_km(points[i], sites[j]), abs=1e-3)
    # 60 sites -> 2 column blocks of ≤ 50; 130 points -> 3 row blocks of ≤ 50.
    assert len(server.requests) == 6
    for path in server.requests:
        coords = urlsplit(path).path.removeprefix("/table/v1/driving/").split(";")
        assert len(coords) <= MAX_COORDINATES
    assert server.requests[0].startswith("/table/v1/driving/9.700000,52.300000;")


def test_few_sites_leave_room_for_more_points_per_request(server: FakeOsrm) -> None:
    osrm_km(server.url + "/", _points(91), _sites(9), timeout=5)
    assert len(server.requests) == 1 and "//table" not in server.requests[0]


def test_through_distance_km_with_the_settings_url(server: FakeOsrm) -> None:
    settings = Settings(planning_osrm_url=server.url, planning_osrm_timeout=5)
    dist = geo.distance_km(settings, _points(2), _sites(2), method="osrm")
    assert dist[1, 1] == pytest.approx(_expected_km(_points(2)[1], _sites(2)[1]), abs=1e-3)


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("noroute", "keinen Weg"),
        ("error", "meldet einen Fehler \\(InvalidQuery\\)"),
        ("short", "keine Entfernungstabelle"),
        ("ragged", "unvollständig"),
        ("negative", "keinen Weg"),
        ("html", "HTTP 500"),
    ],
)
def test_a_bad_answer_is_a_502_never_a_partial_matrix(
    server: FakeOsrm, mode: str, message: str
) -> None:
    server.mode = mode
    with pytest.raises(RoutingUnavailable, match=message) as caught:
        osrm_km(server.url, _points(3), _sites(2), timeout=5)
    assert caught.value.status_code == 502


def test_a_slow_server_times_out(server: FakeOsrm) -> None:
    server.mode = "slow"
    started = time.monotonic()
    with pytest.raises(RoutingUnavailable, match="nicht rechtzeitig"):
        osrm_km(server.url, _points(2), _sites(2), timeout=0.2)
    assert time.monotonic() - started < 1.0


def test_a_dripping_server_meets_the_total_deadline(server: FakeOsrm) -> None:
    server.mode = "drip"
    started = time.monotonic()
    with pytest.raises(RoutingUnavailable, match="nicht rechtzeitig"):
        osrm_km(server.url, _points(2), _sites(2), timeout=1, total_seconds=0.5)
    assert time.monotonic() - started < 1.5


def test_the_deadline_is_checked_per_block(server: FakeOsrm) -> None:
    server.mode = "slow"  # 1 s per request; 3 blocks would take 3 s
    started = time.monotonic()
    with pytest.raises(RoutingUnavailable, match="nicht rechtzeitig"):
        osrm_km(server.url, _points(150), _sites(50), timeout=5, total_seconds=1.5)
    assert time.monotonic() - started < 2.5 and len(server.requests) == 2


def test_no_server_listening() -> None:
    fake = FakeOsrm()  # bound, never served, then closed: the port refuses connections
    url = fake.url
    fake.server_close()
    with pytest.raises(RoutingUnavailable, match="nicht erreichbar"):
        osrm_km(url, _points(1), _sites(1), timeout=2)


def test_no_points_no_request(server: FakeOsrm) -> None:
    assert osrm_km(server.url, [], _sites(2), timeout=5).shape == (0, 2)
    assert server.requests == []
