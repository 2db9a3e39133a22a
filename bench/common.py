"""Helpers shared by the benchmarks: a prepared database, a live server, timing statistics."""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from rich.console import Console
from sqlalchemy import text
from sqlalchemy.orm import Session

from servicepoint.cli_support import upgrade
from servicepoint.config import DATA_ROOT
from servicepoint.core.db import make_engine
from servicepoint.seeding import seed_city

console = Console()
ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary_ms(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return f"p50 {statistics.median(ms):.2f} ms · p95 {percentile(ms, 0.95):.2f} ms · n={len(ms)}"


def postgres_url() -> str | None:
    return os.environ.get("SERVICEPOINT_BENCH_POSTGRES_URL") or os.environ.get(
        "SERVICEPOINT_TEST_POSTGRES_URL"
    )


def fresh_database(kind: str) -> str:
    """A migrated and seeded database: a temp SQLite file, or the PostgreSQL test database."""
    if kind == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp(prefix='sp-bench-')}/bench.db"
    else:
        url = postgres_url() or ""
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        seed_city(session, folder=DATA_ROOT / "hannover")
        session.commit()
    engine.dispose()
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def live_server(url: str, workers: int = 1, env: dict[str, str] | None = None) -> Iterator[str]:
    """uvicorn in its own process(es) on loopback, bot protection off as for load tests;
    `env` adds settings (e.g. an instance folder outside the checkout)."""
    port = free_port()
    env = {
        **os.environ,
        "SERVICEPOINT_DATABASE_URL": url,
        "SERVICEPOINT_BOT_PROTECTION": "off",
        "SERVICEPOINT_SECRET_KEY": "bench",
        **(env or {}),
    }
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "servicepoint.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)
