"""Figure (b): time to connect, from the clerk's "Eintreten lassen" click to both pages
`connected`, in headless Chromium (fake camera and microphone) on loopback.

Both moments are taken in the browser (Date.now(), one clock for every context of the same
browser): a capturing click listener on the console and a MutationObserver on
`main[data-call-state]`, kept in sessionStorage so a page that navigates keeps them.
Baseline in the same run: two RTCPeerConnections in one page that hand each other offer,
answer and candidates directly, i.e. what WebRTC alone needs on this machine.
"""

from __future__ import annotations

import os
import re
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bench.common import percentile
from bench.video_common import StaffLogin, add_booking, end_open_consultations, join_path

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
TIMEOUT_MS = 30_000

TIMING_JS = """
(() => {
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("button");
    if (button && /^\\s*Eintreten lassen/.test(button.textContent || "")) {
      sessionStorage.setItem("spAdmitAt", String(Date.now()));
    }
  }, true);
  new MutationObserver(() => {
    const main = document.querySelector("main");
    if (main && main.dataset.callState === "connected" && !sessionStorage.getItem("spUpAt")) {
      sessionStorage.setItem("spUpAt", String(Date.now()));
    }
  }).observe(document, {subtree: true, childList: true, attributes: true,
                        attributeFilter: ["data-call-state"]});
})();
"""

LOOPBACK_PAIR_JS = """
async () => {
  const stream = await navigator.mediaDevices.getUserMedia({video: true, audio: true});
  const started = performance.now();
  const a = new RTCPeerConnection(), b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const up = (pc) => new Promise((resolve) => {
    pc.onconnectionstatechange = () => pc.connectionState === "connected" && resolve();
  });
  const both = Promise.all([up(a), up(b)]);
  stream.getTracks().forEach((t) => { a.addTrack(t, stream); b.addTrack(t.clone(), stream); });
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  await both;
  const took = performance.now() - started;
  a.close(); b.close();
  stream.getTracks().forEach((t) => t.stop());
  return took / 1000;
}
"""


def chromium_missing() -> bool:
    return not os.path.exists(CHROMIUM)


@dataclass
class ConnectFigure:
    label: str
    seconds: list[float]
    baseline: list[float]
    failures: int

    def line(self) -> str:
        if not self.seconds:
            return f"{self.label}: no run connected ({self.failures} failed)"
        p50, p95 = statistics.median(self.seconds), percentile(self.seconds, 0.95)
        b50 = statistics.median(self.baseline) if self.baseline else float("nan")
        return (
            f"{self.label}: p50 {p50:.2f} s · p95 {p95:.2f} s · n={len(self.seconds)}"
            f" (failed {self.failures}) · baseline WebRTC alone p50 {b50 * 1000:.0f} ms"
            f" · ratio p50 {p50 / b50:.1f}×"
        )


@contextmanager
def chromium() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def _context(browser: Browser, base: str) -> BrowserContext:
    context = browser.new_context(
        base_url=base, locale="de-DE", permissions=["camera", "microphone"]
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(TIMING_JS)
    return context


def _stamp(page: Page, key: str) -> float:
    value = page.evaluate(f"() => sessionStorage.getItem('{key}')")
    if value is None:
        raise RuntimeError(f"{key} never recorded on {page.url}")
    return float(value) / 1000


def _one_run(
    browser: Browser, clerk: Page, citizen_base: str, engine: Engine, secret: str, n: int
) -> float:
    end_open_consultations(engine)
    name = f"Messlauf {n}"
    with Session(engine) as session:
        code = add_booking(session, name=name)
        session.commit()
    context = _context(browser, citizen_base)
    try:
        citizen = context.new_page()
        citizen.goto(join_path(secret, code))
        citizen.wait_for_selector("main[data-call-state=waiting]")
        clerk.goto("/mitarbeiter/video")
        clerk.evaluate("() => sessionStorage.clear()")
        pattern = re.compile(rf"^Eintreten lassen.*{re.escape(name)}")
        clerk.get_by_role("button", name=pattern).click()
        for page in (citizen, clerk):
            page.wait_for_selector("main[data-call-state=connected]", state="attached")
        admitted = _stamp(clerk, "spAdmitAt")
        return max(_stamp(citizen, "spUpAt"), _stamp(clerk, "spUpAt")) - admitted
    finally:
        context.close()


def measure(
    browser: Browser,
    *,
    citizen_base: str,
    clerk_base: str,
    engine: Engine,
    secret: str,
    staff: StaffLogin,
    runs: int,
    label: str,
) -> ConnectFigure:
    clerk_context = _context(browser, clerk_base)
    clerk_context.add_cookies(
        [{"name": k, "value": v, "url": clerk_base} for k, v in staff.cookies().items()]
    )
    clerk = clerk_context.new_page()
    figure = ConnectFigure(label, [], [], 0)
    try:
        for n in range(runs):
            try:
                figure.seconds.append(_one_run(browser, clerk, citizen_base, engine, secret, n))
            except Exception as exc:  # one slow or failed run is a figure, not a crash
                figure.failures += 1
                print(f"  run {n} failed: {type(exc).__name__}: {str(exc)[:300]}")
            figure.baseline.append(float(clerk.evaluate(LOOPBACK_PAIR_JS)))
    finally:
        clerk_context.close()
    end_open_consultations(engine)
    return figure
