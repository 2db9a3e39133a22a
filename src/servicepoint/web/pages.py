"""Site-wide pages: home, language switch, health, API docs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import text
from sqlalchemy.orm import Session

from servicepoint.catalog import service as catalog_service
from servicepoint.core.db import SessionDep
from servicepoint.core.i18n import N_, coerce_lang
from servicepoint.core.inputs import Lang, NextPath
from servicepoint.core.security import secure_cookie
from servicepoint.core.templating import render
from servicepoint.errors import NotFound
from servicepoint.web.middleware import LANG_COOKIE

router = APIRouter(include_in_schema=False)
# Health is part of the public contract, so it is documented in OpenAPI (the pages are not).
health_router = APIRouter()


@health_router.get("/health", tags=["health"])
def health(session: Session = SessionDep) -> dict[str, str]:
    """Liveness: 200 once the database answers."""
    session.execute(text("SELECT 1"))
    return {"status": "ok"}


def safe_next(target: str | None) -> str:
    """Only same-site paths, so a crafted link cannot send people elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _without_lang(target: str) -> str:
    """Drop a ?lang= from the return address, or it would override the new choice."""
    path, _, query = target.partition("?")
    kept = [p for p in query.split("&") if p and not p.startswith("lang=")]
    return path + ("?" + "&".join(kept) if kept else "")


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: Session = SessionDep) -> HTMLResponse:
    """Home page: search, online services first, all services A–Z."""
    services = catalog_service.list_services(session)
    online = [svc for svc in services if "online" in svc.channels]
    return render(request, "home.html", {"services": services, "online": online})


@router.get("/sprache/{lang}")
def switch_language(lang: Lang, request: Request, next: NextPath | None = None) -> RedirectResponse:
    """Remember the chosen language in a cookie and go back to the page."""
    chosen = coerce_lang(lang)
    if chosen is None:
        raise NotFound(N_("Diese Sprache gibt es nicht."))
    response = RedirectResponse(_without_lang(safe_next(next)), status_code=303)
    response.set_cookie(
        LANG_COOKIE,
        chosen,
        max_age=365 * 86400,
        samesite="lax",
        secure=secure_cookie(request),
        httponly=True,
    )
    return response


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """OpenAPI documentation (Swagger UI served from our own static files)."""
    return render(request, "docs.html")
