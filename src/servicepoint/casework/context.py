"""What the casework routes (API, citizen and staff pages) take from a request.

Links (e-mails, status page, the document's QR code) always come from `settings.base_url`,
never from the request's Host header, which whoever sends the request chooses.
"""

from __future__ import annotations

from fastapi import Request

from servicepoint.core.i18n import N_
from servicepoint.core.security import within_rate

# Per client and hour, `application_rate_limit` of each kind of public write: drafts started,
# upload posts, applications sent (through the API and the pages alike: one budget, "apply").
RATE_WINDOW = 3600
TOO_MANY = N_("Zu viele Anfragen von Ihrem Anschluss. Bitte versuchen Sie es später noch einmal.")


def request_lang(request: Request) -> str:
    return "en" if getattr(request.state, "lang", "de") == "en" else "de"


def within_application_rate(request: Request, kind: str) -> bool:
    """Count one write of this kind from this client; False once over the hour's limit."""
    limit = request.app.state.settings.application_rate_limit
    return within_rate(request, kind, limit=limit, window=RATE_WINDOW)
