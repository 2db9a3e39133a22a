"""What the video browser tests share: Chromium with fake camera and microphone, a recorder of
every peer connection, media stream and WebSocket frame a page sees, and the steps of a call.

The recorder is an init script, so it wraps RTCPeerConnection and getUserMedia before the
page's own modules run: a test can then prove that a waiting citizen's page never got a remote
description, or that a replaced tab stopped its camera, whatever the page's code looks like.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench.video_common import add_booking, end_open_consultations, join_path
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from servicepoint.core.db import make_engine
from tests.e2e.conftest import new_context
from tests.e2e.support import CHROMIUM_ARGS, STAFF, LiveServer, RequestLog, fill_login

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, WebSocket

FAKE_MEDIA_ARGS = [
    *CHROMIUM_ARGS,
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]
CONNECT_TIMEOUT = 30_000  # ms: ICE on loopback takes well under a second; CI machines are slow
SIGNALLING = {"signal", "chat", "peers", "upload"}  # what a waiting citizen must never receive
ADMIT = re.compile(r"^Eintreten lassen")

RECORDER_JS = """
(() => {
  const Native = window.RTCPeerConnection;
  window.__spPcs = [];
  window.__spStreams = [];
  if (Native) {
    window.RTCPeerConnection = class extends Native {
      constructor(...args) { super(...args); window.__spPcs.push(this); }
    };
  }
  const devices = navigator.mediaDevices;
  if (devices && devices.getUserMedia) {
    const original = devices.getUserMedia.bind(devices);
    devices.getUserMedia = async (constraints) => {
      const stream = await original(constraints);
      window.__spStreams.push(stream);
      return stream;
    };
  }
})();
"""

FRAMES_DECODED_JS = """
async (peer) => {
  const pc = window.spCall && window.spCall.pc(peer);
  if (!pc) return -1;
  let frames = 0;
  (await pc.getStats()).forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "video") frames += r.framesDecoded || 0;
  });
  return frames;
}
"""

# What a failing frames check reports: each peer's connection state and what arrives from it.
PEERS_REPORT_JS = """
async () => {
  const client = window.spCall;
  if (!client) return "no window.spCall";
  const out = {self: client.self};
  for (const name of client.peerNames()) {
    const pc = client.pc(name);
    const inbound = [];
    (await pc.getStats()).forEach((r) => {
      if (r.type === "inbound-rtp") inbound.push(
        `${r.kind}: bytes ${r.bytesReceived} frames ${r.framesReceived}/${r.framesDecoded}`);
    });
    out[name] = {state: pc.connectionState, signaling: pc.signalingState,
                 receivers: pc.getReceivers().map((x) => x.track.kind + ":" + x.track.readyState),
                 inbound};
  }
  return JSON.stringify(out);
}
"""

REMOTE_DESCRIPTIONS_JS = """
() => window.__spPcs.filter((pc) => pc.remoteDescription !== null).length
"""

LIVE_TRACKS_JS = """
() => window.__spStreams.flatMap((s) => s.getTracks()).filter((t) => t.readyState === "live")
  .length
"""

# A clerk's page gone wrong: its own WebSocket joins a room it was not let into and sends a
# real offer, ICE candidates and chat to the citizen (below the 20 frames/s limit).
ROGUE_CLERK_JS = """
async (code) => {
  const probe = new RTCPeerConnection();
  probe.addTransceiver("video");
  const offer = await probe.createOffer();
  probe.close();
  const url = location.origin.replace(/^http/, "ws") + "/mitarbeiter/video/ws";
  const ws = new WebSocket(url);
  const received = [];
  ws.onmessage = (e) => received.push(e.data);
  await new Promise((resolve) => { ws.onopen = resolve; ws.onclose = resolve; });
  const send = (frame) => ws.readyState === 1 && ws.send(JSON.stringify(frame));
  send({type: "join", code});
  for (let i = 0; i < 8; i++) {
    send({type: "signal", to: "citizen", data: {description: {type: offer.type, sdp: offer.sdp}}});
    send({type: "signal", to: "citizen", data: {candidate: {
      candidate: "candidate:1 1 udp 2122260223 127.0.0.1 9 typ host",
      sdpMid: "0", sdpMLineIndex: 0}}});
    send({type: "chat", text: "Unerlaubte Nachricht " + i});
    await new Promise((r) => setTimeout(r, 250));
  }
  ws.close();
  return received;
}
"""


@dataclass
class FrameLog:
    """Every WebSocket frame a page received, as parsed JSON (non-JSON kept as text)."""

    frames: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("websocket", self._watch)

    def _watch(self, ws: WebSocket) -> None:
        ws.on("framereceived", lambda payload: self.frames.append(_parse(payload)))
        ws.on("framesent", lambda payload: self.sent.append(_parse(payload)))

    def types(self) -> list[str]:
        return [str(f.get("type")) for f in self.frames]

    def signalling(self) -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("type") in SIGNALLING]

    def summary(self, sent: bool = False) -> list[str]:
        """type/from/kind of each frame (received, or sent), for a failure message."""
        out = []
        for f in self.sent if sent else self.frames:
            data = f.get("data")
            data = data if isinstance(data, dict) else {}
            kind = (data.get("description") or {}).get("type") or ("ice" if data else "")
            peers = f.get("peers", "")
            who = f.get("from") or f.get("to") or ""
            out.append(":".join(str(x) for x in (f.get("type"), who, kind, peers)))
        return out


def traffic(**logs: FrameLog) -> str:
    """Each page's WebSocket frames, received and sent, one line each (failure messages)."""
    lines = []
    for page, log in logs.items():
        lines.append(f"{page} got: {log.summary()}")
        lines.append(f"{page} sent: {log.summary(sent=True)}")
    return "\n".join(lines)


