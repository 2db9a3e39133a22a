"""Location planning and the mobile ServicePoint in a real browser (issue 17).

A planner logs in, places the Bürgerämter that have no coordinates on the data page's map (the
page's own form, filled by a click on the map), runs two scenarios (a trade-off curve and
closing a site) and watches their live progress, sees each result's map (Leaflet, no tiles) and
chart, compares the two side by side and downloads CSV and GeoJSON. On the mobile pages the
planner adds a care home with its opening hours as a special stop, has a 4-week plan computed
(live progress), sees the routes and the checker's verdict and publishes the plan. Then a
citizen, in a fresh browser, finds the stop on /standorte, books an appointment there through
the normal booking pages and gets the confirmation.

axe-core (WCAG 2.1 A/AA) runs on every page visited; the citizen's pages run at phone width
(375 px) without horizontal scrolling; keyboard focus survives the HTMX progress updates; a last
pass visits the same pages under the real Content Security Policy (the axe contexts bypass it
to inject axe) and checks the maps still draw and nothing is refused. Faults in pages this test
does not own are collected (the test goes on with a workaround) and fail it at the end.

The coordinates this test clicks are test input, not claims about where anything is.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect
from sqlalchemy.orm import Session

from servicepoint.core.clock import BERLIN
from tests.e2e.conftest import _free_port, _prepare_database, new_context
from tests.e2e.support import (
    MODULE_MARKS,
    AxeResult,
    LiveServer,
    RequestLog,
    fill_login,
    format_violations,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator

pytestmark = MODULE_MARKS

PLANNER = ("e2e-planner", "planner-password-1")
SCENARIO_WAIT_MS = 180_000  # the job runner in the app computes; generous on a 2-core machine
PLAN_WAIT_MS = 180_000
PHONE = {"width": 375, "height": 812}
STOP_NAME = "Pflegeheim Probelauf (E2E)"
STOP_HOURS = "Mo-Fr 09:00-12:00"
SERVICE_LABEL = re.compile(r"^Meldebescheinigung beantragen")
# Pages shown as the answer to a form's POST (no redirect): the last pass cannot GET them.
ANSWER_TO_POST = re.compile(r"/(veroeffentlichen|loeschen|vorschlag|punkt|buero|gebiete|raster)$")
MISSING = "(fehlt)"  # how the data page's office list names an office without a point
# Where the planner clicks on a map: fractions of its width and height, well inside the area
# the map fits to its points (the city), so the point lies in the city's bounding box.
CLICKS = ((0.42, 0.40), (0.58, 0.42), (0.45, 0.60), (0.60, 0.58), (0.50, 0.35), (0.38, 0.52))


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def planning_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server of its own (own seeded SQLite, the job runner in the app as in
    production), so the offices placed, the scenarios and the published stop here change
    nothing the other browser tests see; with a planner account (not admin)."""
    import uvicorn

    from servicepoint.account import service as account_service
    from servicepoint.app import create_app
    from servicepoint.config import Settings
    from servicepoint.core.db import make_engine

    database_url = f"sqlite:///{tmp_path_factory.mktemp('e2e-planning') / 'planning.db'}"
    _prepare_database(database_url)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            account_service.create_user(
                session, username=PLANNER[0], password=PLANNER[1], role="planner"
            )
            session.commit()
    finally:
        engine.dispose()
    port = _free_port()
    settings = Settings(
        database_url=database_url,
        secret_key="e2e-planning",
        bot_protection="off",
        redis_url=None,
        state_dir=tmp_path_factory.mktemp("e2e-planning-state"),
        base_url=f"http://127.0.0.1:{port}",
        planning_jobs_in_app=True,  # scenarios and plans run beside the pages, as in production
    )
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="e2e-uvicorn-planning", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the planning live server did not start")
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


@dataclass
class Audit:
    """What the walk through the pages found: axe violations, overflow, other faults."""

    axe: Callable[[Page], list[AxeResult]]
    failures: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)

    def check(self, page: Page, name: str, *, phone: bool = False) -> None:
        """axe-core on the page as it is now (and at phone width: no horizontal scrolling)."""
        if not ANSWER_TO_POST.search(urlsplit(page.url).path):  # revisited by GET at the end
            self.visited.append(page.url)
        if violations := self.axe(page):
            self.failures.append(f"axe: {name} ({page.url}):\n{format_violations(violations)}")
        if phone and (msg := horizontal_overflow(page)):
            self.failures.append(f"phone width: {name}: {msg}")

    def fault(self, text: str) -> None:
        self.failures.append(text)


