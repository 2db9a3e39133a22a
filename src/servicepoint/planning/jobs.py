"""One job runner for the planners' long runs: scenarios and the mobile ServicePoint's plans.

A job is a row with `status` (queued → running → done | failed), `progress` (percent),
`progress_note` and `error`. It runs in the worker (`servicepoint worker`, `plan jobs`) or in a
thread of the web process (settings.planning_jobs_in_app), never in a request.

- Claiming is one conditional UPDATE (queued → running where still queued): the row count
  decides, so two processes, on SQLite or PostgreSQL, never run the same job.
- Progress is written in a transaction of its own, so pages see it while the job runs. A runner
  must therefore report its progress before it writes anything to its own session: a progress
  write waiting for the job's own uncommitted row (PostgreSQL row lock, SQLite write lock)
  would wait for itself.
- The result and `done` are committed together; a runner that raises leaves `failed` with a
  clear message, and the thread or worker goes on with the next job. The message is stored as
  its msgid and parameters (`failure_record`), and `failure_text` writes it in a language.

A kind registers `(model, run)`: `run(session, job_id, settings, progress)` with
`progress(percent, note)`; the note is a German msgid (pages translate it).
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from servicepoint.config import Settings
from servicepoint.core.clock import utcnow
from servicepoint.core.i18n import N_
from servicepoint.errors import FieldMessage, ServicePointError
from servicepoint.planning.models import MobilePlan, Scenario

log = logging.getLogger("servicepoint.planning.jobs")

ProgressFn = Callable[[int, str], None]
Runner = Callable[[Session, int, Settings, ProgressFn], None]
JobModel = type[Scenario] | type[MobilePlan]

DONE_NOTE = N_("Fertig")
_FAILED_UNEXPECTEDLY = N_("Die Berechnung ist mit einem internen Fehler abgebrochen (%(error)s).")
_INTERRUPTED = N_("Die Berechnung wurde unterbrochen (der Prozess endete); bitte neu starten.")
_INTERRUPTED_RECORD = json.dumps({"msgid": _INTERRUPTED, "params": {}, "fields": {}})
_STALE_AFTER = dt.timedelta(minutes=10)  # beyond twice the time limit: evaluation, slow disks
_CLAIM_ATTEMPTS = 5
_PROGRESS_EVERY = 0.5  # seconds between two progress writes of one job (the last always goes)
# Modules that register a kind of job when imported (the mobile plans, once they exist).
_REGISTERING = ("servicepoint.planning.mobile_service",)


@dataclass(frozen=True)
class JobKind:
    model: JobModel
    run: Runner


_KINDS: dict[str, JobKind] = {}


def register(name: str, model: JobModel, run: Runner) -> None:
    """Make `run_pending` run the queued rows of `model` with `run`."""
    _KINDS[name] = JobKind(model, run)


def _run_scenario(session: Session, job_id: int, settings: Settings, progress: ProgressFn) -> None:
    from servicepoint.planning import scenarios

    scenarios.run_scenario(session, scenario_id=job_id, settings=settings, progress=progress)


def registry() -> Mapping[str, JobKind]:
    """Every kind of job: scenarios always, the others as their modules register them."""
    if "scenario" not in _KINDS:
        register("scenario", Scenario, _run_scenario)
    for module in _REGISTERING:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    return _KINDS


def take(session: Session, model: JobModel, job_id: int) -> bool:
    """queued → running for this one row, if it is still queued; True when this call won."""
    values: dict[str, Any] = {"status": "running", "progress": 0, "progress_note": None}
    values["started_at"] = utcnow()
    taken = session.execute(
        update(model)
        .where(model.id == job_id, model.status == "queued")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return getattr(taken, "rowcount", 0) == 1


def claim(session: Session, model: JobModel) -> int | None:
    """The oldest queued job of `model`, now running for this caller; None when none is left."""
    for _ in range(_CLAIM_ATTEMPTS):
        job_id = session.scalar(
            select(model.id)
            .where(model.status == "queued")
            .order_by(model.created_at, model.id)
            .limit(1)
        )
        if job_id is None:
            return None
        if take(session, model, job_id):
            return int(job_id)
    return None  # others took every one we saw; the next pass looks again


class _ProgressWriter:
    """progress(percent, note) for one job: a short transaction each, at most every half
    second; a failed write is logged and the job goes on."""

    def __init__(
        self, factory: sessionmaker[Session], model: JobModel, job_id: int, echo: ProgressFn | None
    ) -> None:
        self.factory, self.model, self.job_id, self.echo = factory, model, job_id, echo
        self.last = 0.0

    def __call__(self, percent: int, note: str) -> None:
        percent = max(0, min(99, int(percent)))  # 100 is `done`, written with the result
        if self.echo is not None:
            self.echo(percent, note)
        now = time.monotonic()
        if now - self.last < _PROGRESS_EVERY:
            return
        self.last = now
        try:
            with self.factory.begin() as session:
                session.execute(
                    update(self.model)
                    .where(self.model.id == self.job_id, self.model.status == "running")
                    .values(progress=percent, progress_note=note[:300])
                    .execution_options(synchronize_session=False)
                )
        except Exception:  # progress is a courtesy; the job itself must not fail on it
            log.exception("progress of %s %s not written", self.model.__name__, self.job_id)


def _field_json(problem: FieldMessage) -> list[Any]:
    if isinstance(problem, str):
        return [problem, {}]
    msgid, params = problem
    return [msgid, dict(params or {})]


def failure_record(exc: Exception) -> str:
    """The stored message, JSON {"msgid", "params", "fields": {name: [msgid, params]}}: a domain
    error's own words with the fields it names; anything else is logged and named by its type.
    Pages and the CLI write it in their language with `failure_text`."""
    if isinstance(exc, ServicePointError):
        msgid, params = exc.message, {k: str(v) for k, v in exc.params.items()}
        fields = {name: _field_json(p) for name, p in exc.fields.items()}
    else:
        log.exception("planning job failed")
        msgid, params, fields = _FAILED_UNEXPECTEDLY, {"error": type(exc).__name__}, {}
    record = {"msgid": msgid, "params": params, "fields": fields}
    return json.dumps(record, ensure_ascii=False)


def _filled(gettext: Callable[[str], str], msgid: Any, params: Any) -> str:
    text = gettext(str(msgid))
    try:
        return text % params if params else text
    except (KeyError, TypeError, ValueError):  # a catalogue entry that lost a placeholder
        return str(msgid)


def failure_text(stored: str | None, gettext: Callable[[str], str] = str) -> str:
    """A stored failure in the language of `gettext` (German msgids when none is given, as the
    CLI prints them); a row written before messages were stored as JSON reads as it is."""
    if not stored:
        return ""
    try:
        record = json.loads(stored)
    except ValueError:
        return stored
    if not isinstance(record, dict) or "msgid" not in record:
        return stored
    text = _filled(gettext, record["msgid"], record.get("params"))
    fields = record.get("fields") or {}
    named = "; ".join(
        f"{name}: {_filled(gettext, *problem)}"
        for name, problem in fields.items()
        if isinstance(problem, list) and len(problem) == 2
    )
    return f"{text} ({named})" if named else text


def _finish(session: Session, model: JobModel, job_id: int, **values: Any) -> None:
    session.execute(
        update(model)
        .where(model.id == job_id, model.status == "running")
        .values(finished_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )


def run_claimed(
    factory: sessionmaker[Session],
    settings: Settings,
    kind: JobKind,
    job_id: int,
    *,
    echo: ProgressFn | None = None,
) -> bool:
    """Run a job this caller has claimed; True when it is done, False when it failed (the
    message is stored on the row). Never raises for the job's own errors."""
    progress = _ProgressWriter(factory, kind.model, job_id, echo)
    try:
        with factory.begin() as session:
            kind.run(session, job_id, settings, progress)
            _finish(
                session, kind.model, job_id, status="done", progress=100, progress_note=DONE_NOTE
            )
        return True
    except Exception as exc:  # any failure is the job's, stored for the planner to read
        text = failure_record(exc)
    try:
        with factory.begin() as session:
            _finish(session, kind.model, job_id, status="failed", error=text)
    except Exception:
        log.exception("could not mark %s %s as failed", kind.model.__name__, job_id)
    return False


