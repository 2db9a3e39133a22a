"""Citizen pages around a booking code: find the booking again, have the confirmation resent."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from servicepoint.appointment import actions
from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.errors import BookingNotFound
from servicepoint.core.db import SessionDep
from servicepoint.core.inputs import Code
from servicepoint.core.security import csrf_protect
from servicepoint.core.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/termine/verwalten", response_class=HTMLResponse, response_model=None)
def manage(
    request: Request,
    code: str = Query(default="", max_length=40),
    session: Session = SessionDep,
) -> HTMLResponse | RedirectResponse:
    """Enter a booking code and go on to the booking."""
    if not code.strip():
        return render(request, "appointment/manage.html", {"code": "", "unknown": False})
    try:
        booking = appointment_service.get_booking(session, code=code)
    except BookingNotFound:
        context = {"code": code, "unknown": True}
        return render(request, "appointment/manage.html", context, status_code=404)
    return RedirectResponse(f"/termine/{booking.code}", status_code=303)


@router.post("/termine/{code}/bestaetigung", dependencies=[Depends(csrf_protect)])
def resend(code: Code, request: Request, session: Session = SessionDep) -> RedirectResponse:
    """Send the confirmation e-mail again, to the address given when booking."""
    booking = actions.resend_confirmation(session, request, code)
    return RedirectResponse(f"/termine/{booking.code}?gesendet=1", status_code=303)
