"""What the casework routes (API, citizen and staff pages) take from a request.

Links (e-mails, status page, the document's QR code) always come from `settings.base_url`,
never from the request's Host header, which whoever sends the request chooses.
"""

from __future__ import annotations

from fastapi import Request


def request_lang(request: Request) -> str:
    return "en" if getattr(request.state, "lang", "de") == "en" else "de"
