"""Video consultations on the booking side (issue 16, API.md "Video consultations"): the video
"location" and its slots, booking with `channel: "video"` and its join link, moving and
cancelling; and that the video location is no office anywhere."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.models import Booking, Capacity
from servicepoint.catalog.errors import InvalidLocationData
from servicepoint.catalog.models import Location
from servicepoint.cli_support import upgrade
from servicepoint.consultation import tokens
from servicepoint.core.clock import BERLIN
from servicepoint.core.db import make_engine
from servicepoint.core.events import Event
from servicepoint.seeding import seed_city
from tests.appointment.conftest import NOW, PASS, berlin, book_via_api, fresh
from tests.appointment.video_support import (
    CREATED_KEYS,
    MONDAY_9,
    RESIDENCE,
    SECRET,
    TRADE,
    TUESDAY_10,
    VIDEO,
    book_video,
    join_url_of,
    left_at,
    stored,
    video_slots,
    when,
)
from tests.conftest import DATA_DIR, csrf_in

pytestmark = pytest.mark.usefixtures("clock")


# -- the video location -----------------------------------------------------------------------
def test_the_video_location_is_seeded_with_its_capacity(session: Session) -> None:
    loc = session.get(Location, VIDEO)
    assert loc is not None and loc.kind == "video" and loc.name == "Videoberatung"
    assert (loc.street, loc.postcode, loc.lat, loc.opening_hours, loc.city) == (None,) * 5
    cap = appointment_service.video_capacity(session)
    assert cap is not None and cap.location_id == VIDEO and cap.channel == "video"
    assert (cap.counters, cap.walkin_share, cap.grid_minutes) == (2, 0.0, 15)
    assert (cap.lead_minutes, cap.horizon_days) == (60, 30)
    assert "Konfiguration" in cap.hours_source
    assert appointment_service.video_location(session) == loc
    offices = session.scalars(select(Capacity).where(Capacity.channel == "in_person")).all()
    assert len(offices) == 9  # the nine Bürgerämter keep theirs


def test_seeding_again_changes_nothing(session: Session) -> None:
    before = session.scalar(select(func.count(Capacity.location_id)))
    seed_city(session, folder=DATA_DIR)
    session.flush()
    assert session.scalar(select(func.count(Capacity.location_id))) == before
    assert session.scalar(select(func.count(Location.id)).where(Location.kind == "video")) == 1


def _city_copy(tmp_path: Path, video: Any) -> Path:
    folder = tmp_path / "city"
    shutil.copytree(DATA_DIR, folder)
    config = yaml.safe_load((folder / "capacity.yaml").read_text(encoding="utf-8"))
    if video is None:
        config.pop("video")
    else:
        config["video"] = video
    (folder / "capacity.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return folder


def test_a_city_without_the_video_section_has_no_video_slots(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            seed_city(session, folder=_city_copy(tmp_path, None))
            assert appointment_service.video_capacity(session) is None
            assert session.get(Location, VIDEO) is None
            found = appointment_service.find_slots(
                session, service_ids=[RESIDENCE], channel="video", now=NOW
            )
            assert found == []
    finally:
        engine.dispose()


def test_a_broken_video_section_is_refused(tmp_path: Path, session: Session) -> None:
    folder = _city_copy(tmp_path, {"id": VIDEO, "name": "Videoberatung", "hours": "nie"})
    with pytest.raises(InvalidLocationData, match="video"):
        seed_city(session, folder=folder)


def test_the_video_location_is_no_office(client: TestClient) -> None:
    listed = client.get("/api/locations").json()
    assert VIDEO not in {loc["id"] for loc in listed}
    assert len([loc for loc in listed if loc["kind"] == "buergeramt"]) == 9
    assert "Videoberatung" not in client.get("/standorte").text
    for path in (
        f"/standorte/{VIDEO}",
        f"/standorte/{VIDEO}/kiosk",
        f"/standorte/{VIDEO}/aufruf",
        f"/api/locations/{VIDEO}/waiting",
    ):
        assert client.get(path).status_code == 404, path
    assert f'value="{VIDEO}"' not in client.get("/termine").text  # no office to choose


# -- slots ------------------------------------------------------------------------------------
def test_video_slots_come_from_the_video_capacity(client: TestClient) -> None:
    found = video_slots(client)
    assert found and {s["location_id"] for s in found} == {VIDEO}
    starts = [when(s["start"]) for s in found]
    assert starts == sorted(starts) and starts[0] == MONDAY_9
    assert {s["capacity_left"] for s in found} == {2}
    local = [s.astimezone(BERLIN) for s in starts]
    assert all(9 <= t.hour < 12 or (t.weekday() == 3 and 14 <= t.hour < 17) for t in local)
    assert any(t.weekday() == 3 and t.hour == 14 for t in local)  # Thursday afternoon
    assert all(t.minute % 15 == 0 for t in local)
    trade = video_slots(client, TRADE)
    assert all(when(s["end"]) - when(s["start"]) == dt.timedelta(minutes=20) for s in trade)


def test_office_slots_never_come_from_the_video_location(client: TestClient) -> None:
    resp = client.get("/api/appointments/slots", params={"service": TRADE})
    assert resp.status_code == 200 and resp.json()
    assert VIDEO not in {s["location_id"] for s in resp.json()}
    video_only = client.get("/api/appointments/slots", params={"service": RESIDENCE})
    assert video_only.status_code == 422
    assert video_only.json()["error"] == "service_not_bookable"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"service": PASS, "channel": "video"}, "service_not_bookable"),
        ({"service": RESIDENCE, "channel": "phone"}, "invalid_input"),
        ({"service": RESIDENCE, "channel": "VIDEO"}, "invalid_input"),
        ({"service": RESIDENCE, "channel": "v" * 5000}, "invalid_input"),
    ],
)
def test_bad_channels_are_a_clear_422(
    client: TestClient, params: dict[str, str], code: str
) -> None:
    resp = client.get("/api/appointments/slots", params=params)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"] == code and resp.json()["detail"]


def test_video_slots_at_an_office_are_none(client: TestClient) -> None:
    assert video_slots(client, TRADE, location="aegi") == []


# -- booking ----------------------------------------------------------------------------------
def test_a_video_booking_carries_its_join_link(client: TestClient, session: Session) -> None:
    body = book_video(client)
    assert set(body) == CREATED_KEYS | {"channel", "join_url"}
    code = body["code"]
    assert body["channel"] == "video" and body["location_id"] == VIDEO
    assert body["join_url"] == join_url_of(code)
    token = body["join_url"].rsplit("/", 1)[1]
    assert tokens.code_of_join(SECRET, token) == code
    assert tokens.code_of_join("another-secret", token) is None
    assert when(body["start"]) == TUESDAY_10
    booking = fresh(session).scalars(select(Booking).where(Booking.code == code)).one()
    assert booking.channel == "video" and booking.status == "booked"
    read = client.get(f"/api/appointments/{code}").json()
    assert read["channel"] == "video" and read["join_url"] == body["join_url"]
    assert read["status"] == "booked" and read["service_ids"] == [RESIDENCE]


def test_an_office_booking_keeps_the_contract_shape(client: TestClient, session: Session) -> None:
    body = book_via_api(client, services=(TRADE,))
    assert set(body) == CREATED_KEYS  # no join link, no new keys
    read = client.get(f"/api/appointments/{body['code']}").json()
    assert read["channel"] == "in_person" and "join_url" not in read
    booking = fresh(session).scalars(select(Booking).where(Booking.code == body["code"])).one()
    assert booking.channel == "in_person"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"location_id": "aegi", "service_ids": [TRADE]}, "wrong_channel"),
        ({"channel": "in_person", "service_ids": [TRADE]}, "wrong_channel"),
        ({"channel": "in_person"}, "service_not_bookable"),
        ({"service_ids": [PASS]}, "service_not_bookable"),
        ({"channel": "phone"}, "invalid_input"),
        ({"channel": None}, "invalid_input"),
        ({"start": berlin(2026, 12, 15, 8, 0).isoformat()}, "outside_opening_hours"),
        ({"start": berlin(2026, 12, 15, 10, 5).isoformat()}, "not_on_grid"),
    ],
)
def test_a_booking_of_the_wrong_channel_or_place_is_a_clear_422(
    client: TestClient, session: Session, overrides: dict[str, Any], code: str
) -> None:
    before = stored(session)
    answer = book_video(client, expect=422, **overrides)
    assert answer["error"] == code and answer["detail"]
    assert stored(session) == before


def test_office_and_video_refusals_say_why(client: TestClient) -> None:
    at_office = book_video(client, expect=422, location_id="aegi", service_ids=[TRADE])
    assert "keine Videoberatung" in at_office["detail"]
    at_video = book_video(client, expect=422, channel="in_person", service_ids=[TRADE])
    assert "Videoberatung" in at_video["detail"]


def test_no_overbooking_of_the_video_counters(client: TestClient, session: Session) -> None:
    assert left_at(client, TUESDAY_10) == 2
    book_video(client)
    assert left_at(client, TUESDAY_10) == 1
    book_video(client, email="max@example.org")
    assert left_at(client, TUESDAY_10) == 0
    before = stored(session)
    taken = book_video(client, expect=409, email="third@example.org")
    assert taken["error"] == "slot_taken"
    assert stored(session) == before
    # A 20-minute consultation at 09:45 needs the full 10:00 cell too; 15 minutes fit.
    before_ten = TUESDAY_10 - dt.timedelta(minutes=15)
    too_long = book_video(client, before_ten, services=(TRADE,), expect=409)
    assert too_long["error"] == "slot_taken" and stored(session) == before
    assert left_at(client, before_ten, TRADE) == 0 and left_at(client, before_ten) == 2


def test_a_video_booking_moves_to_video_slots_only(client: TestClient) -> None:
    body = book_video(client)
    code = body["code"]
    new = berlin(2026, 12, 17, 14, 30)  # Thursday afternoon
    moved = client.post(f"/api/appointments/{code}/reschedule", json={"start": new.isoformat()})
    assert moved.status_code == 200, moved.text
    data = moved.json()
    assert when(data["start"]) == new and data["channel"] == "video"
    assert data["location_id"] == VIDEO and data["join_url"] == body["join_url"]
    assert left_at(client, TUESDAY_10) == 2 and left_at(client, new) == 1
    office = client.post(
        f"/api/appointments/{code}/reschedule",
        json={"start": berlin(2026, 12, 16, 9, 0).isoformat(), "location_id": "aegi"},
    )
    assert office.status_code == 422 and office.json()["error"] == "wrong_channel"
    assert when(client.get(f"/api/appointments/{code}").json()["start"]) == new


def test_an_office_booking_does_not_move_into_the_video_slots(client: TestClient) -> None:
    code = book_via_api(client, services=(TRADE,))["code"]
    resp = client.post(
        f"/api/appointments/{code}/reschedule",
        json={"start": TUESDAY_10.isoformat(), "location_id": VIDEO},
    )
    assert resp.status_code == 422 and resp.json()["error"] == "wrong_channel"


def test_cancelling_a_video_booking_frees_its_slot(client: TestClient) -> None:
    code = book_video(client)["code"]
    assert left_at(client, TUESDAY_10) == 1
    assert client.delete(f"/api/appointments/{code}").status_code == 204
    assert left_at(client, TUESDAY_10) == 2
    read = client.get(f"/api/appointments/{code}").json()
    assert read["status"] == "cancelled" and read["channel"] == "video"


def test_a_video_booking_records_anonymous_events(client: TestClient, session: Session) -> None:
    body = book_video(client)
    fresh(session)
    for kind in ("appointment.booked", "consultation.booked"):
        rows = session.scalars(select(Event).where(Event.kind == kind)).all()
        assert [(e.location_id, e.service_id) for e in rows] == [(VIDEO, RESIDENCE)], kind
        assert rows[0].data["minutes"] == 15
        assert body["code"] not in str(rows[0].data) and "erika" not in str(rows[0].data)
    book_via_api(client)
    count = select(func.count(Event.id)).where(Event.kind == "consultation.booked")
    assert fresh(session).scalar(count) == 1  # an office visit is no consultation


def test_a_video_booking_is_not_checked_in_at_a_kiosk(client: TestClient) -> None:
    code = book_video(client, MONDAY_9)["code"]
    page = client.get("/standorte/aegi/kiosk")
    resp = client.post(
        "/standorte/aegi/kiosk/anmelden",
        data={"code": code, "csrf_token": csrf_in(page.text)},
        follow_redirects=False,
    )
    assert resp.status_code == 422
    assert "Videoberatung" in resp.text
