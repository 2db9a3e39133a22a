"""How long a video link lets whom in, past the booked window: pure, no database, no web.

The window (appointment.video.join_window) is the rule for arriving. A call can outrun it: a
citizen admitted in time may reload back into a call that runs late, may rate it for a while
after it ended, and a citizen still waiting because the clerk runs late is not sent away
while they wait (at the latest at the end of the appointment's day). A call nobody ended (a
clerk closed the browser) counts as over once it ran its slot plus the late allowance.
"""

from __future__ import annotations

import datetime as dt

from servicepoint.appointment.models import Booking
from servicepoint.appointment.video import join_window
from servicepoint.config import Settings
from servicepoint.consultation.models import Consultation
from servicepoint.core.clock import BERLIN

RATING_GRACE = dt.timedelta(hours=2)  # rating a call that ended after the window closed


def day_end(booking: Booking) -> dt.datetime:
    """Midnight after the appointment's day (Berlin): nobody waits past it."""
    day = booking.start.astimezone(BERLIN).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(), BERLIN)


def call_until(
    booking: Booking, admitted_at: dt.datetime | None, settings: Settings
) -> dt.datetime:
    """Until when an admitted call counts as going on: the link's window, or its slot's length
    plus the late allowance from when it began, whichever is later."""
    closes = join_window(booking, settings=settings).closes_at
    if admitted_at is None:
        return closes
    late = dt.timedelta(minutes=settings.video_late_join_minutes)
    return max(closes, admitted_at + (booking.end - booking.start) + late)


def usable_until(
    consultation: Consultation | None, booking: Booking, settings: Settings
) -> dt.datetime:
    """Until when the citizen's (or a guest's) link works, given the call's state now."""
    closes = join_window(booking, settings=settings).closes_at
    state = consultation.state if consultation else "booked"
    if consultation is None or state == "booked":
        return closes
    if state == "waiting":
        return max(closes, day_end(booking))
    if state == "admitted":
        return call_until(booking, consultation.admitted_at, settings)
    if consultation.admitted_at is not None and consultation.ended_at is not None:
        return max(closes, consultation.ended_at + RATING_GRACE)  # ended: the rating
    return closes


def is_current(consultation: Consultation, booking: Booking) -> bool:
    """False for the call of an earlier time of a booking that was moved since."""
    made_for = consultation.booking_start
    return made_for is None or made_for == booking.start
