"""Start-up of a worker with the assistant's model, measured in a child process, and the count
of the word lists held in code.

`python -m bench.assistant_startup` is the child: it imports the app, creates it, runs its
start-up and answers one question through the HTTP route, then prints its timings and its
peak resident memory as one JSON line. Only the standard library is imported before the
clock starts.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Was kostet ein Reisepass?"
# The last commit before issue 18's work: the word lists in code are counted there as "before".
BEFORE_COMMIT = "d0140444e1cd193cfae812983c8ce3b9fd848cfd"


def child() -> None:
    t0 = time.perf_counter()
    from fastapi.testclient import TestClient

    from servicepoint.app import create_app

    app = create_app()
    t_app = time.perf_counter()
    with TestClient(app) as client:
        t_ready = time.perf_counter()
        response = client.post("/api/assistant/ask", json={"message": QUESTION})
        t_first = time.perf_counter()
    body = response.json() if response.status_code == 200 else {}
    service = (body.get("service") or {}).get("name")
    print(
        json.dumps(
            {
                "import_create_s": t_app - t0,
                "startup_s": t_ready - t_app,
                "first_answer_s": t_first - t_ready,
                "status": response.status_code,
                "service": service,
                # ru_maxrss is in KiB on Linux
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def measure(url: str) -> dict[str, Any]:
    """Run the child on the database at `url`; adds the wall time including the interpreter."""
    env = {
        **os.environ,
        "SERVICEPOINT_DATABASE_URL": url,
        "SERVICEPOINT_BOT_PROTECTION": "off",
        "SERVICEPOINT_SECRET_KEY": "bench",
        "PYTHONPATH": str(ROOT),
    }
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.assistant_startup"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    wall = time.perf_counter() - t0
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr or done.stdout).strip()[-500:], "wall_s": wall}
    found: dict[str, Any] = json.loads(lines[-1])
    found["wall_s"] = wall
    return found


def wordlist_total(*args: str) -> int | None:
    """The total of scripts/count_wordlists.py (None when it cannot run)."""
    script = ROOT / "scripts" / "count_wordlists.py"
    if not script.exists():
        return None
    done = subprocess.run(
        [sys.executable, str(script), "--json", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        return None
    return int(json.loads(done.stdout)["total"])


def wordlists_before() -> tuple[int | None, str]:
    """The count before issue 18: the same script over the modules as they were at the last
    commit before its work, read from git (None when the history is not there)."""
    with tempfile.TemporaryDirectory(prefix="sp-wordlists-") as tmp:
        files: list[str] = []
        for path in _before_files():
            done = subprocess.run(
                ["git", "show", f"{BEFORE_COMMIT}:{path}"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                continue
            target = Path(tmp) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(done.stdout, encoding="utf-8")
            files.append(str(target))
        if not files:
            return None, f"commit {BEFORE_COMMIT[:7]} not in this checkout's history"
        return wordlist_total(*files), f"at commit {BEFORE_COMMIT[:7]} (before issue 18), from git"


def _before_files() -> list[str]:
    done = subprocess.run(
        ["git", "ls-tree", "--name-only", BEFORE_COMMIT, "src/servicepoint/assistant/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    listed = [p for p in done.stdout.split() if p.endswith(".py")]
    return [*listed, "src/servicepoint/catalog/search.py"]


if __name__ == "__main__":
    child()
