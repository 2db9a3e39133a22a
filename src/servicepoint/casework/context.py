"""What the casework routes (API, citizen and staff pages) take from a request.

Links (e-mails, status page, the document's QR code) always come from `settings.base_url`,
never from the request's Host header, which whoever sends the request chooses.
"""

from __future__ import annotations

from fastapi import Request

from servicepoint.casework.errors import ApplicationRateLimited
from servicepoint.core.i18n import N_
from servicepoint.core.security import within_rate

# Per client and hour, `application_rate_limit` of each kind of public write: drafts started,
# upload posts, applications sent (through the API and the pages alike: one budget, "apply").
RATE_WINDOW = 3600
TOO_MANY = N_("Zu viele Anfragen von Ihrem Anschluss. Bitte versuchen Sie es später noch einmal.")


def request_lang(request: Request) -> str:
    return "en" if getattr(request.state, "lang", "de") == "en" else "de"


def check_application_rate(request: Request, kind: str) -> None:
    """Count one write of this kind from this client; 429 (with Retry-After, a page for people
    and JSON for programs) once over the hour's limit."""
    limit = request.app.state.settings.application_rate_limit
    if not within_rate(request, kind, limit=limit, window=RATE_WINDOW):
        raise ApplicationRateLimited(TOO_MANY, retry_after=RATE_WINDOW)
