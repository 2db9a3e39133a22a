"""Errors of video consultations; the status codes are the contract (API.md, VIDEO.md).

A join link that is not ours, too early, too late or for a cancelled booking each have a code
of their own, so the join page and the WebSocket close reason can say which.
"""

from __future__ import annotations

import datetime as dt

from servicepoint.core.clock import BERLIN
from servicepoint.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServicePointError,
    Unprocessable,
)


class Gone(ServicePointError):
    status_code = 410
    code = "gone"


class BadToken(Forbidden):
    code = "bad_token"


class NotVideoBooking(Forbidden):
    """A genuine link of a booking that is not (or no longer) a video appointment."""

    code = "not_video"


class TooEarly(Forbidden):
    code = "too_early"

    def __init__(self, message: str, *, opens_at: dt.datetime) -> None:
        # The page says the local time; the WebSocket reason carries the ISO moment.
        super().__init__(message, time=opens_at.astimezone(BERLIN).strftime("%H:%M"))
        self.opens_at = opens_at


class LinkExpired(Gone):
    code = "expired"


class BookingCancelled(Gone):
    code = "cancelled"


class ConsultationNotFound(NotFound):
    code = "consultation_not_found"


class StateConflict(Conflict):
    """The consultation is not (any more) in the state the action needs: a race or a stale page."""

    code = "consultation_conflict"


class NotInCall(StateConflict):
    """The citizen tried to end a call that has not begun (still in the waiting room)."""

    code = "not_in_call"


class Busy(Conflict):
    """The clerk is in another call already: one call at a time."""

    code = "busy"


class NotPresent(Conflict):
    """Staff tried to admit someone whose page is no longer open."""

    code = "not_present"


class NotAdmitted(Conflict):
    code = "not_admitted"


class AlreadyRated(Conflict):
    code = "already_rated"


class NoHandover(Conflict):
    """The services of the call offer no such way on (no in-person appointment, no form)."""

    code = "no_handover"


class TooManyUploads(Conflict):
    code = "too_many_uploads"


class InvalidInput(Unprocessable):
    code = "invalid_input"
