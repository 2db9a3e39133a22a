"""Citizen pages for appointments: find a slot, book, see, cancel and move a booking."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from servicepoint.appointment import actions, finding, manage_pages, proof
from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.errors import InvalidBooking, SlotTaken
from servicepoint.appointment.facts import NEEDED
from servicepoint.appointment.schemas import BookingCreate, Channel
from servicepoint.catalog import locations as location_service
from servicepoint.catalog import present
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.models import Service
from servicepoint.core.db import SessionDep
from servicepoint.core.i18n import error_text
from servicepoint.core.inputs import Code, Key, LocalMoment, Moment, OptionalDay
from servicepoint.core.security import csrf_protect
from servicepoint.core.templating import render
from servicepoint.web.geo import district_points

_START: TypeAdapter[dt.datetime] = TypeAdapter(Moment)
router = APIRouter(include_in_schema=False)
# First, so that /termine/verwalten is not taken for a booking code.
router.include_router(manage_pages.router)


def _bookable(session: Session, channel: str) -> list[Service]:
    """The services the search offers: with appointments, or with video consultations (if the
    city offers these at all)."""
    if channel == "video" and appointment_service.video_capacity(session) is None:
        return []
    return [s for s in catalog_service.list_services(session) if NEEDED[channel] in s.channels]


def _slot_rows(
    session: Session, request: Request, q: finding.SlotQuery, date_from: dt.date | None
) -> dict[str, Any]:
    """One page of whole days, with the links to the earlier and later days."""
    result = finding.slot_page(session, request.app.state.settings.city_dir, q, date_from)
    for side in ("earlier", "later"):
        day = result[side]
        result[f"{side}_url"] = finding.page_url(request, day) if day else None
    return result


@router.get("/termine", response_class=HTMLResponse)
def find(
    request: Request,
    service: list[Key] = Query(default=[], max_length=5),
    location: str | None = Query(default=None, max_length=64),
    date_from: OptionalDay = None,
    daypart: str | None = Query(default=None, max_length=20),
    district: str | None = Query(default=None, max_length=80),
    sort: str = Query(default="zeit", max_length=20, pattern="^(zeit|entfernung)$"),
    channel: Channel = "in_person",
    session: Session = SessionDep,
) -> HTMLResponse:
    """Choose services and see the earliest free times across all ServicePoints (or, with
    channel=video, of the video consultations)."""
    video = channel == "video"
    # The video consultations are one "place": no choice of office, no distances.
    all_locations = [] if video else location_service.list_locations(session)
    districts = [n for n, _, _ in district_points(request.app.state.settings.city_dir)]
    # Without a known office position "nearest first" would sort nothing: it is not offered.
    by_distance = bool(districts) and finding.has_coordinates(all_locations)
    q = finding.SlotQuery(
        service,
        None if video else location,
        daypart,
        *((district, sort) if by_distance else (None, "zeit")),
        channel=channel,
    )
    context: dict[str, Any] = {
        "channel": channel,
        "services": _bookable(session, channel),
        "chosen": service,
        "location": location,
        "date_from": date_from,
        "daypart": daypart,
        "district": q.district,
        "sort": q.sort,
        "by_distance": by_distance,
        "all_locations": all_locations,
        "districts": districts,
        "result": None,
        "error": None,
    }
    if service:
        try:
            context["result"] = _slot_rows(session, request, q, date_from)
            context["chosen_services"] = appointment_service.bookable_services(
                session, service_ids=service, channel=channel
            )
        except InvalidBooking as exc:
            context["error"] = error_text(exc, request.state.lang)
    return render(request, "appointment/find.html", context)


def _booking_context(
    session: Session,
    request: Request,
    service_ids: list[str],
    location_id: str,
    start: dt.datetime | None,
) -> dict[str, Any]:
    """What the booking form shows; without a valid `start` the form omits the time and keeps
    the typed one in its hidden field. The location says the channel: the video
    consultations' slots book video consultations."""
    channel = appointment_service.channel_at(session, location_id=location_id)
    services = appointment_service.bookable_services(
        session, service_ids=service_ids, channel=channel
    )
    return {
        "channel": channel,
        "services": services,
        "location": (loc := location_service.get_location(session, location_id=location_id)),
        "address": present.address(loc),
        "start": start,
        "minutes": appointment_service.duration_of(
            [appointment_service.BookingFacts.of(s) for s in services]
        ),
        "challenge": proof.issue(request),
    }


@router.get("/termine/buchen", response_class=HTMLResponse)
def booking_form(
    request: Request,
    start: Annotated[LocalMoment, Query()],
    service: list[Key] = Query(..., min_length=1, max_length=5),
    location: str = Query(..., max_length=64),
    session: Session = SessionDep,
) -> HTMLResponse:
    """Enter name and e-mail for the chosen time."""
    context = _booking_context(session, request, service, location, start)
    return render(request, "appointment/book.html", {**context, "form": {}, "errors": []})


