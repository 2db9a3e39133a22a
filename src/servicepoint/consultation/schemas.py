"""What the consultation service hands to pages, the WebSocket hub and the staff console."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from servicepoint.appointment.models import Booking
from servicepoint.catalog.models import Service
from servicepoint.consultation.models import Consultation


@dataclass(frozen=True)
class Joined:
    """A checked join (or guest) link: the call, its booking and services, and its window."""

    consultation: Consultation
    booking: Booking
    services: list[Service]
    opens_at: dt.datetime
    # Until when the link lets this person stay, as the call stands: the window's end, for a
    # call running late its time, for a citizen waiting on a late clerk the day's end
    # (consultation.timing). The window itself: appointment.video.join_window.
    closes_at: dt.datetime
    guest: bool = False


@dataclass(frozen=True)
class Place:
    """The citizen's own place in the waiting room; all None/False unless waiting."""

    position: int | None
    estimate_minutes: int | None
    late: bool


@dataclass(frozen=True)
class WaitingEntry:
    code: str
    name: str
    start: dt.datetime
    waited_seconds: int
    services: list[str]


@dataclass(frozen=True)
class CallEntry:
    code: str
    name: str
    start: dt.datetime
    admitted_at: dt.datetime
    clerk_id: int | None
    seconds: int  # in the call so far
    services: list[str] = field(default_factory=list)  # names, in the page's language


@dataclass(frozen=True)
class TodayEntry:
    code: str
    start: dt.datetime
    name: str
    state: str  # booked (link not opened yet) | waiting | admitted | ended
    services: list[str] = field(default_factory=list)  # names, in the page's language
