"""Video consultations in real browsers (issue 16): Chromium with a fake camera and microphone.

A citizen opens the join link and waits; a clerk lets them in from the console; both peer
connections reach `connected`, decode each other's video and exchange chat. An interpreter
joins through the guest link. Negative: a waiting citizen gets no offer even from a clerk page
gone wrong, bad links are refused, bad uploads too, a second tab takes over, a closed tab
leaves the queue. axe-core checks the waiting room, the call and the console.
The same call across two server processes sharing PostgreSQL and Redis: test_video_redis.py.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page, expect

from servicepoint.core.clock import utcnow
from tests.e2e.support import (
    CHROMIUM,
    MODULE_MARKS,
    AxeResult,
    LiveServer,
    RequestLog,
    format_violations,
)
from tests.e2e.video_support import (
    FAKE_MEDIA_ARGS,
    LIVE_TRACKS_JS,
    PEERS_REPORT_JS,
    REMOTE_DESCRIPTIONS_JS,
    ROGUE_CLERK_JS,
    FrameLog,
    admit_button,
    clear_rooms,
    expect_chat,
    expect_state,
    media_page,
    new_booking,
    send_chat,
    traffic,
    wait_frames,
    waiting_room,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = MODULE_MARKS

POSITION = re.compile(r"Platz\D*1(?!\d)")  # the only citizen waiting is first in the queue
TAKEN_OVER = re.compile(r"anderen (Tab|Fenster)", re.IGNORECASE)
GUEST_LINK = "a[href*='/video/gast/'], input[value*='/video/gast/']"
WS_CLOSE_JS = """
async (path) => new Promise((resolve) => {
  const ws = new WebSocket(location.origin.replace(/^http/, "ws") + path + "/ws");
  const got = [];
  ws.onmessage = (e) => got.push(e.data);
  ws.onclose = (e) => resolve({code: e.code, frames: got});
})
"""


@pytest.fixture(scope="module")
def video_browser(browser: Browser) -> Iterator[Browser]:
    """A second Chromium (same Playwright) whose camera and microphone are fakes."""
    instance = browser.browser_type.launch(
        executable_path=CHROMIUM, args=FAKE_MEDIA_ARGS, headless=True
    )
    yield instance
    instance.close()


@pytest.fixture(autouse=True)
def empty_rooms(live_server: LiveServer) -> None:
    clear_rooms(live_server)


def test_citizen_waits_clerk_admits_both_see_each_other_and_chat(
    video_browser: Browser, live_server: LiveServer, request_log: RequestLog
) -> None:
    name = "Erika Videoeins"
    with waiting_room(video_browser, live_server, request_log, name=name) as room:
        # Position and estimate in a live region (role status), so screen readers hear changes.
        expect(room.citizen.get_by_role("status").filter(has_text=POSITION)).to_be_visible()
        assert not room.frames.signalling(), room.frames.signalling()
        room.connect()
        expect(room.citizen.locator("video[data-remote]").first).to_be_visible()
        send_chat(room.clerk, "Guten Tag, hier ist das Bürgeramt.")
        expect_chat(room.citizen, "Guten Tag, hier ist das Bürgeramt.")
        send_chat(room.citizen, "Hallo, ich höre Sie gut.")
        expect_chat(room.clerk, "Hallo, ich höre Sie gut.")
    assert not room.errors, room.errors
    assert not request_log.foreign(live_server.host)


def test_interpreter_joins_through_the_guest_link_for_a_three_way_call(
    video_browser: Browser, live_server: LiveServer, request_log: RequestLog
) -> None:
    with waiting_room(video_browser, live_server, request_log, name="Erika Videodrei") as room:
        room.connect()
        room.clerk.get_by_role("button", name=re.compile(r"^Dolmetscher")).click()
        link = room.clerk.locator(GUEST_LINK).first
        expect(link).to_be_attached()
        url = link.get_attribute("href") or link.input_value()
        with media_page(video_browser, live_server, request_log) as guest:
            room.watch(guest)
            heard = FrameLog()
            heard.attach(guest)
            response = guest.goto(url)
            assert response is not None and response.status == 200
            expect_state(guest, "connected")
            try:
                assert wait_frames(guest, "clerk") > 0
            except AssertionError as exc:
                clerk = room.clerk.evaluate(PEERS_REPORT_JS)
                frames = traffic(guest=heard, clerk=room.clerk_frames)
                raise AssertionError(f"{exc}\nclerk: {clerk}\n{frames}") from exc
            assert wait_frames(guest, "citizen") > 0
            peer = _guest_peer(room.frames.frames)
            assert wait_frames(room.citizen, peer) > 0
            assert wait_frames(room.clerk, peer) > 0
    assert not room.errors, room.errors


def _guest_peer(frames: list[dict[str, Any]]) -> str:
    """The guest's peer name from the last `peers` frame the citizen received."""
    peers = [f for f in frames if f.get("type") == "peers"]
    assert peers, "the citizen never heard of the other peers"
    guests = [p for p in peers[-1].get("peers", []) if str(p).startswith("guest-")]
    assert guests, peers[-1]
    return str(guests[0])


def test_a_waiting_citizen_receives_no_offer_even_from_a_rogue_clerk_page(
    video_browser: Browser, live_server: LiveServer, request_log: RequestLog
) -> None:
    with waiting_room(video_browser, live_server, request_log, name="Erika Videovier") as room:
        # The console itself tries to enter the room it has not admitted, and a WebSocket of
        # the clerk's own session floods offers, candidates and chat at the citizen.
        room.clerk.evaluate("(code) => window.spCall && window.spCall.join(code)", room.code)
        received = room.clerk.evaluate(ROGUE_CLERK_JS, room.code)
        assert any('"hello"' in frame for frame in received), f"rogue socket refused: {received}"
        room.citizen.wait_for_timeout(2_000)
        assert room.citizen.evaluate(REMOTE_DESCRIPTIONS_JS) == 0
        assert not room.frames.signalling(), room.frames.signalling()
        expect_state(room.citizen, "waiting", timeout=1_000)
        assert "state" in room.frames.types()


