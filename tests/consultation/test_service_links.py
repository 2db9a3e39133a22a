"""Guest links, moved and cancelled bookings, calls that run late or were forgotten, and one
call per clerk: the consultation service on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy.orm import Session

from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.errors import BookingNotFound
from servicepoint.appointment.models import Booking
from servicepoint.config import Settings
from servicepoint.consultation import service, timing, tokens
from servicepoint.consultation.errors import (
    BadToken,
    BookingCancelled,
    Busy,
    LinkExpired,
    NotInCall,
)
from servicepoint.core.clock import utcnow
from tests.consultation.support import (
    clerk,
    in_call,
    join_token,
    joined,
    kinds,
    minutes,
    video_booking,
    waiting,
)


def _token(path: str) -> str:
    return path.rsplit("/", 1)[1]


# --- guests --------------------------------------------------------------------------------------


def test_a_new_guest_link_replaces_the_old(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    in_call(session, settings, booking)
    first = service.issue_guest_link(session, code=booking.code, settings=settings)
    assert first.startswith("/video/gast/")
    guest = service.open_guest(session, token=_token(first), settings=settings)
    assert guest.guest and guest.booking.code == booking.code
    second = service.issue_guest_link(session, code=booking.code, settings=settings)
    with pytest.raises(BadToken):
        service.open_guest(session, token=_token(first), settings=settings)
    service.open_guest(session, token=_token(second), settings=settings)
    with pytest.raises(BadToken):  # the citizen's own link is no guest link
        service.open_guest(session, token=join_token(settings, booking), settings=settings)


def test_the_guest_link_does_not_give_away_the_booking(
    session: Session, settings: Settings
) -> None:
    booking = video_booking(session)
    consultation = in_call(session, settings, booking)
    path = service.issue_guest_link(session, code=booking.code, settings=settings)
    assert booking.code not in path.upper()
    assert re.fullmatch(rf"/video/gast/g{consultation.id}-[0-9a-f]{{32}}", path)
    for part in re.split(r"[/-]", path):  # nothing in it opens the booking
        if part:
            with pytest.raises(BookingNotFound):
                appointment_service.get_booking(session, code=part)


def test_old_style_and_forged_guest_tokens_are_403(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    consultation = in_call(session, settings, booking)
    service.issue_guest_link(session, code=booking.code, settings=settings)
    nonce = consultation.guest_nonce
    assert nonce
    mac = tokens.guest_token(settings.secret_key, consultation.id, nonce).split("-")[1]
    for token in (
        f"{booking.code}-{mac}",  # the old format: booking code and MAC
        f"g{consultation.id + 1}-{mac}",  # another consultation's id with this MAC
        tokens.guest_token("another-secret", consultation.id, nonce),
        f"g{consultation.id}-{'0' * 32}",
        f"g0{consultation.id}-{mac}",
        "g-" + mac,
    ):
        with pytest.raises(BadToken):
            service.open_guest(session, token=token, settings=settings)


def test_a_guest_link_lasts_as_long_as_the_call(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    consultation = in_call(session, settings, booking)
    token = _token(service.issue_guest_link(session, code=booking.code, settings=settings))
    until = timing.call_until(booking, consultation.admitted_at, settings)
    service.open_guest(session, token=token, settings=settings, now=until - minutes(1))
    with pytest.raises(LinkExpired):
        service.open_guest(session, token=token, settings=settings, now=until)


# --- moved and cancelled bookings ----------------------------------------------------------------


def _move(session: Session, booking: Booking, *, by: dt.timedelta) -> None:
    # As appointment.service.reschedule leaves it: same code (same link), another time.
    booking.start, booking.end = booking.start + by, booking.end + by
    booking.sequence += 1
    session.flush()


def test_a_moved_booking_gets_a_fresh_call(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    in_call(session, settings, booking)
    service.issue_guest_link(session, code=booking.code, settings=settings)
    service.end(session, code=booking.code, clerk=clerk(session))
    service.rate(session, consultation_id=joined(session, settings, booking).id, rating=4)
    _move(session, booking, by=dt.timedelta(days=1))
    assert service.state_of(session, code=booking.code) == "booked"
    later = booking.start
    assert {e.code: e.state for e in service.today(session, now=later)}[booking.code] == "booked"
    moved = waiting(session, settings, booking, now=later)
    assert (moved.state, moved.knocked_at, moved.ended_at, moved.rating) == (
        "waiting",
        later,
        None,
        None,
    )
    assert moved.booking_start == later and moved.guest_nonce is None
    assert (
        service.place(session, consultation_id=moved.id, settings=settings, now=later).position == 1
    )
    assert len(kinds(session, "knocked")) == 2  # the new wait is counted again


def test_a_guest_link_of_the_old_time_stops_when_moved(
    session: Session, settings: Settings
) -> None:
    booking = video_booking(session)
    in_call(session, settings, booking)
    token = _token(service.issue_guest_link(session, code=booking.code, settings=settings))
    _move(session, booking, by=minutes(30))
    with pytest.raises(BadToken):
        service.open_guest(session, token=token, settings=settings, now=booking.start)


def test_a_cancelled_booking_ends_its_call(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    consultation = in_call(session, settings, booking)
    now = utcnow()
    booking.status, booking.cancelled_at = "cancelled", now + minutes(5)
    session.flush()
    assert service.state_of(session, code=booking.code) == "ended"
    assert service.in_call(session, now=now) == []
    with pytest.raises(BookingCancelled) as caught:  # the signalling closes 4410 `cancelled`
        service.place(session, consultation_id=consultation.id, settings=settings)
    assert (caught.value.status_code, caught.value.code) == (410, "cancelled")
    with pytest.raises(BookingCancelled):
        service.open_join(session, token=join_token(settings, booking), settings=settings)
    assert service.end_forgotten(session, settings=settings, now=now + minutes(6)) == 1
    session.refresh(consultation)
    assert consultation.state == "ended" and consultation.ended_at == now + minutes(5)
    assert kinds(session, "ended") == [{"duration_seconds": 300}]


def test_a_booking_cancelled_while_waiting_leaves_the_room(
    session: Session, settings: Settings
) -> None:
    booking = video_booking(session)
    consultation = waiting(session, settings, booking)
    booking.status = "cancelled"
    session.flush()
    assert service.waiting_room(session, settings=settings) == []
    with pytest.raises(BookingCancelled):
        service.place(session, consultation_id=consultation.id, settings=settings)


# --- late and forgotten calls --------------------------------------------------------------------


def test_an_admitted_citizen_may_reload_into_a_call_running_late(
    session: Session, settings: Settings
) -> None:
    booking = video_booking(session)
    admitted_at = booking.start + minutes(40)  # the clerk was late
    in_call(session, settings, booking, now=admitted_at)
    closes = booking.end + minutes(settings.video_late_join_minutes)
    token = join_token(settings, booking)
    later = closes + minutes(20)
    assert (
        service.open_join(session, token=token, settings=settings, now=later).consultation.state
        == "admitted"
    )
    assert [c.code for c in service.in_call(session, now=later, settings=settings)] == [
        booking.code
    ]
    until = timing.call_until(booking, admitted_at, settings)
    with pytest.raises(LinkExpired):
        service.open_join(session, token=token, settings=settings, now=until)


def test_the_rating_stays_possible_for_a_while_after_a_late_end(
    session: Session, settings: Settings
) -> None:
    booking = video_booking(session)
    in_call(session, settings, booking, now=booking.start + minutes(40))
    ended = booking.end + minutes(settings.video_late_join_minutes + 15)
    service.end(session, code=booking.code, clerk=clerk(session), now=ended)
    token = join_token(settings, booking)
    found = service.open_join(session, token=token, settings=settings, now=ended + minutes(60))
    service.rate(session, consultation_id=found.consultation.id, rating=5)
    with pytest.raises(LinkExpired):
        service.open_join(session, token=token, settings=settings, now=ended + timing.RATING_GRACE)


def test_a_citizen_waiting_on_a_late_clerk_is_not_sent_away(
    session: Session, settings: Settings
) -> None:
    booking = video_booking(session)
    consultation = waiting(session, settings, booking)
    closes = booking.end + minutes(settings.video_late_join_minutes)
    token = join_token(settings, booking)
    found = service.open_join(session, token=token, settings=settings, now=closes + minutes(5))
    assert found.closes_at == timing.day_end(booking) > closes
    service.knock(session, consultation=consultation, connection="tab-2", now=closes + minutes(5))
    place = service.place(
        session, consultation_id=consultation.id, settings=settings, now=closes + minutes(5)
    )
    assert place.late and place.estimate_minutes
    with pytest.raises(LinkExpired):  # bounded: not past the appointment's day
        service.open_join(session, token=token, settings=settings, now=timing.day_end(booking))
    never = video_booking(session, start=booking.start + minutes(15))
    with pytest.raises(LinkExpired):  # who never came in time gets no wait after the window
        service.open_join(
            session,
            token=join_token(settings, never),
            settings=settings,
            now=never.end + minutes(settings.video_late_join_minutes),
        )


def test_forgotten_calls_end_and_stop_counting(session: Session, settings: Settings) -> None:
    yesterday = utcnow() - dt.timedelta(days=1)
    old = video_booking(session, start=yesterday)
    in_call(session, settings, old, now=yesterday)
    gone = video_booking(session, start=yesterday)
    waiting(session, settings, gone, now=yesterday)
    booking = video_booking(session)
    now = booking.start
    me = waiting(session, settings, booking, now=now)
    assert service.in_call(session, now=now, settings=settings) == []
    place = service.place(session, consultation_id=me.id, settings=settings, now=now)
    assert (place.position, place.estimate_minutes, place.late) == (1, 0, False)
    assert service.end_forgotten(session, settings=settings, now=now) == 2
    assert service.state_of(session, code=old.code) == "ended"
    assert service.state_of(session, code=gone.code) == "ended"
    until = timing.call_until(old, yesterday, settings)
    durations = sorted(e["duration_seconds"] or 0 for e in kinds(session, "ended"))
    assert durations == [0, int((until - yesterday).total_seconds())]
    assert service.end_forgotten(session, settings=settings, now=now) == 0  # idempotent


# --- the citizen's end, one call per clerk -------------------------------------------------------


def test_the_citizen_cannot_end_a_call_that_did_not_begin(
    session: Session, settings: Settings
) -> None:
    booking = video_booking(session)
    consultation = waiting(session, settings, booking)
    with pytest.raises(NotInCall) as caught:
        service.end(session, code=booking.code, clerk=None)
    assert (caught.value.status_code, caught.value.code) == (409, "not_in_call")
    assert consultation.state == "waiting" and kinds(session, "ended") == []
    service.admit(session, code=booking.code, clerk=clerk(session), settings=settings)
    assert service.end(session, code=booking.code, clerk=None).state == "ended"


def test_a_clerk_takes_one_call_at_a_time(session: Session, settings: Settings) -> None:
    first, second = video_booking(session), video_booking(session)
    in_call(session, settings, first)
    waiting(session, settings, second, connection="tab-2")
    with pytest.raises(Busy) as caught:
        service.admit(session, code=second.code, clerk=clerk(session), settings=settings)
    assert (caught.value.status_code, caught.value.code) == (409, "busy")
    assert service.state_of(session, code=second.code) == "waiting"
    service.admit(session, code=second.code, clerk=clerk(session, "colleague"), settings=settings)
    service.end(session, code=first.code, clerk=clerk(session))
    third = video_booking(session)
    waiting(session, settings, third, connection="tab-3")
    service.admit(session, code=third.code, clerk=clerk(session), settings=settings)


def test_call_and_today_lists_name_the_services(session: Session, settings: Settings) -> None:
    booking = video_booking(session, services=("gewerbe",))
    in_call(session, settings, booking)
    [call] = service.in_call(session, settings=settings, lang="en")
    assert call.services and call.services[0] != "gewerbe"
    now = booking.start
    [entry] = [e for e in service.today(session, now=now, lang="de") if e.code == booking.code]
    assert entry.services == [s for s in service.in_call(session, settings=settings)[0].services]
    assert service.uploads_of(session, consultation_id=joined(session, settings, booking).id) == []