@pytest.fixture
def audit(axe: Callable[[Page], list[AxeResult]]) -> Audit:
    return Audit(axe)


@pytest.fixture
def js_errors() -> list[str]:
    return []


def context_for(
    browser: Browser,
    live_server: LiveServer,
    log: RequestLog,
    errors: list[str],
    **options: Any,
) -> BrowserContext:
    """A context whose pages report uncaught script errors into `errors`."""
    ctx = new_context(browser, live_server, log, **options)
    ctx.on("page", lambda pg: watch(pg, errors))
    return ctx


def watch(page: Page, errors: list[str]) -> None:
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))


# -- helpers ----------------------------------------------------------------------------------
def horizontal_overflow(page: Page) -> str | None:
    widths = page.evaluate(
        "() => ({scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth})"
    )
    width = PHONE["width"]
    if widths["scroll"] <= width and widths["inner"] == width:
        return None
    wide = page.evaluate(
        """(w) => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > w + 0.5).slice(-5)
        .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                  + (e.className && typeof e.className === 'string' ? '.' + e.className : '')
                  + ' right=' + Math.round(e.getBoundingClientRect().right))""",
        width,
    )
    return f"{page.url}: scrollWidth {widths['scroll']}, innerWidth {widths['inner']}: {wide}"


def click_map(page: Page, map_box: Locator, field: Locator, start: int = 0) -> str:
    """Click a map as a planner picks a point, until `field` (the form's latitude) is filled:
    a click on a site's marker selects the marker, not a point, so the next spot is tried.
    Returns the latitude filled in."""
    map_box.scroll_into_view_if_needed()
    box = map_box.bounding_box()
    assert box, "the map has no size"
    for i in range(len(CLICKS)):
        x, y = CLICKS[(start + i) % len(CLICKS)]
        map_box.click(position={"x": box["width"] * x, "y": box["height"] * y})
        value = field.input_value()
        if value:
            return value
    raise AssertionError(f"no click on the map filled {field}")


def expect_drawn_map(page: Page, map_box: Locator, *, min_shapes: int = 1) -> None:
    """A Leaflet map drew its shapes and markers and loaded no tiles."""
    expect(map_box).to_have_class(re.compile(r"\bleaflet-container\b"))
    shapes = map_box.locator("path.leaflet-interactive")
    expect(shapes.nth(min_shapes - 1)).to_be_attached()
    assert map_box.locator("img.leaflet-tile").count() == 0, "map tiles were requested"


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def active_element(page: Page) -> str:
    return str(
        page.evaluate(
            """() => { const e = document.activeElement;
                 if (!e || e === document.body) return "body";
                 return e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + "|" +
                        (e.textContent || "").trim().slice(0, 60); }"""
        )
    )


def wait_for_scenario(page: Page, audit: Audit, name: str) -> None:
    """Watch the live progress until the run is over; focus must stay where the planner was."""
    box = page.locator("#scenario-progress")
    expect(box).to_have_attribute("role", "status")
    expect(box).to_have_attribute("aria-live", "polite")
    if box.get_attribute("hx-get") is None:  # finished before the page loaded: nothing live
        expect(box.get_by_text("Die Berechnung ist fertig.")).to_be_visible()
        return
    expect(box.locator("progress")).to_have_attribute("max", "100")
    # The planner moves on by keyboard while it runs: focus on the delete button below.
    page.get_by_role("button", name="Szenario löschen").focus()
    before = active_element(page)
    expect(box.get_by_text("Die Berechnung ist fertig.")).to_be_visible(timeout=SCENARIO_WAIT_MS)
    expect(box.get_by_text("fehlgeschlagen")).to_have_count(0)
    after = active_element(page)
    if after != before:
        audit.fault(f"focus moved during the progress updates of {name}: {before} → {after}")