@pytest.mark.parametrize(
    ("case", "status"),
    [("wrong", 403), ("too_early", 403), ("expired", 410), ("cancelled", 410)],
)
def test_a_bad_link_is_refused_with_403_or_410(
    video_browser: Browser,
    live_server: LiveServer,
    request_log: RequestLog,
    case: str,
    status: int,
) -> None:
    path = _bad_link(live_server, case)
    with media_page(video_browser, live_server, request_log) as page:
        response = page.goto(path)
        assert response is not None and response.status == status, (case, response)
        expect(page.locator("main[data-call-state='waiting']")).to_have_count(0)
        refusal = page.evaluate(WS_CLOSE_JS, path)
        assert refusal["code"] == 4000 + status, (case, refusal)
        assert not [f for f in refusal["frames"] if '"signal"' in f or '"chat"' in f]


def _bad_link(live: LiveServer, case: str) -> str:
    now = utcnow()
    if case == "wrong":
        path = new_booking(live, name="Erika Falsch")[1]
        return path[:-4] + ("0000" if not path.endswith("0000") else "1111")
    choices: dict[str, dict[str, Any]] = {
        "too_early": {"start": now + dt.timedelta(days=1)},
        "expired": {"start": now - dt.timedelta(hours=3)},
        "cancelled": {"status": "cancelled"},
    }
    options = choices[case]
    return new_booking(live, name=f"Erika {case}", **options)[1]


def test_uploads_of_the_wrong_type_or_size_are_refused(
    video_browser: Browser, live_server: LiveServer, request_log: RequestLog
) -> None:
    with waiting_room(video_browser, live_server, request_log, name="Erika Videofuenf") as room:
        room.connect()
        big = b"%PDF-1.4\n" + b"0" * (live_server.settings.upload_max_bytes + 1)  # type: ignore[union-attr]
        assert _upload(room.citizen, room.path, "gross.pdf", big) == 413
        program = b"MZ\x90\x00" + b"\x00" * 2048
        assert _upload(room.citizen, room.path, "rechnung.pdf", program) == 415
        assert _upload(room.citizen, room.path, "ausweis.png", _tiny_png()) < 400


def _upload(page: Page, path: str, filename: str, content: bytes) -> int:
    """POST a file the way the page's own upload form does (its field names and CSRF token)."""
    form = page.locator(f"form[action$='{path}/dokument']").first
    field = form.locator("input[type=file]").get_attribute("name") or "file"
    data: dict[str, Any] = {
        field: {"name": filename, "mimeType": "application/pdf", "buffer": content}
    }
    token = form.locator("input[name=csrf_token]")
    if token.count():
        data["csrf_token"] = token.first.input_value()
    return page.request.post(f"{path}/dokument", multipart=data).status


def _tiny_png() -> bytes:
    import base64

    return base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )


def test_a_second_tab_with_the_same_link_takes_over_the_first(
    video_browser: Browser, live_server: LiveServer, request_log: RequestLog
) -> None:
    with waiting_room(video_browser, live_server, request_log, name="Erika Videosechs") as room:
        room.connect()
        first = room.citizen
        assert first.evaluate(LIVE_TRACKS_JS) > 0, "the first tab never had a camera"
        second = first.context.new_page()
        room.watch(second)
        second.goto(room.path)
        expect(first.get_by_text(TAKEN_OVER).first).to_be_visible(timeout=15_000)
        first.wait_for_function(f"({LIVE_TRACKS_JS})() === 0", timeout=10_000)
        # An admitted citizen who comes back is in the call again without waiting.
        expect_state(second, "connected")
        assert wait_frames(second, "clerk") > 0
    assert not room.errors, room.errors


def test_a_closed_tab_leaves_the_queue(
    video_browser: Browser, live_server: LiveServer, request_log: RequestLog
) -> None:
    with waiting_room(video_browser, live_server, request_log, name="Erika Videosieben") as room:
        button = admit_button(room.clerk, room.name)
        expect(button).to_be_visible(timeout=20_000)
        room.citizen.close()
        expect(button).to_have_count(0, timeout=15_000)


def test_waiting_room_call_and_console_pass_axe(
    video_browser: Browser,
    live_server: LiveServer,
    request_log: RequestLog,
    axe: Callable[[Page], list[AxeResult]],
) -> None:
    # bypass_csp: axe-core is an injected script, which the real policy (rightly) refuses.
    with waiting_room(
        video_browser, live_server, request_log, name="Erika Videoacht", bypass_csp=True
    ) as room:
        expect(admit_button(room.clerk, room.name)).to_be_visible(timeout=20_000)
        checks = {"waiting room": axe(room.citizen), "console (waiting)": axe(room.clerk)}
        room.connect()
        checks["call page"] = axe(room.citizen)
        checks["console (in call)"] = axe(room.clerk)
        record = room.clerk.context.new_page()
        record.goto(f"{live_server.url}/mitarbeiter/video/{room.code}")
        expect(record.locator("#record-state")).to_be_visible()
        checks["call record"] = axe(record)
    found = {where: format_violations(v) for where, v in checks.items() if v}
    assert not found, "\n".join(f"{where}:\n{text}" for where, text in found.items())
