"""A mobile ServicePoint's stop in a real browser (issue 17): the locations page and the stop's
page have no axe-core violations in German and English, read at phone width, and link the
visit calendar; nothing leaves the server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page
from sqlalchemy import delete
from sqlalchemy.orm import Session

from servicepoint.appointment import capacity as capacity_service
from servicepoint.appointment.models import Capacity
from servicepoint.catalog.models import Location
from servicepoint.core.clock import today_local
from servicepoint.core.db import make_engine
from tests.e2e.support import MODULE_MARKS, AxeResult, LiveServer, format_violations

pytestmark = MODULE_MARKS
STOP = "mobil-e2e"


def _next(weekday: int, after: dt.date) -> dt.date:
    return after + dt.timedelta(days=(weekday - after.weekday()) % 7 or 7)


@pytest.fixture
def stop(live_server: LiveServer) -> Iterator[str]:
    """A published stop (test data: made-up name, no coordinates), removed afterwards so the
    other browser tests see the seeded city only."""
    engine = make_engine(live_server.database_url)
    today = today_local()
    with Session(engine) as session:
        session.add(
            Location(
                id=STOP,
                name="Mobiler ServicePoint – Browsertest",
                kind="mobile",
                opening_hours={},
                provenance={},
            )
        )
        capacity_service.set_dated_hours(
            session,
            location_id=STOP,
            dates={
                _next(1, today): [("09:00", "12:00")],
                _next(3, today): [("13:00", "15:00"), ("16:00", "17:00")],
                dt.date(today.year, 12, 25): [("09:00", "12:00")],
            },
            service_ids=["personalausweis"],
            counters=1,
            walkin_share=0.0,
        )
        session.commit()
    yield STOP
    with Session(engine) as session:
        session.execute(delete(Capacity).where(Capacity.location_id == STOP))
        session.execute(delete(Location).where(Location.id == STOP))
        session.commit()
    engine.dispose()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_stop_pages_have_no_axe_violations(
    axe_page: Page, axe: Callable[[Page], list[AxeResult]], stop: str, lang: str
) -> None:
    failures = []
    for path in ("/standorte", f"/standorte/{stop}"):
        response = axe_page.goto(f"{path}?lang={lang}")
        assert response is not None and response.status == 200, path
        violations = axe(axe_page)
        if violations:
            failures.append(f"{path} ({lang}):\n{format_violations(violations)}")
    assert not failures, "axe-core violations:\n" + "\n".join(failures)


def test_the_stop_page_at_phone_width(phone_page: Page, stop: str) -> None:
    phone_page.goto(f"/standorte/{stop}")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    viewport = phone_page.evaluate("window.innerWidth")
    assert width <= viewport, (width, viewport)
    link = phone_page.get_by_role("link", name="Termine abonnieren (.ics)")
    assert link.get_attribute("href") == f"/standorte/{stop}/besuche.ics"
    phone_page.get_by_role("heading", name="Besuchstermine").wait_for()
