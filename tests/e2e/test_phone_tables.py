"""Staff tables on a phone (390 px): a table scrolls sideways in its own box instead of
breaking words letter by letter, the page itself does not scroll sideways, and axe is clean."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy.orm import Session

from tests.e2e.conftest import new_context
from tests.e2e.support import (
    ADMIN,
    MODULE_MARKS,
    STAFF,
    AxeResult,
    LiveServer,
    RequestLog,
    fill_login,
    format_violations,
)

pytestmark = MODULE_MARKS

LOCATION = "herrenhausen"
LONG_NAME = "Maximiliane Schlüsselberger-Hohenzollern"
# Each word of a cell must fit the cell's width; a word may break at its hyphen, dash or slash.
# Machine text in <code> and the controls are left aside.
BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll('main td, main th')) {
    const copy = cell.cloneNode(true);
    copy.querySelectorAll('code, form, button, select, input').forEach(e => e.remove());
    const style = getComputedStyle(cell);
    const room = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    for (const word of copy.textContent.split(/[\\s\\-–\\/]+/).filter(Boolean)) {
      const probe = document.createElement('span');
      probe.style.cssText = 'position:absolute;visibility:hidden;white-space:nowrap';
      probe.textContent = word;
      cell.appendChild(probe);
      const width = probe.getBoundingClientRect().width;
      probe.remove();
      if (width > room + 1) broken.push(`${word} (${Math.round(width)} > ${Math.round(room)})`);
    }
  }
  return broken;
}"""
PAGE_WIDTH = "() => [document.scrollingElement.scrollWidth, window.innerWidth]"


@pytest.fixture
def busy_day(live_server: LiveServer) -> Iterator[None]:
    """Today's booking with a long name, an open callback and an audit entry, written straight
    into the live server's database."""
    from servicepoint.account import service as account_service
    from servicepoint.appointment import service as appointment_service
    from servicepoint.appointment.models import Booking
    from servicepoint.assistant.models import CallbackRequest
    from servicepoint.core.clock import utcnow
    from servicepoint.core.db import make_engine

    engine = make_engine(live_server.database_url)
    start = utcnow().replace(second=0, microsecond=0)
    with Session(engine) as session:
        session.add(
            Booking(
                code=appointment_service.new_code(),
                location_id=LOCATION,
                start=start,
                end=start + dt.timedelta(minutes=15),
                service_ids=["personalausweis", "meldebescheinigung"],
                name=LONG_NAME,
                email="m@example.org",
            )
        )
        session.add(
            CallbackRequest(
                phone="0511 16800000",
                name=LONG_NAME,
                topic="Gewerbeanmeldung Einzelunternehmen Hausmeisterdienstleistungen",
                window="morning",
                lang="de",
            )
        )
        account_service.audit(
            session,
            username="e2e-admin",
            action="capacity.update",
            target=LOCATION,
            detail={"hours": "Mo-Fr 08:00-12:00", "service_ids": ["personalausweis"]},
        )
        session.commit()
    yield
    engine.dispose()


@pytest.fixture
def phone(browser: Browser, live_server: LiveServer, request_log: RequestLog) -> Iterator[Page]:
    """A phone-sized page that may inject axe-core (see conftest's axe_page)."""
    ctx = new_context(
        browser,
        live_server,
        request_log,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        bypass_csp=True,
    )
    yield ctx.new_page()
    ctx.close()


@pytest.mark.usefixtures("busy_day")
def test_staff_tables_keep_words_whole_on_a_phone(
    phone: Page, axe: Callable[[Page], list[AxeResult]]
) -> None:
    failures: list[str] = []
    pages = [
        (STAFF, f"/mitarbeiter/schalter/{LOCATION}/1", LONG_NAME),
        (STAFF, "/mitarbeiter/rueckrufe", "Hausmeisterdienstleistungen"),
        (ADMIN, "/verwaltung/protokoll", "capacity.update"),
    ]
    for account, url, expected in pages:
        phone.context.clear_cookies()
        phone.goto(url)
        fill_login(phone, *account)
        assert expected in phone.locator("main table").first.inner_text(), url
        if broken := phone.evaluate(BROKEN_WORDS):
            failures.append(f"{url}: words broken inside a cell: {broken}")
        scroll, inner = phone.evaluate(PAGE_WIDTH)
        if scroll > inner:
            failures.append(f"{url}: the page scrolls sideways ({scroll} > {inner})")
        if violations := axe(phone):
            failures.append(f"{url}:\n{format_violations(violations)}")
    assert not failures, "\n".join(failures)
