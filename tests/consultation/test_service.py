"""The consultation core: links, states, presence, queue, guest links, note, handover, rating,
fallback, uploads. Real service functions on SQLite and PostgreSQL (races: test_races.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepoint.account.models import AuditEntry
from servicepoint.appointment.models import OutboxMail
from servicepoint.config import Settings
from servicepoint.consultation import service, tokens
from servicepoint.consultation.errors import (
    AlreadyRated,
    BadToken,
    BookingCancelled,
    InvalidInput,
    LinkExpired,
    NoHandover,
    NotAdmitted,
    NotPresent,
    NotVideoBooking,
    StateConflict,
    TooEarly,
)
from servicepoint.consultation.models import Consultation
from servicepoint.core import events
from servicepoint.core.clock import utcnow
from servicepoint.errors import PayloadTooLarge, UnsupportedMediaType
from tests.consultation.support import (
    PDF,
    clerk,
    in_call,
    join_token,
    joined,
    video_booking,
    video_location,
    waiting,
)


def kinds(session: Session, kind: str) -> list[dict[str, object]]:
    return [e.data for e in events.events(session, kind=f"consultation.{kind}")]


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


# --- the join link -------------------------------------------------------------------------------


def test_opening_the_link_makes_the_consultation_once(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    first = service.open_join(session, token=join_token(settings, booking), settings=settings)
    again = service.open_join(session, token=join_token(settings, booking), settings=settings)
    assert first.consultation.id == again.consultation.id
    assert first.consultation.state == "booked"
    assert [s.id for s in first.services] == ["gewerbe"]
    assert first.opens_at == booking.start - minutes(settings.video_early_join_minutes)
    assert first.closes_at == booking.end + minutes(settings.video_late_join_minutes)
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
        tokens.guest_token(settings.secret_key, booking.code, "nonce"),
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


# --- guests --------------------------------------------------------------------------------------


def test_a_new_guest_link_replaces_the_old(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    in_call(session, settings, booking)
    first = service.issue_guest_link(session, code=booking.code, settings=settings)
    assert first.startswith("/video/gast/")
    guest = service.open_guest(session, token=first.rsplit("/", 1)[1], settings=settings)
    assert guest.guest and guest.booking.code == booking.code
    second = service.issue_guest_link(session, code=booking.code, settings=settings)
    with pytest.raises(BadToken):
        service.open_guest(session, token=first.rsplit("/", 1)[1], settings=settings)
    service.open_guest(session, token=second.rsplit("/", 1)[1], settings=settings)
    with pytest.raises(BadToken):  # the citizen's own link is no guest link
        service.open_guest(session, token=join_token(settings, booking), settings=settings)


def test_a_guest_link_keeps_to_the_booking_window(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    in_call(session, settings, booking)
    token = service.issue_guest_link(session, code=booking.code, settings=settings).split("/")[-1]
    closes = booking.end + minutes(settings.video_late_join_minutes)
    with pytest.raises(LinkExpired):
        service.open_guest(session, token=token, settings=settings, now=closes)


# --- note, handover, rating, fallback ------------------------------------------------------------


def test_notes_add_up_within_a_limit(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    in_call(session, settings, booking)
    service.add_note(session, code=booking.code, text=" Ausweis gesehen ", clerk=clerk(session))
    consultation = service.add_note(session, code=booking.code, text="Rückruf nötig")
    assert consultation.note == "Ausweis gesehen\n\nRückruf nötig"
    with pytest.raises(InvalidInput):
        service.add_note(session, code=booking.code, text="   ")
    with pytest.raises(InvalidInput):
        service.add_note(session, code=booking.code, text="x" * 4000)


def test_handover_to_an_appointment_mails_the_booking_link(
    session: Session, settings: Settings
) -> None:
    booking = video_booking(session, services=("gewerbe", "wohngeld"), lang="en")
    in_call(session, settings, booking)
    link = service.handover(
        session, code=booking.code, to="appointment", settings=settings, base_url="https://x.de/"
    )
    assert link == "https://x.de/termine?service=gewerbe"  # wohngeld is not booked in person
    mail = session.scalars(select(OutboxMail).where(OutboxMail.recipient == booking.email)).one()
    assert link in mail.body and mail.kind == "video_appointment"
    assert mail.body.startswith("Hello Erika Mustermann,")
    assert kinds(session, "handover") == [{"to": "appointment"}] * 2  # one per service
    assert joined(session, settings, booking).handover == "appointment"


def test_handover_to_an_application_needs_an_online_form(
    session: Session, settings: Settings
) -> None:
    booking = video_booking(session, services=("wohngeld",))
    in_call(session, settings, booking)
    with pytest.raises(NoHandover) as caught:
        service.handover(
            session, code=booking.code, to="application", settings=settings, base_url="http://h"
        )
    assert caught.value.status_code == 409
    with pytest.raises(NoHandover):
        service.handover(
            session, code=booking.code, to="appointment", settings=settings, base_url="http://h"
        )
    with pytest.raises(InvalidInput):
        service.handover(session, code=booking.code, to="nowhere", settings=settings, base_url="")
    # The clerk may name another service the call found out about.
    link = service.handover(
        session,
        code=booking.code,
        to="application",
        settings=settings,
        base_url="http://h",
        service_id="meldebescheinigung",
    )
    assert link == "http://h/antrag/meldebescheinigung"


def test_one_rating_after_the_end(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    consultation = in_call(session, settings, booking)
    with pytest.raises(StateConflict):
        service.rate(session, consultation_id=consultation.id, rating=5)
    service.end(session, code=booking.code, clerk=None)
    for bad in (0, 6, -1):
        with pytest.raises(InvalidInput):
            service.rate(session, consultation_id=consultation.id, rating=bad)
    service.rate(session, consultation_id=consultation.id, rating=4)
    with pytest.raises(AlreadyRated) as caught:
        service.rate(session, consultation_id=consultation.id, rating=5)
    assert caught.value.status_code == 409
    assert consultation.rating == 4 and kinds(session, "rated") == [{"rating": 4}]


def test_fallback_is_counted_once_per_mode(session: Session, settings: Settings) -> None:
    booking = video_booking(session)
    consultation = waiting(session, settings, booking)
    for mode in ("audio", "audio", "phone"):
        service.record_fallback(session, consultation_id=consultation.id, mode=mode)
    assert kinds(session, "fallback") == [{"mode": "audio"}, {"mode": "phone"}]
    assert consultation.fallback == "phone"
    with pytest.raises(InvalidInput):
        service.record_fallback(session, consultation_id=consultation.id, mode="carrier-pigeon")


# --- documents -----------------------------------------------------------------------------------


@pytest.fixture
def local(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"state_dir": tmp_path, "upload_max_bytes": 10_000})


def test_uploads_only_during_the_call(session: Session, local: Settings) -> None:
    booking = video_booking(session)
    consultation = waiting(session, local, booking)
    with pytest.raises(NotAdmitted) as caught:
        service.add_upload(
            session, consultation_id=consultation.id, source=PDF, filename="a.pdf", settings=local
        )
    assert caught.value.status_code == 409
    assert not (local.state_dir / "video-uploads").exists() or not any(
        (local.state_dir / "video-uploads").iterdir()
    )


def test_a_document_goes_to_staff(session: Session, local: Settings) -> None:
    booking = video_booking(session)
    consultation = in_call(session, local, booking)
    row = service.add_upload(
        session,
        consultation_id=consultation.id,
        source=PDF,
        filename="../Ausweis\u202e.pdf",
        settings=local,
    )
    assert (row.filename, row.content_type, row.size, row.sender) == (
        "Ausweis.pdf",
        "application/pdf",
        len(PDF),
        "citizen",
    )
    assert (local.state_dir / "video-uploads" / row.storage_key).read_bytes() == PDF
    assert not (local.state_dir / "uploads").exists()  # casework's folder stays untouched
    user = clerk(session)
    found, data = service.upload_for_staff(
        session, code=booking.code, upload_id=row.id, settings=local, clerk=user
    )
    assert found.id == row.id and data == PDF
    assert session.scalars(
        select(AuditEntry.target).where(AuditEntry.action == "video_upload_download")
    ).all() == [booking.code]
    other = video_booking(session)
    in_call(session, local, other)
    with pytest.raises(Exception) as caught:
        service.upload_for_staff(session, code=other.code, upload_id=row.id, settings=local)
    assert getattr(caught.value, "status_code", None) == 404
    assert [u.id for u in service.uploads_of(session, consultation_id=consultation.id)] == [row.id]


def test_wrong_type_and_size_are_refused_by_content(session: Session, local: Settings) -> None:
    booking = video_booking(session)
    consultation = in_call(session, local, booking)
    with pytest.raises(UnsupportedMediaType) as wrong:
        service.add_upload(
            session,
            consultation_id=consultation.id,
            source=b"MZ\x90\x00 a program",
            filename="a.pdf",
            settings=local,
        )
    assert wrong.value.status_code == 415
    with pytest.raises(PayloadTooLarge) as big:
        service.add_upload(
            session,
            consultation_id=consultation.id,
            source=PDF + b"0" * 10_000,
            filename="big.pdf",
            settings=local,
        )
    assert big.value.status_code == 413
    folder = local.state_dir / "video-uploads"
    assert [p.name for p in folder.iterdir()] == []
    assert service.uploads_of(session, consultation_id=consultation.id) == []
