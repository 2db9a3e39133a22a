"""A case's status changes once, whoever else acts at the same time, on SQLite and PostgreSQL.

Like tests/appointment/test_race.py these need real transactions side by side, so they use a
committed database of their own (a fresh SQLite file, or the PostgreSQL test database reset,
migrated and seeded), one Session per thread or per request, nothing shared but the database.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from servicepoint.appointment.models import OutboxMail
from servicepoint.casework import service
from servicepoint.casework.errors import CaseClosed
from servicepoint.casework.models import Application
from servicepoint.config import Settings
from servicepoint.core.clock import today_local
from servicepoint.core.events import Event
from tests.casework.case_support import CERTIFICATE, ERIKA, PDF, in_review


@pytest.fixture
def real_settings(real_engine: Engine, tmp_path: Path) -> Settings:
    return Settings(
        database_url=real_engine.url.render_as_string(hide_password=False),
        secret_key="test-secret",
        redis_url=None,
        state_dir=tmp_path / "var",
    )


def _committed(engine: Engine, make: Callable[[Session], Application]) -> str:
    with Session(engine, expire_on_commit=False) as session:
        case = make(session)
        session.commit()
        return case.code


def _case(engine: Engine, code: str) -> Application:
    with Session(engine, expire_on_commit=False) as session:
        return service.get_case(session, code=code)


Action = Callable[[Session, Application], object]


def together(engine: Engine, actions: list[Action], code: str) -> Counter[str]:
    """Each action in its own thread and Session, all loading the case first and then acting at
    once; returns the outcomes ("ok" or the error's class name)."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(action: Action) -> None:
        with Session(engine, expire_on_commit=False) as session:
            case = service.get_case(session, code=code)
            barrier.wait(timeout=30)
            try:
                action(session, case)
                session.commit()
                result = "ok"
            except Exception as exc:  # the test says which errors are right
                session.rollback()
                result = type(exc).__name__
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return Counter(outcomes)


def _decide(settings: Settings, outcome: str) -> Action:
    def act(session: Session, case: Application) -> object:
        return service.decide_by_staff(
            session,
            settings=settings,
            case=case,
            username=f"clerk-{outcome}",
            outcome=outcome,  # type: ignore[arg-type]
            reason="Die Angaben sind nicht belegt.",
        )

    return act


def test_two_clerks_deciding_at_once_decide_once(
    real_engine: Engine, real_settings: Settings
) -> None:
    code = _committed(real_engine, lambda s: in_review(s, real_settings))
    outcomes = together(
        real_engine, [_decide(real_settings, "approved"), _decide(real_settings, "rejected")], code
    )
    assert outcomes == Counter({"ok": 1, "CaseClosed": 1})
    case = _case(real_engine, code)
    assert case.status in ("approved", "rejected")
    assert case.decided_by == f"clerk-{case.status}"  # the winner's decision, whole


def test_a_clerk_deciding_a_case_decided_meanwhile_gets_409(
    real_engine: Engine, real_settings: Settings
) -> None:
    code = _committed(real_engine, lambda s: in_review(s, real_settings))
    with Session(real_engine) as late:
        stale = service.get_case(late, code=code)  # the page the second clerk still has open
        with Session(real_engine) as first:
            _decide(real_settings, "approved")(first, service.get_case(first, code=code))
            first.commit()
        with pytest.raises(CaseClosed):
            _decide(real_settings, "rejected")(late, stale)
        late.rollback()
    assert _case(real_engine, code).status == "approved"


def _waiting(session: Session, settings: Settings) -> Application:
    case = in_review(session, settings)
    return service.request_document(
        session, settings=settings, case=case, username="clerk", what="Mietvertrag"
    )


def test_an_upload_after_the_approval_is_409_and_the_case_stays_approved(
    real_engine: Engine, real_settings: Settings
) -> None:
    code = _committed(real_engine, lambda s: _waiting(s, real_settings))
    with Session(real_engine) as citizen:
        page = service.get_case(citizen, code=code)  # read while the case still waited
        with Session(real_engine) as clerk:
            _decide(real_settings, "approved")(clerk, service.get_case(clerk, code=code))
            clerk.commit()
        with pytest.raises(CaseClosed):
            service.add_upload(
                citizen,
                settings=real_settings,
                case=page,
                name="requested",
                filename="mietvertrag.pdf",
                data=PDF,
            )
        citizen.rollback()
    case = _case(real_engine, code)
    assert case.status == "approved"
    with Session(real_engine) as session:
        assert service.get_case(session, code=code).uploads == []


def test_an_upload_beside_a_decision_never_reopens_it(
    real_engine: Engine, real_settings: Settings
) -> None:
    code = _committed(real_engine, lambda s: _waiting(s, real_settings))

    def upload(session: Session, case: Application) -> object:
        return service.add_upload(
            session,
            settings=real_settings,
            case=case,
            name="requested",
            filename="mietvertrag.pdf",
            data=PDF,
        )

    outcomes = together(real_engine, [upload, _decide(real_settings, "approved")], code)
    # Upload first: the case went back to review and the clerk approved it; decision first:
    # the upload was refused. Either way the clerk's decision stands.
    assert outcomes["ok"] >= 1 and set(outcomes) <= {"ok", "CaseClosed"}
    assert _case(real_engine, code).status == "approved"


def _draft(session: Session, settings: Settings) -> Application:
    case = service.start_draft(
        session, settings=settings, service_id="meldebescheinigung", lang="de"
    )
    form = service.form_for(settings, case.service_id)
    answers = {**ERIKA, **CERTIFICATE}
    for index, step in enumerate(form.all_steps):
        raw = {f.name: answers.get(f.name) for f in step.fields}
        errors = service.save_step(
            session, settings=settings, case=case, index=index, raw=raw, today=today_local()
        )
        assert errors == [], errors
    return case


def test_a_double_submit_sends_once(real_engine: Engine, real_settings: Settings) -> None:
    code = _committed(real_engine, lambda s: _draft(s, real_settings))

    def send(session: Session, case: Application) -> object:
        return service.submit(session, settings=real_settings, case=case)

    outcomes = together(real_engine, [send, send], code)
    assert outcomes == Counter({"ok": 1, "CaseClosed": 1})
    with Session(real_engine) as session:
        case = service.get_case(session, code=code)
        assert case.status == "approved" and case.verification_code
        submitted = select(func.count(Event.id)).where(Event.kind == "application_submitted")
        # The event names no case; this database holds only this test's submissions of the
        # service since the module started, so count the ones at or after this case's time.
        assert session.scalar(submitted.where(Event.at >= case.submitted_at)) == 1
        mails = select(func.count(OutboxMail.id)).where(OutboxMail.kind == "case_approved")
        assert session.scalar(mails.where(OutboxMail.send_after >= case.submitted_at)) == 1
