"""The locations map tells a mobile ServicePoint's stop from an office (marker kind, legend)."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from servicepoint.catalog.models import Location
from tests.appointment.mobile_support import STOP, add_stop


def _markers(html: str) -> dict[str, str]:
    found = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', html, re.S)
    assert found
    return {m["id"]: m["kind"] for m in json.loads(found.group(1))["markers"]}


def test_the_map_marks_a_mobile_stop_apart_and_explains_it(
    client: TestClient, session: Session
) -> None:
    add_stop(session)
    stop = session.get(Location, STOP)
    assert stop is not None
    stop.lat, stop.lon = 52.37, 9.73
    session.commit()
    page = client.get("/standorte").text
    assert _markers(page)[STOP] == "mobile"
    assert "Haltestellen des mobilen ServicePoints" in page
    english = client.get("/standorte?lang=en").text
    assert "stops of the mobile ServicePoint" in english


def test_without_a_mobile_stop_the_legend_says_nothing_of_one(client: TestClient) -> None:
    assert "Haltestellen des mobilen ServicePoints" not in client.get("/standorte").text
