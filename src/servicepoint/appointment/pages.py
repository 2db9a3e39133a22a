"""Citizen pages for appointments: find a slot, book, see, cancel and move a booking."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BeforeValidator, ValidationError
from sqlalchemy.orm import Session

from servicepoint.appointment import actions
from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.errors import ChallengeFailed, InvalidBooking
from servicepoint.appointment.schemas import BookingCreate
from servicepoint.catalog import locations as location_service
from servicepoint.catalog import present
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.models import Location, Service
from servicepoint.core import challenge
from servicepoint.core.clock import BERLIN, today_local
from servicepoint.core.db import SessionDep
from servicepoint.core.i18n import N_, error_text
from servicepoint.core.security import csrf_protect
from servicepoint.core.templating import render
from servicepoint.web.geo import district_points

router = APIRouter(include_in_schema=False)
PAGE_SLOTS = 40
DAYPARTS = {"vormittag": (0, 12 * 60), "nachmittag": (12 * 60, 24 * 60)}
# A GET form sends its empty date field as `date_from=`: that means "no date", not bad input.
OptionalDate = Annotated[dt.date | None, BeforeValidator(lambda v: v or None)]


def _bookable(session: Session) -> list[Service]:
    return [s for s in catalog_service.list_services(session) if "appointment" in s.channels]


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance; enough to order offices by nearness."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371 * 2 * math.asin(math.sqrt(h))


def _distances(
    request: Request, locations: list[Location], district: str | None
) -> dict[str, float | None]:
    points = {
        name: (lat, lon) for name, lat, lon in district_points(request.app.state.settings.city_dir)
    }
    origin = points.get(district or "")
    return {
        loc.id: round(_km(origin, (loc.lat, loc.lon)), 1)
        if origin and loc.lat is not None and loc.lon is not None
        else None
        for loc in locations
    }


def _in_daypart(start: dt.datetime, daypart: str | None) -> bool:
    if daypart not in DAYPARTS:
        return True
    local = start.astimezone(BERLIN)
    lo, hi = DAYPARTS[daypart]
    return lo <= local.hour * 60 + local.minute < hi


def _slot_rows(
    session: Session,
    request: Request,
    *,
    service_ids: list[str],
    location: str | None,
    date_from: dt.date | None,
    daypart: str | None,
    district: str | None,
    sort: str,
) -> dict[str, Any]:
    slots = appointment_service.find_slots(
        session,
        service_ids=service_ids,
        location_id=location or None,
        date_from=date_from,
        date_to=(date_from or today_local()) + dt.timedelta(days=20),
    )
    slots = [s for s in slots if _in_daypart(s.start, daypart)]
    locations = {loc.id: loc for loc in location_service.list_locations(session)}
    dist = _distances(request, list(locations.values()), district)
    if sort == "entfernung":
        slots.sort(
            key=lambda s: (
                dist.get(s.location_id) is None,
                dist.get(s.location_id) or 0,
                s.start,
            )
        )
    by_day: dict[dt.date, list[Any]] = defaultdict(list)
    for ls in slots[:PAGE_SLOTS]:
        by_day[ls.start.astimezone(BERLIN).date()].append(ls)
    return {"by_day": dict(by_day), "total": len(slots), "locations": locations, "distances": dist}


@router.get("/termine", response_class=HTMLResponse)
def find(
    request: Request,
    service: list[str] = Query(default=[], max_length=5),
    location: str | None = Query(default=None, max_length=64),
    date_from: OptionalDate = None,
    daypart: str | None = Query(default=None, max_length=20),
    district: str | None = Query(default=None, max_length=80),
    sort: str = Query(default="zeit", pattern="^(zeit|entfernung)$"),
    session: Session = SessionDep,
) -> HTMLResponse:
    """Choose services and see the earliest free times across all ServicePoints."""
    context: dict[str, Any] = {
        "services": _bookable(session),
        "chosen": service,
        "location": location,
        "date_from": date_from,
        "daypart": daypart,
        "district": district,
        "sort": sort,
        "all_locations": location_service.list_locations(session),
        "districts": [n for n, _, _ in district_points(request.app.state.settings.city_dir)],
        "result": None,
        "error": None,
    }
    if service:
        try:
            context["result"] = _slot_rows(
                session,
                request,
                service_ids=service,
                location=location,
                date_from=date_from,
                daypart=daypart,
                district=district,
                sort=sort,
            )
            context["chosen_services"] = appointment_service.bookable_services(
                session, service_ids=service
            )
        except InvalidBooking as exc:
            context["error"] = error_text(exc, request.state.lang)
    return render(request, "appointment/find.html", context)


def _booking_context(
    session: Session, request: Request, service_ids: list[str], location_id: str, start: dt.datetime
) -> dict[str, Any]:
    services = appointment_service.bookable_services(session, service_ids=service_ids)
    settings = request.app.state.settings
    return {
        "services": services,
        "location": (loc := location_service.get_location(session, location_id=location_id)),
        "address": present.address(loc),
        "start": start,
        "minutes": appointment_service.duration_of(
            [appointment_service.BookingFacts.of(s) for s in services]
        ),
        "challenge": challenge.issue(settings.secret_key, settings.pow_difficulty)
        if settings.bot_protection_on
        else None,
    }


@router.get("/termine/buchen", response_class=HTMLResponse)
def booking_form(
    request: Request,
    service: list[str] = Query(..., min_length=1, max_length=5),
    location: str = Query(..., max_length=64),
    start: dt.datetime = Query(...),
    session: Session = SessionDep,
) -> HTMLResponse:
    """Enter name and e-mail for the chosen time."""
    context = _booking_context(session, request, service, location, start)
    return render(request, "appointment/book.html", {**context, "form": {}, "errors": []})


def _check_challenge(request: Request, form: dict[str, str]) -> None:
    settings = request.app.state.settings
    if not settings.bot_protection_on:
        return
    token, nonce = form.get("pow_challenge", ""), form.get("pow_nonce", "")
    ok = challenge.verify(settings.secret_key, token, nonce)
    if not ok or not request.app.state.rate_limiter.hit(f"pow:{token}", limit=1, window=3600):
        raise ChallengeFailed(
            N_(
                "Die Sicherheitsprüfung ist fehlgeschlagen. Bitte laden Sie "
                "die Seite neu (JavaScript wird dafür benötigt)."
            )
        )


@router.post("/termine/buchen", response_model=None, dependencies=[Depends(csrf_protect)])
async def book(request: Request, session: Session = SessionDep) -> HTMLResponse | RedirectResponse:
    """Book; invalid input shows the form again with the reasons, nothing is stored."""
    raw = await request.form()
    form = {k: str(v) for k, v in raw.items() if isinstance(v, str)}
    service_ids = [str(v) for v in raw.getlist("service")]
    try:
        body = BookingCreate(
            service_ids=service_ids,
            location_id=form.get("location", ""),
            start=form.get("start", ""),
            name=form.get("name", ""),
            email=form.get("email", ""),
            lang=request.state.lang,
        )
    except ValidationError as exc:
        errors = sorted({str(e["loc"][0]) for e in exc.errors()})
        context = _booking_context(
            session,
            request,
            service_ids,
            form.get("location", ""),
            dt.datetime.fromisoformat(form["start"])
            if _iso(form.get("start"))
            else dt.datetime.now(BERLIN),
        )
        return render(
            request,
            "appointment/book.html",
            {**context, "form": form, "errors": errors},
            status_code=422,
        )
    actions.check_booking_rate(request)
    _check_challenge(request, form)
    booking = actions.book(session, request, body)
    return RedirectResponse(f"/termine/{booking.code}?neu=1", status_code=303)


def _iso(value: str | None) -> bool:
    try:
        return bool(value) and dt.datetime.fromisoformat(str(value)).tzinfo is not None
    except ValueError:
        return False


@router.get("/termine/{code}", response_class=HTMLResponse)
def booking_page(code: str, request: Request, session: Session = SessionDep) -> HTMLResponse:
    """The booking: code, time, place, checklist, calendar file, cancel and move."""
    booking = appointment_service.get_booking(session, code=code)
    services = list(catalog_service.services_by_ids(session, ids=booking.service_ids).values())
    location = location_service.get_location(session, location_id=booking.location_id)
    return render(
        request,
        "appointment/booking.html",
        {
            "booking": booking,
            "services": services,
            "location": location,
            "address": present.address(location),
            "code": appointment_service.format_code(booking.code),
            "new": request.query_params.get("neu") == "1",
        },
    )


@router.get("/termine/{code}/absagen", response_class=HTMLResponse)
def cancel_form(code: str, request: Request, session: Session = SessionDep) -> HTMLResponse:
    """Ask before cancelling."""
    booking = appointment_service.get_booking(session, code=code)
    location = location_service.get_location(session, location_id=booking.location_id)
    return render(request, "appointment/cancel.html", {"booking": booking, "location": location})


@router.post("/termine/{code}/absagen", dependencies=[Depends(csrf_protect)])
def cancel(code: str, request: Request, session: Session = SessionDep) -> RedirectResponse:
    """Cancel; the slot is bookable again at once."""
    booking = actions.cancel(session, request, code)
    return RedirectResponse(f"/termine/{booking.code}", status_code=303)


@router.get("/termine/{code}/verschieben", response_class=HTMLResponse)
def move_form(
    code: str,
    request: Request,
    location: str | None = Query(default=None, max_length=64),
    date_from: OptionalDate = None,
    session: Session = SessionDep,
) -> HTMLResponse:
    """Free times for the same services, to move the booking."""
    booking = appointment_service.get_booking(session, code=code)
    result = _slot_rows(
        session,
        request,
        service_ids=booking.service_ids,
        location=location,
        date_from=date_from,
        daypart=None,
        district=None,
        sort="zeit",
    )
    return render(
        request,
        "appointment/move.html",
        {
            "booking": booking,
            "result": result,
            "location": location,
            "date_from": date_from,
            "all_locations": location_service.list_locations(session),
        },
    )


@router.post("/termine/{code}/verschieben", dependencies=[Depends(csrf_protect)])
def move(
    code: str,
    request: Request,
    start: dt.datetime = Form(...),
    location: str = Form(..., max_length=64),
    session: Session = SessionDep,
) -> RedirectResponse:
    """Move the booking; the old time is freed in the same transaction."""
    booking = actions.reschedule(session, request, code, start, location)
    return RedirectResponse(f"/termine/{booking.code}?verschoben=1", status_code=303)