def _parse(payload: str | bytes) -> dict[str, Any]:
    try:
        frame = json.loads(payload)
    except ValueError:
        return {"type": "<not json>", "raw": str(payload)[:200]}
    return frame if isinstance(frame, dict) else {"type": "<not an object>"}


def media_context(
    browser: Browser, live: LiveServer, log: RequestLog, **options: Any
) -> BrowserContext:
    """A German context allowed camera and microphone, with the recorder in every page."""
    context = new_context(browser, live, log, permissions=["camera", "microphone"], **options)
    context.add_init_script(RECORDER_JS)
    return context


@contextmanager
def media_page(
    browser: Browser, live: LiveServer, log: RequestLog, **options: Any
) -> Iterator[Page]:
    context = media_context(browser, live, log, **options)
    try:
        yield context.new_page()
    finally:
        context.close()


def new_booking(live: LiveServer, *, name: str, **options: Any) -> tuple[str, str]:
    """A video booking in the live server's database starting in 5 minutes: (code, join path)."""
    engine = make_engine(live.database_url)
    try:
        with Session(engine) as session:
            code = add_booking(session, name=name, **options)
            session.commit()
    finally:
        engine.dispose()
    return code, join_path(secret_of(live), code)


def secret_of(live: LiveServer) -> str:
    return live.settings.secret_key if live.settings else "e2e"


def clear_rooms(live: LiveServer) -> None:
    """End every consultation the previous tests left open, so positions start at 1."""
    engine = make_engine(live.database_url)
    try:
        end_open_consultations(engine)
    finally:
        engine.dispose()


def expect_state(page: Page, state: str, timeout: int = CONNECT_TIMEOUT) -> None:
    expect(page.locator("main")).to_have_attribute("data-call-state", state, timeout=timeout)


def wait_frames(page: Page, peer: str, timeout: float = 20.0) -> int:
    """framesDecoded of the video received from `peer`, once it is above 0."""
    deadline = time.monotonic() + timeout
    frames = -1
    while time.monotonic() < deadline:
        frames = int(page.evaluate(FRAMES_DECODED_JS, peer))
        if frames > 0:
            return frames
        page.wait_for_timeout(250)
    report = page.evaluate(PEERS_REPORT_JS)
    raise AssertionError(f"no video decoded from {peer} on {page.url} ({frames}): {report}")


def clerk_console(page: Page, username: str = STAFF[0], password: str = STAFF[1]) -> None:
    """Log in through the real form and open the video console."""
    page.goto("/mitarbeiter/login?next=/mitarbeiter/video")
    fill_login(page, username, password)
    if not page.url.endswith("/mitarbeiter/video"):
        page.goto("/mitarbeiter/video")
    expect(page.locator("main")).to_have_attribute("data-call-state", re.compile(r"\w"))


def admit_button(page: Page, name: str) -> Any:
    return page.get_by_role("button", name=re.compile(rf"^Eintreten lassen.*{re.escape(name)}"))


def admit(page: Page, name: str) -> None:
    """Click "Eintreten lassen" for the citizen called `name` as soon as the queue shows them."""
    button = admit_button(page, name)
    expect(button).to_be_visible(timeout=20_000)
    button.click()


def send_chat(page: Page, text: str) -> None:
    """Type into the call's chat box and send it, as a person would."""
    box = page.get_by_role("textbox", name=re.compile(r"Nachricht|Chat", re.IGNORECASE))
    box.fill(text)
    box.press("Enter")


def expect_chat(page: Page, text: str) -> None:
    expect(page.get_by_text(text, exact=False).first).to_be_visible(timeout=15_000)


@dataclass
class Room:
    """A citizen in the waiting room and a clerk at the console, each in a context of its own."""

    citizen: Page
    clerk: Page
    name: str
    code: str
    path: str
    frames: FrameLog  # what the citizen's page received over its WebSockets
    errors: list[str]  # uncaught JavaScript errors of every page in the room
    clerk_frames: FrameLog = field(default_factory=FrameLog)

    def admit(self) -> None:
        admit(self.clerk, self.name)

    def connect(self) -> None:
        """Admit, then both sides connected and decoding each other's video."""
        self.admit()
        expect_state(self.citizen, "connected")
        expect_state(self.clerk, "connected")
        wait_frames(self.citizen, "clerk")
        wait_frames(self.clerk, "citizen")

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))


@contextmanager
def waiting_room(
    browser: Browser,
    citizen_server: LiveServer,
    log: RequestLog,
    *,
    name: str,
    clerk_server: LiveServer | None = None,
    **options: Any,
) -> Iterator[Room]:
    """A fresh booking whose citizen waits (state `waiting`) while the clerk's console is open;
    `clerk_server` puts the clerk on another server process (default: the same)."""
    code, path = new_booking(citizen_server, name=name)
    with (
        media_page(browser, citizen_server, log, **options) as citizen,
        media_page(browser, clerk_server or citizen_server, log, **options) as clerk,
    ):
        room = Room(citizen, clerk, name, code, path, FrameLog(), [])
        room.watch(citizen)
        room.watch(clerk)
        room.frames.attach(citizen)
        room.clerk_frames.attach(clerk)
        response = citizen.goto(path)
        assert response is not None and response.status == 200, response
        expect_state(citizen, "waiting")
        clerk_console(clerk)
        yield room
