"""JSON routes for appointments and walk-in tickets (contract: ../shared/API.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Header, Query, Request, Response
from sqlalchemy.orm import Session

from servicepoint.appointment import actions, proof
from servicepoint.appointment import queue as queue_service
from servicepoint.appointment import service as appointment_service
from servicepoint.appointment.models import Booking
from servicepoint.appointment.schemas import (
    BookingCreate,
    BookingCreated,
    BookingRead,
    ChallengeRead,
    Channel,
    RescheduleRequest,
    SlotRead,
    TicketCreate,
    TicketRead,
    WaitingRead,
)
from servicepoint.core.challenge import MAX_AGE_SECONDS
from servicepoint.core.db import SessionDep, request_transaction
from servicepoint.core.inputs import Code, Count, Day, Key
from servicepoint.web.openapi import conflict

router = APIRouter(prefix="/api", tags=["appointments"])


@router.get("/appointments/slots", response_model=list[SlotRead])
def slots(
    service: list[Key] = Query(..., min_length=1, max_length=5),
    location: str | None = Query(default=None, max_length=64),
    date_from: Day | None = None,
    date_to: Day | None = None,
    limit: Count | None = None,
    channel: Channel = "in_person",
    session: Session = SessionDep,
) -> list[SlotRead]:
    """Free slots (at offices, or channel=video), earliest first (14 days unless date_to)."""
    found = appointment_service.find_slots(
        session,
        service_ids=service,
        location_id=location,
        date_from=date_from,
        date_to=date_to,
        limit=limit,
        channel=channel,
    )
    return [
        SlotRead(
            location_id=ls.location_id,
            start=ls.start,
            end=ls.end,
            capacity_left=ls.capacity_left,
        )
        for ls in found
    ]


@router.post(
    "/appointments",
    response_model=BookingCreated,
    response_model_exclude_unset=True,
    status_code=201,
    responses=conflict("`slot_taken`: someone booked the slot first."),
)
def create_booking(
    body: BookingCreate,
    request: Request,
    x_challenge: str | None = Header(default=None, max_length=200),
    x_challenge_nonce: str | None = Header(default=None, max_length=20),
) -> dict[str, Any]:
    """Book an appointment or a video consultation (solved /api/challenge); 409 `slot_taken`."""
    actions.check_booking_rate(request)
    with request_transaction(request) as session:  # commit right after the writes
        proof.require(request, session, x_challenge, x_challenge_nonce)
        booking = actions.book(session, request, body)
    return actions.booking_view(booking, request)  # validated once, by response_model


@router.get("/challenge", response_model=ChallengeRead)
def booking_challenge(request: Request) -> ChallengeRead:
    """A proof-of-work challenge to solve before POST /api/appointments or /api/applications."""
    token = proof.issue(request)
    difficulty = int(token.split(":")[2]) if token else 0
    return ChallengeRead(challenge=token, difficulty=difficulty, expires_in=MAX_AGE_SECONDS)


@router.get("/appointments/{code}", response_model=BookingRead, response_model_exclude_unset=True)
def read_booking(code: Code, request: Request, session: Session = SessionDep) -> BookingRead:
    """The booking behind a code."""
    booking = appointment_service.get_booking(session, code=code)
    return _booking_read(booking, request)


def _booking_read(booking: Booking, request: Request) -> BookingRead:
    """The booking with its channel; `join_url` only for a video booking."""
    return BookingRead(
        **{"channel": booking.channel, **actions.booking_view(booking, request)},
        status=booking.status,
        service_ids=booking.service_ids,
        name=booking.name,
        page_url=actions.links(booking, request)["page"],
    )


@router.delete(
    "/appointments/{code}",
    status_code=204,
    responses=conflict("`booking_cancelled`: already cancelled or past."),
)
def delete_booking(code: Code, request: Request, session: Session = SessionDep) -> Response:
    """Cancel; the slot is free again at once."""
    actions.cancel(session, request, code)
    return Response(status_code=204)


@router.post(
    "/appointments/{code}/reschedule",
    response_model=BookingRead,
    response_model_exclude_unset=True,
    responses=conflict("`slot_taken` or `booking_cancelled`."),
)
def move_booking(
    code: Code, body: RescheduleRequest, request: Request, session: Session = SessionDep
) -> BookingRead:
    """Move a booking to another free start (a video booking stays a video booking)."""
    booking = actions.reschedule(session, request, code, body.start, body.location_id)
    return _booking_read(booking, request)


@router.get("/appointments/{code}/ics")
def booking_ics(code: Code, request: Request, session: Session = SessionDep) -> Response:
    """The booking as an RFC 5545 calendar file."""
    body = actions.ics(session, request, code)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="termin.ics"'},
    )


@router.post(
    "/tickets",
    response_model=TicketRead,
    status_code=201,
    responses=conflict("`queue_conflict`: no number could be drawn; try again."),
)
def create_ticket(
    body: TicketCreate, request: Request, background: BackgroundTasks, session: Session = SessionDep
) -> TicketRead:
    """Draw a walk-in waiting number (kiosks and phones)."""
    actions.check_ticket_rate(request)
    ticket = queue_service.issue_ticket(
        session, location_id=body.location_id, service_id=body.service_id
    )
    actions.notify_location(background, request, ticket.location_id)
    return actions.ticket_read(session, request, ticket.token)


@router.get("/tickets/{token}", response_model=TicketRead)
def read_ticket(token: Key, request: Request, session: Session = SessionDep) -> TicketRead:
    """A waiting number's live position and estimated wait."""
    return actions.ticket_read(session, request, token)


@router.get("/locations/{location_id}/waiting", response_model=WaitingRead)
def waiting(location_id: Key, session: Session = SessionDep) -> WaitingRead:
    """Today's estimated walk-in wait and the next free appointment of a location."""
    return actions.waiting_read(session, location_id)