def open_result(page: Page, audit: Audit, name: str) -> None:
    """From the finished progress to the result: map and charts must be there."""
    link = page.locator("#scenario-progress").get_by_role("link", name="Ergebnis anzeigen")
    expect(link).to_be_visible()
    link.click()
    heading = page.locator("#result-title")
    try:
        expect(heading).to_be_visible(timeout=5_000)
    except AssertionError:
        audit.fault(
            f"{name}: after the progress says done, 'Ergebnis anzeigen' (a link to the same "
            "page's #result-title) does not show the result: a same-document anchor does not "
            "reload, and no swap brings the result in. Expected: the result appears (reload or "
            "HTMX swap, as the mobile plan page does with HX-Refresh)"
        )
        page.reload()
        expect(heading).to_be_visible()
    expect_drawn_map(page, page.locator("#map-s"), min_shapes=5)
    expect(page.locator("figure.chart-figure svg[role=img]").first).to_be_visible()


def submit_scenario(page: Page, kind_label: str, fill: Callable[[Locator], None]) -> int:
    """Open a kind's form on /planung/szenarien, fill it, submit; returns the scenario's id."""
    details = page.locator("details.scenario-kind").filter(
        has=page.locator("summary", has_text=kind_label)
    )
    summary = details.locator("> summary")
    if details.get_attribute("open") is None:
        summary.click()
    form = details.locator("form")
    fill(form)
    with page.expect_navigation():
        form.get_by_role("button", name="Szenario berechnen").click()
    match = re.search(r"/planung/szenarien/(\d+)$", urlsplit(page.url).path)
    assert match, f"no scenario page after submitting {kind_label}: {page.url}"
    return int(match.group(1))


# -- the walk ---------------------------------------------------------------------------------
def planner_home(page: Page, audit: Audit, name: str) -> None:
    """Today's network: metrics, the map and the worst-served districts."""
    response = page.goto("/planung")
    assert response is not None
    if response.status != 200:
        audit.fault(f"{name}: GET /planung answers {response.status}, expected 200")
        return
    expect(page.get_by_role("heading", level=1)).to_have_text("Planung: das heutige Netz")
    expect_drawn_map(page, page.locator("#map-today"), min_shapes=5)
    expect(page.locator("table.metrics tbody tr").first).to_be_visible()
    expect(page.locator("ol.worst li").first).to_be_visible()
    audit.check(page, name)


def place_missing_offices(page: Page, audit: Audit) -> list[str]:
    """On the data page: every office without a point gets one by a click on the map."""
    page.goto("/planung/daten")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Planungsdaten: Nachfrage und Standorte"
    )
    expect_drawn_map(page, page.locator("#map-data"))
    audit.check(page, "data page")
    select = page.locator("#office-location")
    missing = [
        (value, text)
        for value, text in select.locator("option").evaluate_all(
            "opts => opts.map(o => [o.value, o.textContent.trim()])"
        )
        if MISSING in text
    ]
    placed = []
    for i, (value, text) in enumerate(missing):
        select.focus()  # the planner works in the office form: the map fills this one
        select.select_option(value)
        click_map(page, page.locator("#map-data"), page.locator("#office-lat"), i)
        lat, lon = page.locator("#office-lat"), page.locator("#office-lon")
        expect(lat).not_to_have_value("")
        expect(lon).not_to_have_value("")
        expect(page.locator("#map-picked")).to_contain_text("Koordinaten übernommen")
        # The correction form stays untouched: the click went to the form last worked in.
        expect(page.locator("#correct-lat")).to_have_value("")
        with page.expect_navigation():
            page.get_by_role("button", name="Punkt des Bürgeramts speichern").click()
        expect(
            page.get_by_role("status").filter(has_text="Bürgeramts ist gespeichert")
        ).to_be_visible()
        assert "ok=buero" in page.url, page.url
        placed.append(text.replace(MISSING, "").strip())
        if i == 0:
            audit.check(page, "data page after placing an office")
            focused = active_element(page)
            if not focused.startswith("p#data-message"):
                audit.fault(f"data page: after saving, focus is on {focused}, not the message")
    # None is left without a point.
    expect(page.locator("#office-location option", has_text=MISSING)).to_have_count(0)
    return placed


