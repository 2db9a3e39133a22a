"""Self-hosted proof-of-work challenge against booking bots (no third party involved).

The server signs `issued_at:random:difficulty`; the browser finds a nonce such that
SHA-256(challenge + ":" + nonce) starts with `difficulty` zero bits. A human waits well under a
second once; a bot pays that for every booking. Each solved challenge is accepted once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

MAX_AGE_SECONDS = 1800


def _sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()[:32]


def issue(secret: str, difficulty: int, now: float | None = None) -> str:
    payload = f"{int(now or time.time())}:{secrets.token_hex(8)}:{difficulty}"
    return f"{payload}:{_sign(secret, payload)}"


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def solve(challenge: str) -> str:
    """Find a nonce (used by tests and load tools; browsers run static/js/challenge.js)."""
    difficulty = int(challenge.split(":")[2])
    nonce = 0
    while leading_zero_bits(hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()) < difficulty:
        nonce += 1
    return str(nonce)


def verify(secret: str, challenge: str, nonce: str, now: float | None = None) -> bool:
    """Signature, age and work must all hold; the caller ensures single use."""
    parts = challenge.split(":")
    if len(parts) != 4 or not nonce.isdigit() or len(nonce) > 12:
        return False
    issued, _, difficulty, signature = parts
    payload = ":".join(parts[:3])
    if not hmac.compare_digest(signature, _sign(secret, payload)):
        return False
    if not issued.isdigit() or (now or time.time()) - int(issued) > MAX_AGE_SECONDS:
        return False
    digest = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
    return leading_zero_bits(digest) >= int(difficulty)
