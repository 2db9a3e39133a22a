"""Video bookings in tests: the video location, its services and booking through the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepoint.appointment.models import Booking, OutboxMail, SlotUsage
from servicepoint.consultation import tokens
from servicepoint.core.clock import BERLIN
from servicepoint.core.events import Event
from tests.appointment.conftest import berlin, fresh

VIDEO = "videoberatung"
RESIDENCE = "aufenthaltstitel"  # channels video + external: video consultations only
TRADE = "gewerbe"  # appointment + video, 20 minutes
SECRET = "test-secret"  # the `settings` fixture's
MONDAY_9 = berlin(2026, 12, 14, 9, 0)  # the first video slot: 09:00, one hour lead
TUESDAY_10 = berlin(2026, 12, 15, 10, 0)
CREATED_KEYS = {"id", "code", "location_id", "start", "end", "cancel_url", "ics_url"}


def when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def video_slots(client: TestClient, *services: str, **params: str) -> list[dict[str, Any]]:
    resp = client.get(
        "/api/appointments/slots",
        params={"service": list(services or (RESIDENCE,)), "channel": "video", **params},
    )
    assert resp.status_code == 200, resp.text
    found: list[dict[str, Any]] = resp.json()
    return found


def left_at(client: TestClient, start: dt.datetime, service: str = RESIDENCE) -> int:
    day = start.astimezone(BERLIN).date().isoformat()
    for slot in video_slots(client, service, date_from=day, date_to=day):
        if when(slot["start"]) == start:
            return int(slot["capacity_left"])
    return 0


def book_video(
    client: TestClient,
    start: dt.datetime | str = TUESDAY_10,
    *,
    services: tuple[str, ...] = (RESIDENCE,),
    expect: int = 201,
    **overrides: Any,
) -> dict[str, Any]:
    body = {
        "service_ids": list(services),
        "location_id": VIDEO,
        "start": start if isinstance(start, str) else start.isoformat(),
        "name": "Erika Mustermann",
        "email": "erika@example.org",
        "channel": "video",
        **overrides,
    }
    resp = client.post("/api/appointments", json=body)
    assert resp.status_code == expect, resp.text
    answer: dict[str, Any] = resp.json()
    return answer


def join_url_of(code: str) -> str:
    return f"http://testserver/video/{tokens.join_token(SECRET, code)}"


def stored(session: Session) -> tuple[int, int, int, int]:
    fresh(session)
    return (
        session.scalar(select(func.count(Booking.id))) or 0,
        session.scalar(select(func.coalesce(func.sum(SlotUsage.used), 0))) or 0,
        session.scalar(select(func.count(OutboxMail.id))) or 0,
        session.scalar(select(func.count(Event.id))) or 0,
    )
