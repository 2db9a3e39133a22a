"""The video bench's own parts (bench/video_*.py): the probes it times, the attempts it plans,
the baseline relay, so its figures count what they say they count."""

from __future__ import annotations

import time

from bench.video_echo import app as relay_app
from bench.video_load import LOST_AFTER, Probes, probe_frame, probe_seq
from bench.video_seal import Tokens, _forged, _plan
from bench.video_ws import Visit, parse
from fastapi.testclient import TestClient

from servicepoint.consultation.tokens import code_of_join, join_token

SECRET = "bench-test"


def test_a_probe_carries_its_number_through_a_candidate_line() -> None:
    frame = parse(probe_frame(41))
    assert frame["type"] == "signal" and frame["to"] == "citizen"
    assert probe_seq({**frame, "from": "clerk"}) == 41
    assert probe_seq({"type": "chat", "text": "candidate:41 1 udp"}) is None
    assert probe_seq({"type": "signal", "data": {"description": {"type": "offer"}}}) is None


def test_probes_count_only_the_window_and_a_lost_probe_is_infinitely_late() -> None:
    probes = Probes()
    probes.next()  # before the window: not timed
    probes.measuring = True
    arrived = [probes.next() for _ in range(3)]
    missing = probes.next()
    for seq in [*arrived, arrived[0]]:  # a duplicate counts once
        probes.received(seq)
    probes.sent[missing] -= LOST_AFTER + 1  # never arrived
    p50, p95, received, lost = probes.window()
    assert (received, lost) == (3, 1)
    assert p50 < 1000 and p95 == float("inf")


def _tokens() -> Tokens:
    def path(code: str) -> str:
        return f"/video/{join_token(SECRET, code)}"

    return Tokens(
        waiting=[path(f"WAIT{n:04d}") for n in range(3)],
        control=path("CTRL0000"),
        expired=[path("EXPD0000")],
        cancelled=[path("CNCL0000")],
        early=[path("ERLY0000")],
    )


def test_the_plan_makes_exactly_the_attempts_asked_for_of_every_kind() -> None:
    plan = _plan(_tokens(), 1000)
    assert sum(len(paths) for paths in plan.values()) == 1000
    assert all(len(paths) >= 200 for paths in plan.values())
    assert all(p.endswith("/ws") for paths in plan.values() for p in paths)
    waiting = set(plan["waiting, not admitted"])
    assert waiting == {p + "/ws" for p in _tokens().waiting}


def test_a_wrong_token_is_wrong_and_names_a_real_code() -> None:
    genuine = f"/video/{join_token(SECRET, 'WAIT0000')}"
    for path in [genuine[:-1] + "0", genuine[:-1] + "1"]:
        forged = _forged(path)
        assert forged != path
    assert code_of_join(SECRET, _forged(genuine).rsplit("/", 1)[1]) is None
    for wrong in _plan(_tokens(), 100)["wrong token"]:
        token = wrong.removesuffix("/ws").rsplit("/", 1)[1]
        assert code_of_join(SECRET, token) is None


def test_a_visit_says_how_it_ended_and_counts_signalling_frames() -> None:
    assert Visit(status=403).outcome() == "HTTP 403"
    assert Visit(close_code=4410).outcome() == "close 4410"
    held = Visit(frames=[{"type": "hello"}, {"type": "state"}, {"type": "peers"}])
    assert held.outcome() == "held open" and held.signalling() == 1


def test_the_baseline_relay_forwards_within_a_room_and_echoes_alone() -> None:
    with TestClient(relay_app) as client:
        assert client.get("/health").text == "ok"
        with (
            client.websocket_connect("/room/7/clerk") as clerk,
            client.websocket_connect("/room/7/citizen") as citizen,
        ):
            time.sleep(0.05)  # both registered in the room
            clerk.send_text(probe_frame(3))
            assert probe_seq(parse(citizen.receive_text())) == 3
        with client.websocket_connect("/echo") as echo:
            echo.send_text("ping")
            assert echo.receive_text() == "ping"


def test_when_every_probe_is_lost_the_level_is_infinitely_late_not_nan() -> None:
    probes = Probes()
    probes.measuring = True
    for _ in range(3):
        probes.sent[probes.next()] = time.perf_counter() - LOST_AFTER - 1
    p50, p95, received, lost = probes.window()
    assert (p50, p95, received, lost) == (float("inf"), float("inf"), 0, 3)
