"""Who may use a call's endpoints, and how often.

- Per-client limits of the public endpoints: WebSocket connections and the citizen's posts,
  counted before any database work by the client's address (core.security),
  `video_rate_limit` per minute for each kind; off with bot protection (load tests).
- Whose call it is: a clerk acts on (and joins the room of) only the call they admitted; a call
  nobody admitted yet (clerk_id None) is anybody's. The same rule for the console's WebSocket
  `join` (ws.py) and its HTTP actions (staff_pages.py). Reading a call's record afterwards
  (note, documents) is open to all staff, like any case.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from servicepoint.core.i18n import N_
from servicepoint.core.security import within_rate
from servicepoint.errors import Forbidden, TooManyRequests

WINDOW = 60
TOO_MANY = N_("Zu viele Anfragen von Ihrem Anschluss. Bitte versuchen Sie es später noch einmal.")
NOT_YOURS = N_("Diese Videoberatung führt eine andere Mitarbeiterin oder ein anderer Mitarbeiter.")


class VideoRateLimited(TooManyRequests):
    code = "rate_limited"


class NotYourCall(Forbidden):
    code = "not_allowed"


def check_rate(conn: HTTPConnection, kind: str) -> None:
    """Count one `kind` ("ws", "staff_ws", "post") from this client; 429 once over the limit."""
    limit = conn.app.state.settings.video_rate_limit
    if not within_rate(conn, f"video_{kind}", limit=limit, window=WINDOW):
        raise VideoRateLimited(TOO_MANY, retry_after=WINDOW)


def is_mine(clerk_id: int | None, user_id: int) -> bool:
    """Whether the clerk `user_id` may act on a call admitted by `clerk_id`."""
    return clerk_id is None or clerk_id == user_id


def ensure_mine(clerk_id: int | None, user_id: int) -> None:
    if not is_mine(clerk_id, user_id):
        raise NotYourCall(NOT_YOURS)