def add_candidate(page: Page, audit: Audit) -> None:
    page.locator("#candidates-name").fill("Kandidat Probelauf (E2E)")
    page.locator("#candidates-address").click()
    click_map(page, page.locator("#map-data"), page.locator("#candidates-lat"), 5)
    expect(page.locator("#candidates-lat")).not_to_have_value("")
    page.locator("#candidates-cost").fill("120000")
    with page.expect_navigation():
        page.get_by_role("button", name="Kandidaten anlegen").click()
    expect(page.get_by_role("status").filter(has_text="Kandidat ist angelegt")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Kandidat Probelauf"))).to_be_visible()
    audit.check(page, "data page with a candidate")


def run_scenarios(page: Page, audit: Audit) -> tuple[int, int, str]:
    """A trade-off curve and closing one office; returns both ids and the closed office."""
    page.goto("/planung/szenarien")
    expect(page.get_by_role("heading", level=1)).to_have_text("Szenarien")
    audit.check(page, "scenarios")

    def tradeoff(form: Locator) -> None:
        form.get_by_label("Name des Szenarios").fill("Kurve 4 bis 8")
        form.get_by_label("Kleinste Zahl von Standorten").fill("4")
        form.get_by_label("Größte Zahl von Standorten").fill("8")

    curve_id = submit_scenario(page, "Abwägungskurve", tradeoff)
    expect(page.get_by_role("heading", level=1)).to_have_text("Szenario: Kurve 4 bis 8")
    audit.check(page, "scenario while it runs")
    wait_for_scenario(page, audit, "the trade-off curve")
    open_result(page, audit, "trade-off curve")
    # The trade-off chart: one point per k, and its numbers as a table.
    expect(page.locator("figure.chart-figure svg[role=img]")).to_have_count(2)
    curve_table = page.locator("figure.chart-figure").first.locator("tbody tr")
    expect(curve_table).to_have_count(5)
    audit.check(page, "trade-off result")

    page.goto("/planung/szenarien")
    closed: list[str] = []

    def close(form: Locator) -> None:
        form.get_by_label("Name des Szenarios").fill("Ein Amt weniger")
        select = form.get_by_label("Welcher Standort schließt?")
        closed.append(select.locator("option").first.inner_text().strip())
        select.select_option(index=0)

    close_id = submit_scenario(page, "Standort schließen", close)
    wait_for_scenario(page, audit, "closing a site")
    open_result(page, audit, "closing a site")
    expect(page.get_by_role("heading", name="Wer gewinnt, wer verliert")).to_be_visible()
    site_rows = page.locator("details.map-table").nth(1).locator("tbody tr")
    expect(site_rows.filter(has_text=closed[0]).locator("td").nth(1)).to_have_text("geschlossen")
    audit.check(page, "close-a-site result")
    check_exports(page, close_id)
    return curve_id, close_id, closed[0]


def check_exports(page: Page, scenario_id: int) -> None:
    """The export links download real files: CSV per demand point, GeoJSON."""
    with page.expect_download() as info:
        page.get_by_role("link", name="Export als CSV").click()
    download = info.value
    assert download.suggested_filename.startswith(f"szenario-{scenario_id}-")
    assert download.suggested_filename.endswith(".csv")
    path = download.path()
    assert path is not None
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) > 10, text[:300]
    assert any("precision" in key for key in rows[0]), rows[0]

    with page.expect_download() as info:
        page.get_by_role("link", name="Export als GeoJSON").click()
    download = info.value
    assert download.suggested_filename.endswith(".geojson")
    path = download.path()
    assert path is not None
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection" and len(data["features"]) > 10


def compare(page: Page, audit: Audit, ids: tuple[int, int]) -> None:
    """Both finished scenarios side by side, chosen on the list as a planner would."""
    page.goto("/planung/szenarien")
    for scenario_id in ids:
        page.locator(f"#cmp-{scenario_id}").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Ausgewählte vergleichen").click()
    query = parse_qs(urlsplit(page.url).query)
    assert sorted(int(i) for i in query["ids"]) == sorted(ids), page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Szenarien vergleichen")
    columns = page.locator("section.compare-col")
    expect(columns).to_have_count(2)
    # Each scenario beside its own today: a heading per scenario, then "Heute" and "Ergebnis"
    # under each, after the metric's column.
    expect(page.locator("table.metrics").first.locator("thead th")).to_have_count(1 + 2 * 3)
    for i in range(2):
        expect_drawn_map(page, page.locator(f"#map-c{i}"), min_shapes=5)
        expect(columns.nth(i).locator("figure.chart-figure svg[role=img]").first).to_be_visible()
    audit.check(page, "comparison")


