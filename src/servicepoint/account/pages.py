"""Staff login, logout, staff home and the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from servicepoint.account import guard, service
from servicepoint.account.deps import SESSION_COOKIE, optional_user, require
from servicepoint.account.errors import InvalidCredentials
from servicepoint.account.models import User
from servicepoint.core import i18n
from servicepoint.core.db import SessionDep
from servicepoint.core.i18n import N_
from servicepoint.core.inputs import NextPath
from servicepoint.core.security import csrf_protect, secure_cookie
from servicepoint.core.templating import render
from servicepoint.web.pages import safe_next

router = APIRouter(include_in_schema=False)
_TOO_MANY = N_("Zu viele Anmeldeversuche. Bitte warten Sie einige Minuten.")


@router.get("/mitarbeiter/login", response_class=HTMLResponse)
def login_form(
    request: Request, next: NextPath = "/mitarbeiter", user: User | None = Depends(optional_user)
) -> HTMLResponse:
    """The staff login form."""
    return render(request, "account/login.html", {"next": safe_next(next), "error": None})


def _login_page(
    request: Request, next: str, username: str, message: str, status: int
) -> HTMLResponse:
    error = i18n.translate(request.state.lang, message)
    context = {"next": safe_next(next), "error": error, "username": username}
    return render(request, "account/login.html", context, status_code=status)


@router.post("/mitarbeiter/login", response_model=None, dependencies=[Depends(csrf_protect)])
def login(
    request: Request,
    username: str = Form(..., max_length=64),
    password: str = Form(..., max_length=256),
    next: str = Form("/mitarbeiter", max_length=2000),
    session: Session = SessionDep,
) -> HTMLResponse | RedirectResponse:
    """Check the password (guesses limited) and start a server-side session."""
    name = username.strip().lower()
    attempt = guard.admit(request, name)  # committed before the slow password check
    if attempt.wait is not None:
        response = _login_page(request, next, username, _TOO_MANY, 429)
        response.headers["Retry-After"] = str(attempt.wait)
        return response
    try:
        user = service.authenticate(session, username=username, password=password)
    except InvalidCredentials as exc:
        service.audit(session, username=None, action="login.failed", target=username[:64])
        return _login_page(request, next, username, exc.message, 401)
    settings = request.app.state.settings
    token = service.start_session(session, user=user, hours=settings.session_hours)
    redirect = RedirectResponse(safe_next(next), status_code=303)
    guard.succeeded(request, attempt, user, redirect)
    redirect.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=secure_cookie(request),
    )
    return redirect


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
