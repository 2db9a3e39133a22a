"""The consultation core: links, states, presence, staff's steps, queue and place. Real service
functions on SQLite and PostgreSQL (guest links, moves, late calls: test_service_links.py; note,
handover, rating, uploads: test_service_followup.py; races: test_races.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.account.models import AuditEntry
from servicepoint.config import Settings
from servicepoint.consultation import service, timing, tokens
from servicepoint.consultation.errors import (
    BadToken,
    BookingCancelled,
    LinkExpired,
    NotPresent,
    NotVideoBooking,
    StateConflict,
    TooEarly,
)
from servicepoint.consultation.models import Consultation
from servicepoint.core import events
from servicepoint.core.clock import utcnow
from tests.consultation.support import (
    clerk,
    in_call,
    join_token,
    joined,
    kinds,
    minutes,
    video_booking,
    video_location,
    waiting,
)

# --- the join link -------------------------------------------------------------------------------


def test_opening_the_link_makes_the_consultation_once(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    first = service.open_join(session, token=join_token(settings, booking), settings=settings)
    again = service.open_join(session, token=join_token(settings, booking), settings=settings)
    assert first.consultation.id == again.consultation.id
    assert first.consultation.state == "booked"
    assert [s.id for s in first.services] == ["gewerbe"]
    assert first.opens_at == booking.start - minutes(settings.video_early_join_minutes)
    # Opening the link knocks: a wait for a late clerk may last until the day ends.
    assert first.closes_at == timing.day_end(booking)
    assert not first.guest
    rows = session.scalars(select(Consultation).where(Consultation.booking_id == booking.id))
    assert len(rows.all()) == 1


@pytest.mark.parametrize(
    "token",
    [
        "",
        "nonsense",
        "ABCDEFGHJKMN-" + "0" * 32,
        "ABCDEFGHJKMN-" + "0" * 31,
        "../../etc-" + "a" * 32,
    ],
)
def test_a_made_up_token_is_403(session: Session, settings: Settings, token: str) -> None:
    with pytest.raises(BadToken) as caught:
        service.open_join(session, token=token, settings=settings)
    assert caught.value.status_code == 403
    assert caught.value.code == "bad_token"


def test_a_token_under_another_key_or_of_a_guest_is_403(
    session: Session, settings: Settings
) -> None:
    booking = video_booking(session)
    for token in (
        tokens.join_token("another-secret", booking.code),
        tokens.guest_token(settings.secret_key, 1, "nonce"),
        join_token(settings, booking).lower(),
    ):
        with pytest.raises(BadToken):
            service.open_join(session, token=token, settings=settings)


def test_too_early_is_403_with_the_opening_time(session: Session, settings: Settings) -> None:
    start = dt.datetime(2030, 5, 6, 10, 0, tzinfo=dt.UTC)  # 12:00 in Berlin (summer time)
    booking = video_booking(session, start=start)
    with pytest.raises(TooEarly) as caught:
        service.open_join(
            session, token=join_token(settings, booking), settings=settings, now=start - minutes(11)
        )
    assert caught.value.status_code == 403 and caught.value.code == "too_early"
    assert caught.value.opens_at == start - minutes(10)
    assert caught.value.params == {"time": "11:50"}
    found = service.open_join(
        session, token=join_token(settings, booking), settings=settings, now=start - minutes(10)
    )
    assert found.consultation.state == "booked"


def test_after_the_window_the_link_is_410(session: Session, settings: Settings) -> None:
    booking = video_booking(session, start=utcnow() - minutes(60), minutes=15)
    closes = booking.end + minutes(settings.video_late_join_minutes)
    token = join_token(settings, booking)
    service.open_join(session, token=token, settings=settings, now=closes - minutes(1))
    with pytest.raises(LinkExpired) as caught:
        service.open_join(session, token=token, settings=settings, now=closes)
    assert caught.value.status_code == 410 and caught.value.code == "expired"


def test_a_cancelled_booking_is_410(session: Session, settings: Settings) -> None:
    booking = video_booking(session, status="cancelled")
    with pytest.raises(BookingCancelled) as caught:
        service.open_join(session, token=join_token(settings, booking), settings=settings)
    assert caught.value.status_code == 410 and caught.value.code == "cancelled"


def test_a_booking_at_an_office_has_no_video_call(session: Session, settings: Settings) -> None:
    booking = video_booking(session, channel="in_person", location_id="aegi")
    with pytest.raises(NotVideoBooking) as caught:
        service.open_join(session, token=join_token(settings, booking), settings=settings)
    assert caught.value.status_code == 403


# --- presence ------------------------------------------------------------------------------------


def test_the_knock_starts_the_wait_once(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    consultation = joined(session, settings, booking)
    now = utcnow()
    assert service.knock(session, consultation=consultation, connection="a", now=now) is None
    assert consultation.state == "waiting" and consultation.knocked_at == now
    assert service.knock(session, consultation=consultation, connection="a", now=now) is None
    assert len(kinds(session, "knocked")) == 1
    assert service.state_of(session, code=booking.code) == "waiting"


def test_a_second_tab_takes_over_the_first(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    consultation = waiting(session, settings, booking, connection="first")
    now = utcnow()
    assert service.knock(session, consultation=consultation, connection="second", now=now) == (
        "first"
    )
    assert not service.heartbeat(
        session, consultation_id=consultation.id, connection="first", now=now
    )
    assert service.heartbeat(session, consultation_id=consultation.id, connection="second", now=now)
    # The first tab closing afterwards does not take the entry out of the waiting room.
    service.leave(session, consultation_id=consultation.id, connection="first")
    assert [e.code for e in service.waiting_room(session, settings=settings)] == [booking.code]
    service.leave(session, consultation_id=consultation.id, connection="second")
    assert service.waiting_room(session, settings=settings) == []


def test_a_silent_page_drops_out_after_the_presence_time(
    session: Session, settings: Settings
) -> None:
    booking = video_booking(session)
    start = utcnow()
    waiting(session, settings, booking, now=start)
    late = start + dt.timedelta(seconds=settings.video_presence_seconds + 1)
    assert service.waiting_room(session, settings=settings, now=late) == []
    with pytest.raises(NotPresent) as caught:
        service.admit(session, code=booking.code, clerk=clerk(session), now=late, settings=settings)
    assert caught.value.status_code == 409


def test_an_admitted_citizen_who_reloads_is_back_in_the_call(
    session: Session, settings: Settings
) -> None:
    booking = video_booking(session)
    consultation = in_call(session, settings, booking)
    again = joined(session, settings, booking)
    assert service.knock(session, consultation=again, connection="reload", now=utcnow()) == "tab-1"
    assert again.state == "admitted"
    assert service.state_of(session, code=booking.code) == "admitted"
    assert consultation.id == again.id


# --- staff's steps -------------------------------------------------------------------------------


def test_admit_counts_the_wait_and_is_audited(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    start = utcnow()
    waiting(session, settings, booking, now=start)
    user = clerk(session)
    consultation = service.admit(
        session, code=booking.code, clerk=user, now=start + dt.timedelta(seconds=20)
    )
    assert consultation.state == "admitted" and consultation.clerk_id == user.id
    assert kinds(session, "admitted") == [{"wait_seconds": 20}]
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "video_admit")).all()
    assert [(a.username, a.target) for a in audit] == [(user.username, booking.code)]
    with pytest.raises(StateConflict):  # a second clerk, a second click
        service.admit(session, code=booking.code, clerk=clerk(session, "other-clerk"))


def test_a_booking_cancelled_while_waiting_leaves_the_room(
    session: Session, settings: Settings
) -> None:
    booking = video_booking(session)
    waiting(session, settings, booking)
    booking.status = "cancelled"
    session.flush()
    assert service.waiting_room(session, settings=settings) == []
    with pytest.raises(BookingCancelled):
        service.admit(session, code=booking.code, clerk=clerk(session), settings=settings)


def test_send_back_and_admit_again(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    in_call(session, settings, booking)
    user = clerk(session)
    back_at = utcnow() + dt.timedelta(seconds=5)
    consultation = service.send_back(session, code=booking.code, clerk=user, now=back_at)
    assert consultation.state == "waiting" and consultation.knocked_at == back_at
    with pytest.raises(StateConflict):
        service.send_back(session, code=booking.code, clerk=user)
    service.heartbeat(session, consultation_id=consultation.id, connection="tab-1", now=back_at)
    service.admit(session, code=booking.code, clerk=user, now=back_at + dt.timedelta(seconds=7))
    assert kinds(session, "admitted")[-1] == {"wait_seconds": 7}


def test_end_counts_the_duration_and_closes_guest_links(
    session: Session, settings: Settings
) -> None:
    booking = video_booking(session)
    start = utcnow()
    consultation = in_call(session, settings, booking, now=start)
    path = service.issue_guest_link(session, code=booking.code, settings=settings)
    service.end(session, code=booking.code, clerk=clerk(session), now=start + minutes(12))
    assert consultation.state == "ended" and consultation.guest_nonce is None
    assert kinds(session, "ended") == [{"duration_seconds": 720}]
    with pytest.raises(BadToken):
        service.open_guest(session, token=path.rsplit("/", 1)[1], settings=settings)
    with pytest.raises(StateConflict):
        service.end(session, code=booking.code, clerk=None)
    with pytest.raises(StateConflict):
        service.admit(session, code=booking.code, clerk=clerk(session))


def test_ending_a_wait_counts_no_call_duration(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    waiting(session, settings, booking)
    service.end(session, code=booking.code, clerk=clerk(session))
    assert kinds(session, "ended") == [{"duration_seconds": None}]


def test_events_are_anonymous(session: Session, settings: Settings) -> None:
    booking = video_booking(session, services=("gewerbe", "wohngeld"))
    in_call(session, settings, booking)
    rows = events.events(session, kind="consultation.admitted")
    assert sorted(e.service_id or "" for e in rows) == ["gewerbe", "wohngeld"]
    assert all(e.location_id == booking.location_id for e in rows)
    for e in events.events(session):
        assert booking.code not in str(e.data) and "Erika" not in str(e.data)


# --- queue and place -----------------------------------------------------------------------------


def test_the_waiting_room_is_in_appointment_order(session: Session, settings: Settings) -> None:
    now = utcnow()
    late = video_booking(session, start=now + minutes(5), name="Zweite")
    early = video_booking(session, start=now - minutes(5), services=("wohngeld",), name="Erste")
    knocked = waiting(session, settings, late, now=now - dt.timedelta(seconds=90))
    service.heartbeat(session, consultation_id=knocked.id, connection="tab-1", now=now)
    waiting(session, settings, early, now=now)
    room = service.waiting_room(session, settings=settings, now=now)
    assert [(e.code, e.name) for e in room] == [(early.code, "Erste"), (late.code, "Zweite")]
    assert room[1].waited_seconds == 90 and room[0].waited_seconds == 0
    assert room[0].services == ["Wohngeld beantragen"]
    english = service.waiting_room(session, settings=settings, now=now, lang="en")
    assert english[0].services == ["Apply for housing benefit (Wohngeld)"]


def test_a_citizen_sees_only_their_own_place(session: Session, settings: Settings) -> None:
    video_location(session, counters=2)
    now = utcnow()
    first = video_booking(session, start=now - minutes(5))
    second = video_booking(session, start=now)
    third = video_booking(session, start=now + minutes(10))
    for booking in (first, second, third):
        waiting(session, settings, booking, now=now)
    c3 = joined(session, settings, third, now=now)
    place = service.place(session, consultation_id=c3.id, settings=settings, now=now)
    assert place.position == 3
    # Two clerks (the video capacity's counters) serve first and second at once from now, so
    # the third begins five minutes after their time.
    assert (place.estimate_minutes, place.late) == (15, True)


def test_the_estimate_is_honest_when_the_clerk_runs_late(
    session: Session, settings: Settings
) -> None:
    video_location(session, counters=1)
    now = utcnow()
    running = video_booking(session, start=now - minutes(40))
    in_call(session, settings, running, now=now - minutes(40))
    mine = video_booking(session, start=now - minutes(20))
    consultation = waiting(session, settings, mine, now=now)
    place = service.place(session, consultation_id=consultation.id, settings=settings, now=now)
    assert place.position == 1
    assert place.late and place.estimate_minutes is not None and place.estimate_minutes > 0


def test_no_place_unless_waiting(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    consultation = joined(session, settings, booking)
    nowhere = service.place(session, consultation_id=consultation.id, settings=settings)
    assert (nowhere.position, nowhere.estimate_minutes, nowhere.late) == (None, None, False)
    in_call(session, settings, booking)
    assert service.place(session, consultation_id=consultation.id, settings=settings) == nowhere


def test_in_call_and_today(session: Session, settings: Settings) -> None:
    now = utcnow()
    talking = video_booking(session, start=now)
    in_call(session, settings, talking, now=now)
    booked = video_booking(session, start=now + minutes(30))
    video_booking(session, start=now + minutes(45), status="cancelled")
    calls = service.in_call(session, now=now + dt.timedelta(seconds=30))
    assert [(c.code, c.seconds) for c in calls] == [(talking.code, 30)]
    today = {e.code: e.state for e in service.today(session, now=now)}
    if (now + minutes(30)).date() == now.date():  # not run across midnight
        assert today == {talking.code: "admitted", booked.code: "booked"}
