"""Real-browser fixtures: one live server (temp SQLite, migrated, seeded) and Debian chromium.

The server runs uvicorn in a background thread of the test process, so the browser talks to the
real ASGI stack (middleware, cookies, CSRF, static files) exactly as a citizen's browser would.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy.orm import Session

from tests.e2e.support import (
    ADMIN,
    AXE_JS,
    CHROMIUM,
    CHROMIUM_ARGS,
    CHROMIUM_MISSING,
    SKIP_REASON,
    STAFF,
    AxeResult,
    LiveServer,
    RequestLog,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prepare_database(url: str) -> None:
    from servicepoint.account import service as account_service
    from servicepoint.cli_support import upgrade
    from servicepoint.config import DATA_ROOT
    from servicepoint.core.db import make_engine
    from servicepoint.seeding import seed_city

    upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            seed_city(session, folder=DATA_ROOT / "hannover")
            account_service.create_user(session, username=ADMIN[0], password=ADMIN[1], role="admin")
            account_service.create_user(session, username=STAFF[0], password=STAFF[1], role="staff")
            session.commit()
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    import uvicorn

    from servicepoint.app import create_app
    from servicepoint.config import Settings

    database_url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.db'}"
    _prepare_database(database_url)
    port = _free_port()
    # redis_url=None so a developer's environment cannot point the live server elsewhere.
    settings = Settings(
        database_url=database_url,
        secret_key="e2e",
        bot_protection="off",
        redis_url=None,
        state_dir=tmp_path_factory.mktemp("e2e-state"),
        base_url=f"http://127.0.0.1:{port}",  # links (mails, the PDF's QR code) lead here
    )
    app = create_app(settings)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="e2e-uvicorn", daemon=True)
    thread.start()
    # The warm-up loads the embedding model and the catalog's vectors; on a fresh process that
    # embeds the whole catalog once (a minute or two on a busy machine).
    deadline = time.monotonic() + 300
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(
            url=settings.base_url,
            host=f"127.0.0.1:{port}",
            database_url=database_url,
            settings=settings,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if CHROMIUM_MISSING:
        pytest.skip(SKIP_REASON)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def request_log() -> RequestLog:
    return RequestLog()


def new_context(
    browser: Browser, live_server: LiveServer, log: RequestLog, **options: Any
) -> BrowserContext:
    """A German browser context that records requests and refuses any other host."""
    context = browser.new_context(
        base_url=live_server.url, locale="de-DE", timezone_id="Europe/Berlin", **options
    )
    context.set_default_timeout(10_000)
    context.on("request", lambda req: log.urls.append(req.url))
    # Anything not aimed at the live server is refused, so a stray request cannot hang a test
    # (it is still recorded by the listener above and fails the no-third-party check).
    context.route(lambda url: urlsplit(url).netloc != live_server.host, lambda route: route.abort())
    return context


@pytest.fixture
def context(
    browser: Browser, live_server: LiveServer, request_log: RequestLog
) -> Iterator[BrowserContext]:
    ctx = new_context(browser, live_server, request_log)
    yield ctx
    ctx.close()


@pytest.fixture
def page(
    context: BrowserContext, live_server: LiveServer, request_log: RequestLog
) -> Iterator[Page]:
    pg = context.new_page()
    yield pg
    foreign = request_log.foreign(live_server.host)
    assert not foreign, f"requests left for other hosts: {foreign}"


@contextmanager
def own_page(
    browser: Browser, live_server: LiveServer, log: RequestLog, **options: Any
) -> Iterator[Page]:
    """A page in a browser context of its own (options as for new_context); on leaving, the
    context closes and no request may have gone to another host."""
    ctx = new_context(browser, live_server, log, **options)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()
    foreign = log.foreign(live_server.host)
    assert not foreign, f"requests left for other hosts: {foreign}"


@pytest.fixture
def axe_page(browser: Browser, live_server: LiveServer, request_log: RequestLog) -> Iterator[Page]:
    """A page whose context bypasses our CSP, which (rightly) refuses injected inline scripts
    such as axe-core; every other test runs under the real policy."""
    with own_page(browser, live_server, request_log, bypass_csp=True) as pg:
        yield pg


@pytest.fixture
def narrow_page(
    browser: Browser, live_server: LiveServer, request_log: RequestLog
) -> Iterator[Page]:
    """The narrowest common phone (360 px); the context bypasses the CSP only so axe can be
    injected."""
    with own_page(
        browser,
        live_server,
        request_log,
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
        bypass_csp=True,
    ) as pg:
        yield pg


@pytest.fixture
def phone_page(
    browser: Browser, live_server: LiveServer, request_log: RequestLog
) -> Iterator[Page]:
    with own_page(
        browser,
        live_server,
        request_log,
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
    ) as pg:
        yield pg


@pytest.fixture
def axe() -> Callable[[Page], list[AxeResult]]:
    """Run axe-core (vendored) on the current page for WCAG 2.1 A/AA; returns the violations."""

    def run(page: Page) -> list[AxeResult]:
        page.wait_for_load_state("load")
        page.add_script_tag(path=str(AXE_JS))
        result: dict[str, Any] = page.evaluate(
            """() => axe.run(document, {runOnly: {type: "tag",
                 values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
                 resultTypes: ["violations"]})"""
        )
        # Guard against a silent no-op (e.g. axe blocked): a real run always has passing rules.
        assert result["passes"], f"axe-core ran no rules on {page.url}"
        return list(result["violations"])

    return run