@router.post("/termine/buchen", response_model=None, dependencies=[Depends(csrf_protect)])
async def book(request: Request, session: Session = SessionDep) -> HTMLResponse | RedirectResponse:
    """Book; invalid input shows the form again with the reasons, nothing is stored."""
    raw = await request.form()
    form = _chosen_slot({k: str(v) for k, v in raw.items() if isinstance(v, str)})
    service_ids = [str(v) for v in raw.getlist("service")]
    try:
        body = BookingCreate(
            service_ids=service_ids,
            location_id=form.get("location", ""),
            start=form.get("start", ""),
            name=form.get("name", ""),
            email=form.get("email", ""),
            lang=request.state.lang,
            channel=appointment_service.channel_at(session, location_id=form.get("location", "")),
        )
    except ValidationError as exc:
        errors = sorted({str(e["loc"][0]) for e in exc.errors()})
        start = _typed_start(form.get("start"))
        context = _booking_context(session, request, service_ids, form.get("location", ""), start)
        return render(
            request,
            "appointment/book.html",
            {**context, "form": form, "errors": errors},
            status_code=422,
        )
    actions.check_booking_rate(request)
    proof.require(request, session, form.get("pow_challenge"), form.get("pow_nonce"))
    try:
        # A savepoint: a longer booking may have taken its first places when a later one is
        # gone; those go back, and the transaction stays usable to offer other times.
        with session.begin_nested():
            booking = actions.book(session, request, body)
    except SlotTaken as exc:
        return _taken(session, request, body, form, error_text(exc, request.state.lang))
    return RedirectResponse(f"/termine/{booking.code}?neu=1", status_code=303)


def _chosen_slot(form: dict[str, str]) -> dict[str, str]:
    """After a taken slot the form offers others as `slot` = "location|start"; one chosen
    there replaces the taken one."""
    location, sep, start = form.get("slot", "").partition("|")
    return {**form, "location": location, "start": start} if sep else form


def _taken(
    session: Session, request: Request, body: BookingCreate, form: dict[str, str], message: str
) -> HTMLResponse:
    """The slot went to someone else: the same form, all that was typed in it, and the
    nearest free times at this office and at the others to choose from."""
    context = _booking_context(session, request, body.service_ids, body.location_id, body.start)
    near = finding.nearest(
        session,
        service_ids=body.service_ids,
        location_id=body.location_id,
        wanted=body.start,
        channel=body.channel,
    )
    locations = finding.places(session, body.channel)
    return render(
        request,
        "appointment/book.html",
        {**context, "form": form, "errors": [], "taken": message, "near": near, "names": locations},
        status_code=409,
    )


def _typed_start(value: str | None) -> dt.datetime | None:
    """The start as the booking reads it; None when it is no time the form may show."""
    try:
        return _START.validate_python(value)
    except ValidationError:
        return None


@router.get("/termine/{code}", response_class=HTMLResponse)
def booking_page(code: Code, request: Request, session: Session = SessionDep) -> HTMLResponse:
    """The booking: code, time, place (or join link), checklist, calendar file, cancel, move."""
    booking = appointment_service.get_booking(session, code=code)
    services = list(catalog_service.services_by_ids(session, ids=booking.service_ids).values())
    location = location_service.get_location(session, location_id=booking.location_id)
    settings = request.app.state.settings
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
            "join_url": actions.join_url(booking, request),
            "join": appointment_service.join_window(booking, settings=settings),
        },
    )


@router.get("/termine/{code}/absagen", response_class=HTMLResponse)
def cancel_form(code: Code, request: Request, session: Session = SessionDep) -> HTMLResponse:
    """Ask before cancelling."""
    booking = appointment_service.get_booking(session, code=code)
    location = location_service.get_location(session, location_id=booking.location_id)
    return render(request, "appointment/cancel.html", {"booking": booking, "location": location})


@router.post("/termine/{code}/absagen", dependencies=[Depends(csrf_protect)])
def cancel(code: Code, request: Request, session: Session = SessionDep) -> RedirectResponse:
    """Cancel; the slot is bookable again at once."""
    booking = actions.cancel(session, request, code)
    return RedirectResponse(f"/termine/{booking.code}", status_code=303)


@router.get("/termine/{code}/verschieben", response_class=HTMLResponse)
def move_form(
    code: Code,
    request: Request,
    location: str | None = Query(default=None, max_length=64),
    date_from: OptionalDay = None,
    session: Session = SessionDep,
) -> HTMLResponse:
    """Free times for the same services, to move the booking."""
    booking = appointment_service.get_booking(session, code=code)
    video = booking.channel == "video"  # moves to video slots only, at the one video place
    q = finding.SlotQuery(booking.service_ids, None if video else location, channel=booking.channel)
    result = _slot_rows(session, request, q, date_from)
    return render(
        request,
        "appointment/move.html",
        {
            "booking": booking,
            "result": result,
            "location": location,
            "date_from": date_from,
            "all_locations": [] if video else location_service.list_locations(session),
        },
    )


@router.post("/termine/{code}/verschieben", dependencies=[Depends(csrf_protect)])
def move(
    code: Code,
    request: Request,
    start: Annotated[LocalMoment, Form()],
    location: str = Form(..., max_length=64),
    session: Session = SessionDep,
) -> RedirectResponse:
    """Move the booking; the old time is freed in the same transaction."""
    booking = actions.reschedule(session, request, code, start, location)
    return RedirectResponse(f"/termine/{booking.code}?verschoben=1", status_code=303)
