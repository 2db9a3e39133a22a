"""Walk-in pages: kiosk, waiting-number page, call display with live updates, counter console,
and the capacity settings of a location."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Annotated, Any

import segno
from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.orm import Session

from servicepoint.account import service as account_service
from servicepoint.account.deps import require
from servicepoint.account.models import User
from servicepoint.appointment import actions, console_view
from servicepoint.appointment import queue as queue_service
from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.errors import InvalidBooking
from servicepoint.appointment.facts import NEEDED
from servicepoint.catalog import locations as location_service
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.hours import format_hours
from servicepoint.core.clock import today_local
from servicepoint.core.db import SessionDep
from servicepoint.core.i18n import N_, error_text
from servicepoint.core.inputs import Counter, Day, Id, Key, ShortText
from servicepoint.core.security import csrf_protect
from servicepoint.core.templating import render
from servicepoint.web import form_errors

router = APIRouter(include_in_schema=False)
KEEPALIVE_SECONDS = 15.0


def _qr_svg(url: str) -> Markup:
    """A QR code of the ticket page, so a printed number can be followed on a phone."""
    svg = segno.make(url, error="m").svg_inline(scale=4, dark="#1a1a1a", light="#ffffff")
    return Markup(svg)  # segno output contains no user input; only our own URL


@router.get("/standorte/{location_id}/kiosk", response_class=HTMLResponse)
def kiosk(location_id: Key, request: Request, session: Session = SessionDep) -> HTMLResponse:
    """Kiosk screen (also usable on a phone): draw a waiting number or check in."""
    loc = location_service.get_office(session, location_id=location_id)
    estimate = queue_service.estimate_now(session, location_id=location_id)
    services = [s for s in catalog_service.list_services(session) if "appointment" in s.channels]
    return render(
        request, "appointment/kiosk.html", {"loc": loc, "estimate": estimate, "services": services}
    )


@router.post("/standorte/{location_id}/kiosk", dependencies=[Depends(csrf_protect)])
def draw_ticket(
    location_id: Key,
    request: Request,
    background: BackgroundTasks,
    service: str = Form(default="", max_length=64),
    session: Session = SessionDep,
) -> RedirectResponse:
    """Issue a walk-in number and show its page."""
    actions.check_ticket_rate(request)
    ticket = queue_service.issue_ticket(
        session, location_id=location_id, service_id=service or None
    )
    actions.notify_location(background, request, location_id)
    return RedirectResponse(f"/wartenummer/{ticket.token}?kiosk=1", status_code=303)


@router.post("/standorte/{location_id}/kiosk/anmelden", dependencies=[Depends(csrf_protect)])
def kiosk_check_in(
    location_id: Key,
    request: Request,
    background: BackgroundTasks,
    code: str = Form(..., min_length=4, max_length=20),
    session: Session = SessionDep,
) -> RedirectResponse:
    """Check in with a booking code; the citizen gets a number due at their appointment."""
    actions.check_ticket_rate(request)
    ticket = queue_service.check_in(session, code=code, location_id=location_id)
    actions.notify_location(background, request, location_id)
    return RedirectResponse(f"/wartenummer/{ticket.token}?kiosk=1", status_code=303)


@router.get("/wartenummer/{token}", response_class=HTMLResponse)
def ticket_page(
    token: Key,
    request: Request,
    partial: bool = False,
    kiosk: bool = False,
    session: Session = SessionDep,
) -> HTMLResponse:
    """A waiting number with live position and estimated wait (a range)."""
    status = queue_service.ticket_status(session, token=token)
    loc = location_service.get_location(session, location_id=status.ticket.location_id)
    url = f"{actions.base_url(request)}/wartenummer/{token}"
    template = "appointment/_ticket_status.html" if partial else "appointment/ticket.html"
    return render(
        request,
        template,
        {
            "status": status,
            "t": status.ticket,
            "loc": loc,
            "qr": _qr_svg(url),
            "url": url,
            "kiosk": kiosk,
        },
    )


@router.get("/standorte/{location_id}/aufruf", response_class=HTMLResponse)
def call_display(
    location_id: Key, request: Request, partial: bool = False, session: Session = SessionDep
) -> HTMLResponse:
    """Call display for the waiting area: number → counter, updated live."""
    loc = location_service.get_office(session, location_id=location_id)
    state = actions.display_state(session, location_id)
    template = "appointment/_display_board.html" if partial else "appointment/display.html"
    return render(request, template, {"loc": loc, "state": state})


async def _events(request: Request, channel: str) -> AsyncIterator[str]:
    """SSE stream: a `changed` event per update, and a comment now and then to keep proxies
    from closing the connection."""
    subscription = request.app.state.broadcaster.subscribe(channel).__aiter__()
    yield "retry: 3000\n\n"
    pending: asyncio.Task[str] | None = None
    try:
        while not await request.is_disconnected():
            pending = pending or asyncio.ensure_future(subscription.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=KEEPALIVE_SECONDS)
            if done:
                finished, pending = pending, None
                if finished.exception() is not None:  # e.g. Redis went away: the browser
                    break  # reconnects after `retry` instead of being flooded with events
                yield "event: changed\ndata: changed\n\n"
            else:
                yield ": keepalive\n\n"
    finally:
        if pending:  # a read is still waiting inside the subscription: end it first, or
            pending.cancel()  # aclose() fails with "generator already running"
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending
        await subscription.aclose()


@router.get("/live/standorte/{location_id}")
def live(location_id: Key, request: Request, session: Session = SessionDep) -> StreamingResponse:
    """Server-Sent Events for a location's display and ticket pages."""
    location_service.get_office(session, location_id=location_id)
    return StreamingResponse(
        _events(request, f"location:{location_id}"),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# -- counter console --------------------------------------------------------------------------
@router.get("/mitarbeiter/schalter", response_class=HTMLResponse)
def console_choose(
    request: Request, user: User = Depends(require("staff")), session: Session = SessionDep
) -> HTMLResponse:
    """Pick location and counter."""
    caps = {c.location_id: c for c in appointment_service.all_capacities(session)}
    return render(
        request,
        "appointment/console_choose.html",
        {
            "locations": location_service.list_locations(session),
            "caps": caps,
            "video": appointment_service.video_location(session),
        },
    )


def _console_context(session: Session, location_id: str, counter: int) -> dict[str, Any]:
    tickets = queue_service.tickets_today(session, location_id=location_id)
    current = next(
        (t for t in reversed(tickets) if t.counter == counter and t.status == "called"), None
    )
    by_counter: dict[int, list[Any]] = {}
    for t in tickets:
        if t.counter is not None and t.status in ("done", "no_show", "called"):
            by_counter.setdefault(t.counter, []).append(t)
    cap = appointment_service.get_capacity(session, location_id=location_id)
    bookings = appointment_service.bookings_on(session, location_id=location_id, day=today_local())
    return {
        "loc": location_service.get_office(session, location_id=location_id),
        "counter": counter,
        "counters": range(1, max(cap.counters, counter) + 1),
        "current": current,
        "by_counter": by_counter,
        "waiting": queue_service.waiting_tickets(
            session, location_id=location_id, day=today_local()
        ),
        "bookings": bookings,
        "visits": console_view.visits(session, tickets=tickets, bookings=bookings),
        "status_text": console_view.status_text,
        "estimate": queue_service.estimate_now(session, location_id=location_id),
    }


@router.get("/mitarbeiter/schalter/{location_id}/{counter}", response_class=HTMLResponse)
def console(
    location_id: Key,
    counter: Counter,
    request: Request,
    user: User = Depends(require("staff")),
    session: Session = SessionDep,
) -> HTMLResponse:
    """Counter console: call next, present, done, no-show, transfer; today's schedule."""
    return render(
        request, "appointment/console.html", _console_context(session, location_id, counter)
    )


@router.post("/mitarbeiter/schalter/{location_id}/{counter}", dependencies=[Depends(csrf_protect)])
def console_action(
    location_id: Key,
    counter: Counter,
    request: Request,
    background: BackgroundTasks,
    action: str = Form(..., max_length=20),
    ticket_id: Annotated[Id | None, Form()] = None,
    target_counter: Annotated[Counter | None, Form()] = None,
    code: str = Form(default="", max_length=20),
    user: User = Depends(require("staff")),
    session: Session = SessionDep,
) -> RedirectResponse:
    """Run one console action, then show the console again."""
    _run_action(session, location_id, counter, action, ticket_id, target_counter, code)
    account_service.audit(
        session,
        username=user.username,
        action=f"queue.{action}",
        target=location_id,
        detail={"counter": counter, "ticket": ticket_id},
    )
    actions.notify_location(background, request, location_id)
    return RedirectResponse(f"/mitarbeiter/schalter/{location_id}/{counter}", status_code=303)


def _run_action(
    session: Session,
    location_id: Key,
    counter: int,
    action: str,
    ticket_id: int | None,
    target: int | None,
    code: str,
) -> None:
    if action == "next":
        queue_service.call_next(session, location_id=location_id, counter=counter)
    elif action == "present" and code:
        queue_service.check_in(session, code=code, location_id=location_id)
    elif action == "no_show_booking" and code:
        queue_service.booking_no_show(session, location_id=location_id, code=code)
    elif action in ("done", "no_show") and ticket_id:
        queue_service.finish(session, location_id=location_id, ticket_id=ticket_id, outcome=action)
    elif action in ("recall", "transfer") and ticket_id:
        queue_service.recall(
            session,
            location_id=location_id,
            ticket_id=ticket_id,
            counter=target if action == "transfer" and target else counter,
        )
    else:
        raise InvalidBooking(N_("Unbekannte Aktion."), code="invalid_action")


# -- capacity ---------------------------------------------------------------------------------
# The office's published hours are edited with its capacity: one page, one source.
OFFICE_FORM_FIELDS = ("opening_hours", "dec24", "dec31", "opening_source")


@router.get("/verwaltung/kapazitaet/{location_id}", response_class=HTMLResponse)
def capacity_form(
    location_id: Key,
    request: Request,
    user: User = Depends(require("admin")),
    session: Session = SessionDep,
) -> HTMLResponse:
    """Hours, counters, walk-in share, offered services and closures of a location."""
    return render(
        request, "appointment/capacity.html", _capacity_context(session, location_id, errors=[])
    )


def _capacity_context(
    session: Session, location_id: str, *, errors: list[str], form: dict[str, Any] | None = None
) -> dict[str, Any]:
    cap = appointment_service.get_capacity(session, location_id=location_id)
    loc = location_service.get_location(session, location_id=location_id)
    channel = cap.channel or "in_person"  # the video consultations: no office facts, no walk-ins
    return {
        "loc": loc,
        "cap": cap,
        "video": channel == "video",
        "hours": format_hours(cap.hours),
        "opening_hours": format_hours(loc.opening_hours or {}),
        "errors": errors,
        "form": form or {},
        "services": [
            s for s in catalog_service.list_services(session) if NEEDED[channel] in s.channels
        ],
        "appointment_counters": appointment_service.appointment_counters(cap),
        "closures": appointment_service.closures(
            session, location_id=location_id, since=today_local()
        ),
    }


@router.post(
    "/verwaltung/kapazitaet/{location_id}",
    response_model=None,
    dependencies=[Depends(csrf_protect)],
)
async def capacity_save(
    location_id: Key,
    request: Request,
    user: User = Depends(require("admin")),
    session: Session = SessionDep,
) -> HTMLResponse | RedirectResponse:
    """Save capacity settings; invalid values are shown and nothing changes."""
    raw = await request.form()
    form = {k: str(v) for k, v in raw.items() if isinstance(v, str)}
    chosen = [str(v) for v in raw.getlist("service")]
    try:
        change = appointment_service.CapacityChange(
            hours=form.get("hours", ""),
            counters=form.get("counters", ""),
            walkin_share=_percent(form.get("walkin_percent", "")),
            grid_minutes=form.get("grid_minutes", ""),
            service_ids=None if form.get("all_services") else chosen,
            **{k: form[k] for k in OFFICE_FORM_FIELDS if k in form},
        )
    except ValidationError as exc:
        errors = list(form_errors.field_errors(exc, request.state.lang).values())
        return render(
            request,
            "appointment/capacity.html",
            _capacity_context(session, location_id, errors=errors, form=form),
            status_code=400,
        )
    try:
        appointment_service.update_capacity(
            session,
            location_id=location_id,
            change=change,
            source=f"{user.username} ({dt.date.today():%d.%m.%Y})",
            by=user.username,
        )
    except InvalidBooking as exc:  # checked before anything changed: show the form again
        return render(
            request,
            "appointment/capacity.html",
            _capacity_context(
                session, location_id, errors=[error_text(exc, request.state.lang)], form=form
            ),
            status_code=exc.status_code,
        )
    account_service.audit(
        session,
        username=user.username,
        action="capacity.update",
        target=location_id,
        detail=change.model_dump(),
    )
    return RedirectResponse(f"/verwaltung/kapazitaet/{location_id}?gespeichert=1", status_code=303)


def _percent(value: str) -> float | str:
    """A share from the percent the form shows; not a number stays as typed, for the model to
    refuse in words."""
    try:
        return float(value.replace(",", ".")) / 100
    except ValueError:
        return value


@router.post(
    "/verwaltung/kapazitaet/{location_id}/schliessung", dependencies=[Depends(csrf_protect)]
)
def closure_add(
    location_id: Key,
    day: Annotated[Day, Form()],
    reason: Annotated[ShortText, Form(min_length=2, max_length=200)],
    user: User = Depends(require("admin")),
    session: Session = SessionDep,
) -> RedirectResponse:
    """Close the location on a day (e.g. staff training); holidays need no entry."""
    appointment_service.add_closure(session, location_id=location_id, day=day, reason=reason)
    account_service.audit(
        session,
        username=user.username,
        action="closure.add",
        target=location_id,
        detail={"day": day.isoformat(), "reason": reason},
    )
    return RedirectResponse(f"/verwaltung/kapazitaet/{location_id}", status_code=303)


@router.post(
    "/verwaltung/kapazitaet/{location_id}/schliessung/{closure_id}/loeschen",
    dependencies=[Depends(csrf_protect)],
)
def closure_remove(
    location_id: Key,
    closure_id: Id,
    user: User = Depends(require("admin")),
    session: Session = SessionDep,
) -> RedirectResponse:
    """Reopen a closed day."""
    appointment_service.remove_closure(session, location_id=location_id, closure_id=closure_id)
    account_service.audit(
        session,
        username=user.username,
        action="closure.remove",
        target=location_id,
        detail={"closure": closure_id},
    )
    return RedirectResponse(f"/verwaltung/kapazitaet/{location_id}", status_code=303)