def _claim_any(factory: sessionmaker[Session]) -> tuple[JobKind, int] | None:
    for kind in registry().values():
        with factory.begin() as session:
            job_id = claim(session, kind.model)
        if job_id is not None:
            return kind, job_id
    return None


def fail_stale(session: Session, *, settings: Settings, now: dt.datetime | None = None) -> int:
    """Jobs of every kind left `running` by a process that ended mid-run (a restart, a crash):
    failed, with a message, once they ran far longer than any run may (the solvers stop at the
    time limit); how many were ended."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(seconds=2 * settings.planning_time_limit_seconds) - _STALE_AFTER
    return sum(_fail_stale_of(session, kind.model, cutoff, now) for kind in registry().values())


def _fail_stale_of(session: Session, model: JobModel, cutoff: dt.datetime, now: dt.datetime) -> int:
    stale = (model.status == "running", model.started_at < cutoff)
    # Looked for first: the pass runs every second, and a read takes no write lock (SQLite).
    if session.scalar(select(model.id).where(*stale).limit(1)) is None:
        return 0
    ended = session.execute(
        update(model)
        .where(*stale)
        .values(status="failed", error=_INTERRUPTED_RECORD, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(ended, "rowcount", 0) or 0)


def run_pending(factory: sessionmaker[Session], settings: Settings, *, limit: int = 1) -> int:
    """Claim and run up to `limit` queued jobs, of any kind; how many ran (done or failed)."""
    with factory.begin() as session:
        fail_stale(session, settings=settings)
    ran = 0
    while ran < limit:
        claimed = _claim_any(factory)
        if claimed is None:
            break
        run_claimed(factory, settings, *claimed)
        ran += 1
    return ran


def sessions_beside(session: Session) -> sessionmaker[Session]:
    """Sessions on the same database as `session` (its engine, or in tests its connection, where
    each transaction becomes a savepoint) for the jobs' own transactions."""
    return sessionmaker(
        bind=session.get_bind(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )


class JobThread(threading.Thread):
    """Runs pending jobs inside the web process, polling every `interval` seconds until stopped.
    A daemon: a solver in the middle of a run does not hold up the process's exit."""

    def __init__(
        self, factory: sessionmaker[Session], settings: Settings, *, interval: float = 1.0
    ) -> None:
        super().__init__(name="planning-jobs", daemon=True)
        self.factory, self.settings, self.interval = factory, settings, interval
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                ran = run_pending(self.factory, self.settings)
            except Exception:  # e.g. the database away for a moment: try again next time
                log.exception("planning job pass failed")
                ran = 0
            if not ran:
                self._halt.wait(self.interval)

    def stop(self, timeout: float = 5.0) -> None:
        self._halt.set()
        self.join(timeout)


def start_thread(factory: sessionmaker[Session], settings: Settings) -> JobThread | None:
    """The in-app job thread, started when the settings ask for it (app lifespan)."""
    if not settings.planning_jobs_in_app:
        return None
    thread = JobThread(factory, settings)
    thread.start()
    return thread
