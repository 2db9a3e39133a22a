"""Two things at once on the same call: one wins, the other gets 409 (or reads the winner's
row), on SQLite and PostgreSQL. Real transactions side by side on a committed database of the
module's own (real_engine), one Session per thread."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from servicepoint.config import Settings
from servicepoint.consultation import service
from servicepoint.consultation.models import Consultation
from servicepoint.core.clock import utcnow
from tests.consultation.support import clerk, in_call, join_token, video_booking, waiting


@pytest.fixture
def real_settings(real_engine: Engine, tmp_path: Path) -> Settings:
    return Settings(
        database_url=real_engine.url.render_as_string(hide_password=False),
        secret_key="test-secret",
        redis_url=None,
        state_dir=tmp_path / "var",
    )


Action = Callable[[Session], object]


def together(engine: Engine, actions: list[Action]) -> tuple[Counter[str], list[object]]:
    """Each action in its own thread and Session, started at once; the outcomes ("ok" or the
    error's class name) and the values returned."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = []
    values: list[object] = []
    lock = threading.Lock()

    def run(action: Action) -> None:
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait(timeout=30)
            try:
                value = action(session)
                session.commit()
                result = "ok"
            except Exception as exc:  # the test says which errors are right
                session.rollback()
                result, value = type(exc).__name__, None
        with lock:
            outcomes.append(result)
            values.append(value)

    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return Counter(outcomes), values


def _committed(engine: Engine, make: Callable[[Session], object]) -> None:
    with Session(engine, expire_on_commit=False) as session:
        make(session)
        session.commit()


def _booking_code(engine: Engine, settings: Settings, state: str) -> tuple[str, str]:
    """A video booking starting now, its call in `state` (booked: link not opened yet); its
    code and join token."""
    made: list[tuple[str, str]] = []

    def make(session: Session) -> None:
        booking = video_booking(session)
        clerk(session)
        if state == "waiting":
            waiting(session, settings, booking)
        elif state == "admitted":  # each call its own clerk: a clerk takes one at a time
            in_call(session, settings, booking, staff=clerk(session, f"clerk-{booking.code}"))
        made.append((booking.code, join_token(settings, booking)))

    _committed(engine, make)
    return made[0]


def _consultations(engine: Engine, code: str) -> list[Consultation]:
    with Session(engine, expire_on_commit=False) as session:
        booking_id = service.by_code(session, code=code)[1].id
        stmt = select(Consultation).where(Consultation.booking_id == booking_id)
        return list(session.scalars(stmt))


def test_tabs_opening_the_link_at_once_make_one_consultation(
    real_engine: Engine, real_settings: Settings
) -> None:
    code, token = _booking_code(real_engine, real_settings, "booked")

    def open_link(session: Session) -> object:
        return service.open_join(session, token=token, settings=real_settings).consultation.id

    outcomes, ids = together(real_engine, [open_link] * 4)
    assert outcomes == Counter({"ok": 4})
    assert len(set(ids)) == 1
    assert len(_consultations(real_engine, code)) == 1


def test_two_clerks_admitting_at_once_admit_once(
    real_engine: Engine, real_settings: Settings
) -> None:
    code, _ = _booking_code(real_engine, real_settings, "waiting")

    def admit(name: str) -> Action:
        def act(session: Session) -> object:
            user = clerk(session, name)
            return service.admit(session, code=code, clerk=user, settings=real_settings).clerk_id

        return act

    _committed(real_engine, lambda s: (clerk(s, "clerk-a"), clerk(s, "clerk-b")))
    outcomes, _ = together(real_engine, [admit("clerk-a"), admit("clerk-b")])
    assert outcomes == Counter({"ok": 1, "StateConflict": 1})
    (consultation,) = _consultations(real_engine, code)
    assert consultation.state == "admitted"


def test_one_clerk_admitting_two_citizens_at_once_admits_one(
    real_engine: Engine, real_settings: Settings
) -> None:
    # Two tabs of the same clerk (or a double submit): one call, the other is 409 busy.
    codes = [_booking_code(real_engine, real_settings, "waiting")[0] for _ in range(2)]
    _committed(real_engine, lambda s: clerk(s, "clerk-two-tabs"))

    def admit(code: str) -> Action:
        def act(session: Session) -> object:
            user = clerk(session, "clerk-two-tabs")
            return service.admit(session, code=code, clerk=user, settings=real_settings).id

        return act

    outcomes, _ = together(real_engine, [admit(codes[0]), admit(codes[1])])
    assert outcomes == Counter({"ok": 1, "Busy": 1})
    states = sorted(_consultations(real_engine, code)[0].state for code in codes)
    assert states == ["admitted", "waiting"]


def test_ending_and_sending_back_at_once_do_one_of_them(
    real_engine: Engine, real_settings: Settings
) -> None:
    code, _ = _booking_code(real_engine, real_settings, "admitted")

    def end(session: Session) -> object:
        return service.end(session, code=code, clerk=clerk(session))

    def send_back(session: Session) -> object:
        return service.send_back(session, code=code, clerk=clerk(session))

    outcomes, _ = together(real_engine, [end, send_back])
    (consultation,) = _consultations(real_engine, code)
    if outcomes == Counter({"ok": 2}):  # sent back first, then ended from the waiting room
        assert consultation.state == "ended"
    else:
        assert outcomes == Counter({"ok": 1, "StateConflict": 1})
        assert consultation.state in ("ended", "waiting")


def test_two_tabs_taking_over_at_once_leave_one_holder(
    real_engine: Engine, real_settings: Settings
) -> None:
    code, _ = _booking_code(real_engine, real_settings, "waiting")  # held by "tab-1"

    def knock(tab: str) -> Action:
        def act(session: Session) -> object:
            consultation = service.by_code(session, code=code)[0]
            return service.knock(session, consultation=consultation, connection=tab, now=utcnow())

        return act

    outcomes, replaced = together(real_engine, [knock("tab-2"), knock("tab-3")])
    assert outcomes == Counter({"ok": 2})
    (consultation,) = _consultations(real_engine, code)
    # One after the other: the first took over from tab-1, the last (now the holder) from the
    # first; nobody holds the entry without the tab before it being told.
    first = "tab-2" if consultation.connection == "tab-3" else "tab-3"
    assert sorted(map(str, replaced)) == sorted(["tab-1", first])


def test_two_ratings_at_once_count_once(real_engine: Engine, real_settings: Settings) -> None:
    code, _ = _booking_code(real_engine, real_settings, "admitted")
    _committed(real_engine, lambda s: service.end(s, code=code, clerk=None))
    (consultation,) = _consultations(real_engine, code)

    def rate(value: int) -> Action:
        return lambda s: service.rate(s, consultation_id=consultation.id, rating=value)

    outcomes, _ = together(real_engine, [rate(5), rate(1)])
    assert outcomes == Counter({"ok": 1, "AlreadyRated": 1})
    with Session(real_engine) as session:
        rated = session.scalar(
            select(func.count()).select_from(Consultation).where(Consultation.rating.is_not(None))
        )
    assert rated == 1
