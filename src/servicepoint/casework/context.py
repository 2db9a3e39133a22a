"""What the casework routes (API, citizen and staff pages) take from a request."""

from __future__ import annotations

from fastapi import Request

from servicepoint.config import Settings


def request_settings(request: Request) -> Settings:
    """The settings, with links (e-mails, status, document) pointing at the address the
    request came to, unless SERVICEPOINT_BASE_URL is configured."""
    settings: Settings = request.app.state.settings
    if "base_url" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"base_url": str(request.base_url).rstrip("/")})


def request_lang(request: Request) -> str:
    return "en" if getattr(request.state, "lang", "de") == "en" else "de"
