"""Join links without a token table: an HMAC of the booking code under the secret key.

The citizen's token names the booking and proves it came from us; whether it may be used now
(booking not cancelled, inside the join window) is decided by the service on every use, so a
cancelled or moved booking changes what the same link allows. A guest token (interpreter,
second clerk) also carries the consultation's guest nonce, which staff rotate to revoke it.
Pure: no database, no web.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_CODE = re.compile(r"[A-Z0-9]{4,16}")
_MAC_CHARS = 32  # 128 bits of hex: unguessable, short enough for a link


def _mac(secret: str, *parts: str) -> str:
    message = "\x1f".join(parts).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:_MAC_CHARS]


def join_token(secret: str, code: str) -> str:
    """The citizen's token for the booking `code`: "<code>-<mac>"."""
    return f"{code}-{_mac(secret, 'video-join', code)}"


def guest_token(secret: str, code: str, nonce: str) -> str:
    """A staff-issued guest token for the consultation of booking `code`."""
    return f"{code}-{_mac(secret, 'video-guest', code, nonce)}"


def _split(token: str) -> tuple[str, str] | None:
    code, sep, mac = token.rpartition("-")
    if not sep or not _CODE.fullmatch(code) or len(mac) != _MAC_CHARS:
        return None
    return code, mac


def code_of_join(secret: str, token: str) -> str | None:
    """The booking code a genuine citizen token names, else None."""
    parts = _split(token)
    if parts is None or not hmac.compare_digest(parts[1], _mac(secret, "video-join", parts[0])):
        return None
    return parts[0]


def guest_matches(secret: str, token: str, nonce: str | None) -> bool:
    """Whether `token` is the current guest token (`nonce` is the consultation's; None: none)."""
    parts = _split(token)
    if parts is None or not nonce:
        return False
    return hmac.compare_digest(parts[1], _mac(secret, "video-guest", parts[0], nonce))


def code_in(token: str) -> str | None:
    """The booking code a token claims to be for (not yet verified), to look up its nonce."""
    parts = _split(token)
    return parts[0] if parts else None
