"""What the video benchmarks and browser tests share: the video location, bookings inside their
join window written straight into a server's database, staff sessions with their CSRF token,
and uvicorn processes with the settings the video figures need (own port as base URL, Redis).

Bookings are written as rows rather than booked through the API because the video location's
hours need not cover "now": a citizen's link opens only shortly before the start, and the
figures need many links open at the same time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session

from servicepoint.account import service as account_service
from servicepoint.account.models import User
from servicepoint.appointment.models import Booking, Capacity
from servicepoint.appointment.service import new_code
from servicepoint.catalog.models import Location
from servicepoint.consultation.models import Consultation
from servicepoint.consultation.tokens import join_token
from servicepoint.core.clock import utcnow
from servicepoint.core.db import make_engine
from servicepoint.core.security import CSRF_COOKIE, SESSION_COOKIE, csrf_token_for

VIDEO_LOCATION = "videoberatung"
VIDEO_SERVICE = "wohngeld"  # one of the services whose channels include "video" (data)
STAFF_PASSWORD = "video-staff-password-1"
ALL_DAY = {day: [["00:00", "24:00"]] for day in ("mo", "tu", "we", "th", "fr", "sa", "su")}
SOON = dt.timedelta(minutes=5)  # inside the default 10-minute early-join window
ROOT = Path(__file__).resolve().parent.parent


def ensure_video_location(session: Session) -> None:
    """The city's video "location" and its capacity, unless the seed already made them."""
    if session.get(Location, VIDEO_LOCATION) is None:
        session.add(Location(id=VIDEO_LOCATION, name="Videoberatung", kind="video"))
        session.flush()
    if session.get(Capacity, VIDEO_LOCATION) is None:
        session.add(
            Capacity(
                location_id=VIDEO_LOCATION,
                hours=ALL_DAY,
                hours_source="bench/test set-up",
                counters=2,
                walkin_share=0.0,
                channel="video",
            )
        )
        session.flush()


def add_booking(
    session: Session,
    *,
    start: dt.datetime | None = None,
    minutes: int = 20,
    name: str = "Erika Mustermann",
    status: str = "booked",
    channel: str = "video",
) -> str:
    """A video booking row (no slot accounting: the figures need links, not capacity)."""
    ensure_video_location(session)
    begin = start or utcnow() + SOON
    code = new_code()
    session.add(
        Booking(
            code=code,
            location_id=VIDEO_LOCATION,
            start=begin,
            end=begin + dt.timedelta(minutes=minutes),
            service_ids=[VIDEO_SERVICE],
            name=name,
            email="erika@example.org",
            status=status,
            channel=channel,
            cancelled_at=utcnow() if status == "cancelled" else None,
        )
    )
    session.flush()
    return code


def add_bookings(
    engine: Engine, count: int, *, start: dt.datetime | None = None, status: str = "booked"
) -> list[str]:
    """`count` bookings committed at once (see add_booking)."""
    with Session(engine) as session:
        codes = [
            add_booking(session, start=start, status=status, name=f"Bench {n}")
            for n in range(count)
        ]
        session.commit()
    return codes


def admit_in_db(engine: Engine, calls: list[tuple[str, str]], *, secret: str) -> None:
    """Calls already admitted, each (booking code, clerk's username), through the service as
    the console would (knock, then admit), without a browser: the load figures need calls."""
    from servicepoint.config import Settings
    from servicepoint.consultation import service

    settings = Settings(database_url=engine.url.render_as_string(False), secret_key=secret)
    with Session(engine) as session:
        for code, username in calls:
            clerk = session.scalars(select(User).where(User.username == username)).one()
            joined = service.open_join(session, token=join_token(secret, code), settings=settings)
            service.knock(
                session, consultation=joined.consultation, connection="bench", now=utcnow()
            )
            service.admit(session, code=code, clerk=clerk, settings=settings)
            session.commit()