def add_care_home(page: Page, audit: Audit) -> None:
    """A special stop with the host's opening hours; the map click places it."""
    page.goto("/planung/mobil")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mobiler ServicePoint")
    expect_drawn_map(page, page.locator("#mobile-map"))
    audit.check(page, "mobile overview")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("^Besonderen Halt anlegen")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Neuer Halt")
    audit.check(page, "new stop form")
    page.get_by_label("Name", exact=True).fill(STOP_NAME)
    page.get_by_label("Art", exact=True).select_option(label="Pflegeheim")
    page.get_by_label("Adresse", exact=True).fill("Probeweg 1, 30159 Hannover")
    click_map(page, page.locator("#mobile-map"), page.locator("#f-lat"), 2)
    expect(page.get_by_label("Breitengrad", exact=True)).not_to_have_value("")
    expect(page.get_by_label("Längengrad", exact=True)).not_to_have_value("")
    expect(page.locator("#map-picked")).to_contain_text("Punkt übernommen")
    page.get_by_label("Öffnungszeiten des Gastgebers", exact=True).fill(STOP_HOURS)
    page.get_by_label("Besuch alle … Wochen").select_option("1")
    page.get_by_label("Mindestabstand zwischen Besuchen (Tage)").fill("5")
    page.get_by_label("Dauer eines Besuchs (Minuten)").fill("120")
    with page.expect_navigation():
        page.get_by_role("button", name="Halt speichern").click()
    expect(page).to_have_url(re.compile(r"/planung/mobil\?ok=halt$"))
    expect(page.get_by_role("status").filter(has_text="Halt ist gespeichert")).to_be_visible()
    row = page.get_by_role("row", name=re.compile(re.escape(STOP_NAME)))
    expect(row).to_contain_text("Pflegeheim")
    expect(row).to_contain_text("09:00")
    audit.check(page, "mobile overview with the stop")


def compute_plan(page: Page, audit: Audit) -> None:
    """A 4-week plan for the van; the live progress, then routes and the checker's verdict."""
    page.get_by_label("Name des Plans", exact=True).fill("Probeplan vier Wochen")
    page.get_by_label("Wochen", exact=True).fill("4")
    page.locator("#depot-lat").click()
    click_map(page, page.locator("#mobile-map"), page.locator("#depot-lat"), 3)
    expect(page.locator("#depot-lat")).not_to_have_value("")
    expect(page.locator("#depot-lon")).not_to_have_value("")
    with page.expect_navigation():
        page.get_by_role("button", name="Plan berechnen lassen").click()
    refused = page.locator("[role=alert], .field-error")
    assert re.search(r"/planung/mobil/plaene/\d+$", page.url), (
        f"the plan was refused ({page.url}): {refused.all_inner_texts()}"
    )
    box = page.locator("#plan-progress")
    expect(box).to_have_attribute("role", "status")
    audit.check(page, "plan while it is computed")
    if box.get_attribute("hx-get") is not None:  # still computing: the progress is live
        expect(box.locator("progress")).to_have_attribute("max", "100")
    # When the run is over, the status region says so and links the result; focus stays put.
    checked = page.get_by_role("heading", name="Prüfung")
    if not checked.is_visible():  # still computing when the page loaded
        link = box.get_by_role("link", name="Ergebnis anzeigen")
        expect(link).to_be_visible(timeout=PLAN_WAIT_MS)
        link.click()
    expect(checked).to_be_visible()
    expect(box).not_to_contain_text("fehlgeschlagen")
    expect(page.get_by_text("Der unabhängige Prüfer hat keinen Verstoß gefunden")).to_be_visible()
    expect_drawn_map(page, page.locator("#mobile-map"), min_shapes=2)
    days = page.locator("section[aria-labelledby=days-title] table")
    expect(days.first).to_be_visible()
    assert days.count() >= 4, "a weekly stop over 4 weeks: at least four days"
    expect(days.first.locator("tbody")).to_contain_text(STOP_NAME)
    audit.check(page, "computed plan")

    with page.expect_navigation():
        page.get_by_role("button", name="Plan veröffentlichen").click()
    status = page.get_by_role("status").filter(has_text="Veröffentlicht:")
    expect(status).to_contain_text("1 Halte")
    audit.check(page, "published plan")
    page.goto("/planung/mobil")
    expect(
        page.locator("section[aria-labelledby=published-title]").get_by_role(
            "link", name=re.compile(re.escape(STOP_NAME))
        )
    ).to_be_visible()
    audit.check(page, "mobile overview with a published stop")


