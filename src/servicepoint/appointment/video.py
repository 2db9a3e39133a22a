"""Video bookings: the citizen's personal join link and the window in which it opens.

The link is `{base_url}/video/{token}`, the token "<code>-<mac>": an HMAC of the booking code
under the secret key, so no table holds it and a moved booking keeps its link. Whether the
link lets someone in right now (booked, inside the window) is decided where it is opened
(consultation.service); the booking side makes the link, says when it opens and reads it back
(`code_of_join`). Pure: no database, no web.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

from servicepoint.appointment.models import Booking
from servicepoint.config import Settings

VIDEO = "video"
_CODE = re.compile(r"[A-Z0-9]{4,16}")
MAC_CHARS = 32  # 128 bits of hex: unguessable, short enough for a link


def is_video(booking: Booking) -> bool:
    return booking.channel == VIDEO


def sign(secret: str, *parts: str) -> str:
    """The MAC of `parts` under `secret` (also for the consultation's guest links)."""
    message = "\x1f".join(parts).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:MAC_CHARS]


def join_token(secret: str, code: str) -> str:
    """The citizen's token for the booking `code`: "<code>-<mac>"."""
    return f"{code}-{sign(secret, 'video-join', code)}"


def code_of_join(secret: str, token: str) -> str | None:
    """The booking code a genuine citizen token names, else None."""
    code, sep, mac = token.rpartition("-")
    if not sep or not _CODE.fullmatch(code) or len(mac) != MAC_CHARS:
        return None
    return code if hmac.compare_digest(mac, sign(secret, "video-join", code)) else None


def join_path(code: str, *, secret: str) -> str:
    """The path of the citizen's join page for the booking `code`."""
    return f"/video/{join_token(secret, code)}"


def join_url(booking: Booking, *, base_url: str, secret: str) -> str | None:
    """The citizen's personal link for a video booking; None for an office visit."""
    if not is_video(booking):
        return None
    return base_url.rstrip("/") + join_path(booking.code, secret=secret)


@dataclass(frozen=True)
class JoinWindow:
    """When the join link lets the citizen in: from `opens_at` until `closes_at`."""

    opens_at: dt.datetime
    closes_at: dt.datetime


def join_window(booking: Booking, *, settings: Settings) -> JoinWindow:
    """Opens `video_early_join_minutes` before the start, closes `video_late_join_minutes`
    after the booked end."""
    return JoinWindow(
        booking.start - dt.timedelta(minutes=settings.video_early_join_minutes),
        booking.end + dt.timedelta(minutes=settings.video_late_join_minutes),
    )