def end_open_consultations(engine: Engine) -> None:
    """Nobody left in the waiting room or in a call (a clean start for the next run)."""
    with Session(engine) as session:
        session.execute(
            update(Consultation)
            .where(Consultation.state != "ended")
            .values(state="ended", ended_at=utcnow(), seen_at=None, connection=None)
        )
        session.commit()


def join_path(secret: str, code: str) -> str:
    return f"/video/{join_token(secret, code)}"


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://", 1) + path


@dataclass(frozen=True)
class StaffLogin:
    """A logged-in staff browser without the login form: session cookie, browser id, token."""

    username: str
    session_token: str
    browser_id: str
    csrf_token: str

    def cookies(self) -> dict[str, str]:
        return {SESSION_COOKIE: self.session_token, CSRF_COOKIE: self.browser_id}

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies().items())


def staff_login(engine: Engine, *, secret: str, username: str) -> StaffLogin:
    """A staff user (made if missing) with a fresh server-side session."""
    return staff_logins(engine, secret=secret, usernames=[username])[0]


def staff_logins(engine: Engine, *, secret: str, usernames: list[str]) -> list[StaffLogin]:
    """Staff users (made if missing, all with one password hash: argon2 per user would take
    minutes for a load figure), each with a fresh server-side session."""
    logins = []
    with Session(engine) as session:
        known = {u.username: u for u in session.scalars(select(User))}
        shared = PasswordHasher().hash(STAFF_PASSWORD)  # what account.service stores too
        for username in usernames:
            user = known.get(username)
            if user is None:
                user = User(username=username, password_hash=shared, role="staff")
                session.add(user)
                session.flush()
            token = account_service.start_session(session, user=user, hours=8)
            browser = secrets.token_urlsafe(24)
            logins.append(
                StaffLogin(username, token, browser, csrf_token_for(secret, browser, token))
            )
        session.commit()
    return logins


def prepare(url: str) -> Engine:
    """An engine on `url` (migrated and seeded by the caller) with the video location in it."""
    engine = make_engine(url)
    with Session(engine) as session:
        ensure_video_location(session)
        session.commit()
    return engine


def reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(
    database_url: str, *, secret: str, redis_url: str | None = None, port: int | None = None
) -> Iterator[str]:
    """One uvicorn worker process whose base URL is its own address (so the staff WebSocket's
    Origin check holds); Redis carries signalling across processes when given."""
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "SERVICEPOINT_DATABASE_URL": database_url,
        "SERVICEPOINT_BOT_PROTECTION": "off",
        "SERVICEPOINT_SECRET_KEY": secret,
        "SERVICEPOINT_BASE_URL": base,
        "SERVICEPOINT_STATE_DIR": tempfile.mkdtemp(prefix="sp-video-state-"),
        "SERVICEPOINT_REDIS_URL": redis_url or "",
        # Video needs no assistant: its warm-up would embed the catalog in each fresh process.
        "SERVICEPOINT_ASSISTANT_EMBEDDING_BACKEND": "none",
    }
    with uvicorn_process("servicepoint.app:create_app", port=port, env=env, factory=True):
        yield base


@contextlib.contextmanager
def uvicorn_process(
    target: str, *, port: int, env: dict[str, str] | None = None, factory: bool = False
) -> Iterator[str]:
    """uvicorn serving `target` in a process of its own on loopback, until the block ends."""
    base = f"http://127.0.0.1:{port}"
    full_env = {k: v for k, v in os.environ.items() if k != "SERVICEPOINT_REDIS_URL"}
    full_env.update({k: v for k, v in (env or {}).items() if v})
    cmd = [sys.executable, "-m", "uvicorn", target, *(["--factory"] if factory else [])]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen([*cmd, "--no-access-log"], env=full_env, cwd=ROOT)
    try:
        _wait_healthy(base, proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _wait_healthy(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn for {base} exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"uvicorn for {base} did not answer /health")
