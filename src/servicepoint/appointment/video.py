"""Video bookings: the citizen's personal join link and the window in which it opens.

The link is `{base_url}/video/{token}`, the token an HMAC of the booking code under the secret
key (consultation.tokens), so no table holds it and a moved booking keeps its link. Whether
the link lets someone in right now (booked, inside the window) is decided where it is opened
(consultation.service); the booking side only shows it and says when it opens. No database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from servicepoint.appointment.models import Booking
from servicepoint.config import Settings
from servicepoint.consultation import tokens

VIDEO = "video"


def is_video(booking: Booking) -> bool:
    return booking.channel == VIDEO


def join_path(code: str, *, secret: str) -> str:
    """The path of the citizen's join page for the booking `code`."""
    return f"/video/{tokens.join_token(secret, code)}"


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
