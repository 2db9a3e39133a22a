"""Staff login, logout, staff home and the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from servicepoint.account import service
from servicepoint.account.deps import SESSION_COOKIE, optional_user, require
from servicepoint.account.errors import InvalidCredentials, TooManyLogins
from servicepoint.account.models import User
from servicepoint.core import i18n
from servicepoint.core.db import SessionDep
from servicepoint.core.i18n import N_
from servicepoint.core.security import client_ip, csrf_protect, secure_cookie
from servicepoint.core.templating import render
from servicepoint.web.pages import safe_next

router = APIRouter(include_in_schema=False)


@router.get("/mitarbeiter/login", response_class=HTMLResponse)
def login_form(
    request: Request, next: str = "/mitarbeiter", user: User | None = Depends(optional_user)
) -> HTMLResponse:
    """The staff login form."""
    return render(request, "account/login.html", {"next": safe_next(next), "error": None})


def _rate_keys(request: Request, username: str) -> tuple[str, str]:
    return f"login:ip:{client_ip(request)}", f"login:user:{username.strip().lower()}"


def _check_rate(request: Request, username: str) -> None:
    """Only failed attempts count, so an office behind one address doesn't lock itself out."""
    settings = request.app.state.settings
    if not settings.bot_protection_on:  # API.md: BOT_PROTECTION=off turns rate limits off
        return
    limiter = request.app.state.rate_limiter
    for key in _rate_keys(request, username):
        if limiter.exceeded(
            key, limit=settings.login_max_attempts, window=settings.login_window_seconds
        ):
            raise TooManyLogins(N_("Zu viele Anmeldeversuche. Bitte warten Sie einige Minuten."))


def _count_failure(request: Request, username: str) -> None:
    settings = request.app.state.settings
    for key in _rate_keys(request, username):
        request.app.state.rate_limiter.hit(
            key, limit=settings.login_max_attempts, window=settings.login_window_seconds
        )


@router.post("/mitarbeiter/login", response_model=None, dependencies=[Depends(csrf_protect)])
def login(
    request: Request,
    username: str = Form(..., max_length=64),
    password: str = Form(..., max_length=256),
    next: str = Form("/mitarbeiter"),
    session: Session = SessionDep,
) -> HTMLResponse | RedirectResponse:
    """Check the password (rate-limited) and start a server-side session."""
    _check_rate(request, username)
    try:
        user = service.authenticate(session, username=username, password=password)
    except InvalidCredentials as exc:
        _count_failure(request, username)
        service.audit(session, username=None, action="login.failed", target=username[:64])
        error = i18n.translate(request.state.lang, exc.message)
        return render(
            request,
            "account/login.html",
            {"next": safe_next(next), "error": error, "username": username},
            status_code=401,
        )
    settings = request.app.state.settings
    request.app.state.rate_limiter.reset(_rate_keys(request, username)[1])
    token = service.start_session(session, user=user, hours=settings.session_hours)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=secure_cookie(request),
    )
    return response


@router.post("/mitarbeiter/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request, session: Session = SessionDep) -> RedirectResponse:
    """End the session on the server and clear the cookie."""
    service.end_session(session, token=request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/mitarbeiter", response_class=HTMLResponse)
def staff_home(request: Request, user: User = Depends(require("any"))) -> HTMLResponse:
    """The staff start page with the tools this role may use."""
    return render(request, "account/home.html")


@router.get("/verwaltung/protokoll", response_class=HTMLResponse)
def audit_log(
    request: Request, user: User = Depends(require("admin")), session: Session = SessionDep
) -> HTMLResponse:
    """The latest staff actions (admins only)."""
    return render(request, "account/audit.html", {"entries": service.recent_audit(session)})
