"""What the browser tests share besides fixtures: accounts, the request log, helpers."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from servicepoint.config import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SKIP_REASON = "Debian chromium not installed at /usr/bin/chromium; CI installs it"
CHROMIUM_MISSING = not os.path.exists(CHROMIUM)
# Every browser test module starts with this, so without chromium it skips before a server starts.
MODULE_MARKS = [pytest.mark.e2e, pytest.mark.skipif(CHROMIUM_MISSING, reason=SKIP_REASON)]
AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"

ADMIN = ("e2e-admin", "admin-password-1")
STAFF = ("e2e-staff", "staff-password-1")


@dataclass
class LiveServer:
    url: str
    host: str
    database_url: str
    # The app's settings, for tests that check what the server made with them (e.g. a
    # document signed with the key in its state_dir).
    settings: Settings | None = None


@dataclass
class RequestLog:
    """Every URL the browser asked for, so a test can prove nothing left the machine."""

    urls: list[str] = field(default_factory=list)

    def foreign(self, allowed_host: str) -> list[str]:
        return [
            u
            for u in self.urls
            if urlsplit(u).scheme not in ("data", "blob", "about")
            and urlsplit(u).netloc != allowed_host
        ]


def fill_login(page: Page, username: str, password: str) -> None:
    """Submit the real login form (its CSRF cookie and token come from the page itself)."""
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(password)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Anmelden").click()
    response = navigation.value
    # Every browser test logs in from 127.0.0.1; the live server runs with bot_protection off,
    # which turns the login rate limit off. Should that change, say so instead of a vague failure.
    assert response is None or response.status != 429, "login rate limit hit by the test suite"


AxeResult = dict[str, Any]


def format_violations(violations: list[AxeResult]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']}")
        for node in v.get("nodes", [])[:8]:
            lines.append(f"    {node.get('target')}: {node.get('failureSummary', '').strip()}")
    return "\n".join(lines)