def citizen_books(page: Page, audit: Audit) -> str:
    """A citizen finds the stop on /standorte and books there; returns the stop's path."""
    page.goto("/standorte")
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsere Standorte")
    section = page.locator("section[aria-labelledby=mobile-title]")
    expect(section).to_be_visible()
    card = section.locator("li.card").filter(has_text=STOP_NAME)
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Nächste Besuche:")
    expect(card.locator("time").first).to_be_visible()
    audit.check(page, "citizen: locations", phone=True)

    with page.expect_navigation():
        card.get_by_role("link", name=re.compile(re.escape(STOP_NAME))).first.click()
    stop_path = urlsplit(page.url).path
    assert stop_path.startswith("/standorte/mobil-"), stop_path
    expect(page.get_by_role("heading", level=1)).to_contain_text(STOP_NAME)
    expect(page.get_by_role("heading", name="Besuchstermine")).to_be_visible()
    ics_href = page.get_by_role("link", name="Termine abonnieren (.ics)").get_attribute("href")
    assert ics_href
    ics = page.request.get(ics_href)
    assert ics.ok and ics.headers["content-type"].startswith("text/calendar")
    assert ics.text().count("BEGIN:VEVENT") >= 1
    audit.check(page, "citizen: the stop's page", phone=True)

    with page.expect_navigation():
        page.locator("section.wait-box").get_by_role("link", name="Termin buchen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Termin buchen")
    location = stop_path.rsplit("/", 1)[1]
    expect(page.get_by_label("Standort")).to_have_value(location)
    audit.check(page, "citizen: slot search", phone=True)
    page.get_by_role("checkbox", name=SERVICE_LABEL).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Freie Termine anzeigen").click()
    results = page.locator("#ergebnisse")
    expect(results).to_be_focused()  # focus-target.js: on a phone the results are far below
    first = page.locator("ul.slot-list a.slot").first
    expect(first).to_be_visible()
    href = first.get_attribute("href")
    query = parse_qs(urlsplit(href or "").query)
    assert query["location"] == [location], href
    # The care home's hours hold all the way to the citizen: Mo-Fr, 09:00-12:00 Berlin time.
    for slot_href in page.locator("ul.slot-list a.slot").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    ):
        start = dt.datetime.fromisoformat(parse_qs(urlsplit(slot_href).query)["start"][0])
        local = start.astimezone(BERLIN)
        assert local.weekday() < 5 and dt.time(9) <= local.time() < dt.time(12), slot_href
    audit.check(page, "citizen: free slots at the stop", phone=True)

    with page.expect_navigation():
        first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Termin bestätigen")
    expect(page.locator("main")).to_contain_text(STOP_NAME)
    audit.check(page, "citizen: booking form", phone=True)
    page.get_by_label("Ihr Name").fill("Erika Mustermann")
    page.get_by_label("Ihre E-Mail-Adresse").fill("erika.mustermann@example.org")
    with page.expect_navigation():
        page.get_by_role("button", name="Verbindlich buchen").click()
    expect(page).to_have_url(re.compile(r"/termine/[A-Z0-9]+\?neu=1$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Termin ist gebucht")
    expect(page.locator("main")).to_contain_text(STOP_NAME)
    expect(page.locator(".booking-code strong")).to_have_text(re.compile(r"^[A-Z0-9-]+$"))
    audit.check(page, "citizen: confirmation", phone=True)
    return stop_path


def in_english(page: Page, audit: Audit, urls: list[str], *, phone: bool = False) -> None:
    """The same pages in English: a complete page in its language, zero axe violations."""
    for url in urls:
        response = page.goto(f"{url}{'&' if '?' in url else '?'}lang=en")
        assert response is not None
        if response.status != 200:
            audit.fault(f"English: GET {url} answers {response.status}")
            continue
        expect(page.locator("html")).to_have_attribute("lang", "en")
        audit.check(page, f"{url} in English", phone=phone)
    page.goto(f"{urls[0]}{'&' if '?' in urls[0] else '?'}lang=de")  # back to German


def under_real_csp(
    browser: Browser,
    live_server: LiveServer,
    log: RequestLog,
    planner: tuple[str, str],
    planner_urls: list[str],
    citizen_urls: list[str],
) -> list[str]:
    """The same pages under the real policy: nothing refused, the maps draw."""
    problems: list[str] = []
    ctx = new_context(browser, live_server, log)
    try:
        page = ctx.new_page()
        page.on(
            "console",
            lambda msg: (
                problems.append(f"{page.url}: {msg.text}")
                if "Content Security Policy" in msg.text or msg.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
        page.goto("/mitarbeiter/login")
        fill_login(page, *planner)
        for url in [*planner_urls, *citizen_urls]:
            page.goto(url)
            page.wait_for_load_state("networkidle")
            maps = page.locator(".map[data-map], #mobile-map, .planning-map")
            for i in range(maps.count()):
                cls = maps.nth(i).get_attribute("class") or ""
                if "leaflet-container" not in cls:
                    problems.append(f"{url}: a map did not draw under the real CSP")
    finally:
        ctx.close()
    return problems


# -- the test ---------------------------------------------------------------------------------
@pytest.fixture
def contexts(
    browser: Browser, planning_server: LiveServer, request_log: RequestLog, js_errors: list[str]
) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    """The planner's browser and, separately, the citizen's phone (both bypass the CSP for
    axe; the last step revisits the pages under the real policy)."""
    planner = context_for(
        browser, planning_server, request_log, js_errors, bypass_csp=True, accept_downloads=True
    )
    citizen = context_for(
        browser,
        planning_server,
        request_log,
        js_errors,
        bypass_csp=True,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        yield planner, citizen
    finally:
        planner.close()
        citizen.close()


def test_planner_plans_and_a_citizen_books_the_mobile_stop(
    browser: Browser,
    planning_server: LiveServer,
    request_log: RequestLog,
    contexts: tuple[BrowserContext, BrowserContext],
    audit: Audit,
    js_errors: list[str],
) -> None:
    planner_ctx, citizen_ctx = contexts
    page = planner_ctx.new_page()
    page.goto("/planung")
    expect(page).to_have_url(re.compile(r"/mitarbeiter/login"))
    audit.check(page, "login")
    fill_login(page, *PLANNER)
    planner_home(page, audit, "planner home")

    place_missing_offices(page, audit)
    add_candidate(page, audit)
    planner_home(page, audit, "planner home after the offices are placed")
    curve_id, close_id, _closed = run_scenarios(page, audit)
    compare(page, audit, (curve_id, close_id))
    add_care_home(page, audit)
    compute_plan(page, audit)
    planner_urls = list(dict.fromkeys(path_of(u) for u in audit.visited))

    citizen = citizen_ctx.new_page()
    stop_path = citizen_books(citizen, audit)

    citizen_urls = ["/standorte", stop_path, f"/termine?location={stop_path.rsplit('/', 1)[1]}"]
    in_english(page, audit, [u for u in planner_urls if u.startswith("/planung")])
    in_english(citizen, audit, citizen_urls, phone=True)
    audit.failures += under_real_csp(
        browser,
        planning_server,
        request_log,
        PLANNER,
        [u for u in planner_urls if u.startswith("/planung")],
        citizen_urls,
    )
    foreign = request_log.foreign(planning_server.host)
    assert not foreign, f"requests left for other hosts: {foreign}"
    assert not js_errors, js_errors
    assert not audit.failures, "faults found:\n" + "\n".join(audit.failures)


# -- names on the maps are text, never markup (review 17, finding 1) ----------------------------
MARKUP = '<img id="inj-{n}" src="x"><a id="lnk-{n}" href="https://evil.example/">x</a>'
PROBE_PATH = "/__probe/leaflet-text"


def _probe_page() -> str:
    """A page with the three maps (planning, mobile ServicePoint, citizens' locations), every
    name in their data made of markup; the scripts are the real static files."""
    point = {"lat": 52.37, "lon": 9.73}
    planning = {
        "center": [52.37, 9.73],
        "editable": False,
        "points": [{**point, "text": MARKUP.format(n=1), "colour": "#f00", "approx": False}],
        "sites": [
            {
                "lat": 52.38,
                "lon": 9.75,
                "name": MARKUP.format(n=2),
                "open": True,
                "kind": "office",
                "approx": False,
            }
        ],
    }
    mobile = {
        "center": [52.37, 9.73],
        "references": [{**point, "name": MARKUP.format(n=3)}],
        "routes": [
            {
                "label": MARKUP.format(n=4),
                "colour": "#00f",
                "points": [[52.36, 9.70], [52.39, 9.78]],
            }
        ],
        "stops": [
            {
                "lat": 52.35,
                "lon": 9.76,
                "name": MARKUP.format(n=5),
                "approx": True,
                "active": True,
                "url": "/planung/mobil/halte/x",
            }
        ],
        "depot": [None, None],
    }
    citizens = {
        "center": [52.37, 9.73],
        "zoom": 11,
        "editable": False,
        "references": [{"lat": 52.40, "lon": 9.70, "name": MARKUP.format(n=6)}],
        "markers": [
            {
                "id": "a",
                "lat": 52.36,
                "lon": 9.74,
                "kind": "office",
                "url": "/standorte/a",
                "name": MARKUP.format(n=7),
            }
        ],
    }

    def block(name: str, data: dict[str, Any]) -> str:
        text = json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e")
        return f'<script type="application/json" id="{name}">{text}</script>'

    style = "width:400px;height:300px"
    return (
        '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>probe</title>'
        '<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css"></head><body>'
        f'<div class="planning-map" data-map="plan-data" style="{style}"></div>'
        f'<div id="mobile-map" style="{style}"></div><div id="map" style="{style}"></div>'
        + block("plan-data", planning)
        + block("mobile-map-data", mobile)
        + block("map-data", citizens)
        + '<script src="/static/vendor/leaflet/leaflet.js"></script>'
        '<script src="/static/js/leaflet-text.js"></script>'
        '<script src="/static/planning/map.js"></script>'
        '<script src="/static/planning/mobile.js"></script>'
        '<script src="/static/js/map.js"></script></body></html>'
    )


def _touch(shape: Locator, event: str) -> None:
    """Hover or click a map shape like a mouse; a shape Playwright counts outside the viewport
    (an SVG path on a busy machine) gets the same DOM event Leaflet listens to."""
    try:
        if event == "click":
            shape.click(force=True, timeout=5000)
        else:
            shape.hover(force=True, timeout=5000)
    except PlaywrightError:
        shape.dispatch_event(event)


def test_names_on_the_maps_are_shown_as_text_not_markup(
    page: Page, live_server: LiveServer
) -> None:
    """Leaflet renders a string tooltip or popup as HTML: a name made of markup (a stop, a
    site, a grid label, a district) must show as its text, and no element of it may appear."""
    errors: list[str] = []
    watch(page, errors)
    page.route(
        live_server.url + PROBE_PATH,
        lambda route: route.fulfill(status=200, content_type="text/html", body=_probe_page()),
    )
    page.goto(PROBE_PATH)
    page.wait_for_selector("#map .leaflet-tooltip")  # the citizens' map: permanent labels
    shapes = page.locator(".leaflet-interactive")
    # Leaflet moves the shapes while it zooms to fit them; act on them once they stand still.
    page.wait_for_function("() => !document.querySelector('.leaflet-zoom-anim')")
    for i in range(shapes.count()):
        _touch(shapes.nth(i), "mouseover")
        _touch(shapes.nth(i), "click")  # popups (stops, locations) open on a click
        page.mouse.move(0, 0)
    shown = page.locator(".leaflet-tooltip, .leaflet-popup-content").all_inner_texts()
    injected = page.evaluate(
        "() => document.querySelectorAll('[id^=inj-], [id^=lnk-], a[href*=evil]').length"
    )
    assert injected == 0, f"markup from a name became elements: {shown}"
    assert any('<img id="inj-' in text for text in shown), shown
    assert not errors, errors
