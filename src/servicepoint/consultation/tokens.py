"""Guest links (interpreter, second clerk): "g<consultation id>-<mac>", the MAC over the id
and the consultation's guest nonce under the secret key.

A guest link names the consultation, never the booking: the booking code is the citizen's key
to the booking (its page, cancel, move and join link), which an outside guest must not get.
Staff rotate the nonce to revoke a link; the call's end clears it. The citizen's own token is
the booking side's (appointment.video), re-exported here for the tests and tools that make
links. Pure: no database, no web.
"""

from __future__ import annotations

import hmac
import re

from servicepoint.appointment.video import MAC_CHARS, code_of_join, join_token, sign

__all__ = ["code_of_join", "guest_id", "guest_matches", "guest_token", "join_token"]

_GUEST = re.compile(rf"g([1-9][0-9]{{0,17}})-([0-9a-f]{{{MAC_CHARS}}})")


def guest_token(secret: str, consultation_id: int, nonce: str) -> str:
    """A staff-issued guest token for consultation `consultation_id`."""
    return f"g{consultation_id}-{sign(secret, 'video-guest', str(consultation_id), nonce)}"


def guest_id(token: str) -> int | None:
    """The consultation a guest token claims to be for (not yet verified), to find its nonce."""
    found = _GUEST.fullmatch(token)
    return int(found.group(1)) if found else None


def guest_matches(secret: str, token: str, nonce: str | None) -> bool:
    """Whether `token` is the current guest token (`nonce` is the consultation's; None: none)."""
    found = _GUEST.fullmatch(token)
    if found is None or not nonce:
        return False
    expected = sign(secret, "video-guest", found.group(1), nonce)
    return hmac.compare_digest(found.group(2), expected)
