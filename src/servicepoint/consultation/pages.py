"""The citizen's and the guest's video pages: waiting room and call, documents, end, rating.

Opening the join link is the knock: the page's WebSocket (consultation.ws) puts the citizen in
the waiting room and keeps the entry alive, so the page itself only reads. What works without
JavaScript is a plain form (documents, end, rating, fallback); the call itself needs it
(join.js, rtc.js). A refused link (403/410) is a page of its own saying why and what to do.
Every answer is private: the address carries the citizen's personal link.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import StringConstraints
from sqlalchemy.orm import Session

from servicepoint.consultation import access, hub
from servicepoint.consultation import service as consultation_service
from servicepoint.consultation.errors import (
    AlreadyRated,
    BadToken,
    BookingCancelled,
    LinkExpired,
    NotAdmitted,
    NotVideoBooking,
    StateConflict,
    TooEarly,
    TooManyUploads,
)
from servicepoint.consultation.models import ConsultationUpload
from servicepoint.consultation.page_view import guest_view, join_view
from servicepoint.consultation.schemas import Joined
from servicepoint.core.db import SessionDep
from servicepoint.core.i18n import N_, error_text
from servicepoint.core.security import csrf_protect, mark_private
from servicepoint.core.templating import render
from servicepoint.errors import (
    PayloadTooLarge,
    ServicePointError,
    Unprocessable,
    UnsupportedMediaType,
)

router = APIRouter(include_in_schema=False)
PRIVATE = Depends(mark_private)
POST = [Depends(csrf_protect), PRIVATE]
REFUSED = (BadToken, NotVideoBooking, TooEarly, LinkExpired, BookingCancelled)
# What a citizen can fix by choosing another file (or by waiting until the call).
FILE_PROBLEMS = (PayloadTooLarge, UnsupportedMediaType, Unprocessable, NotAdmitted, TooManyUploads)
NO_FILE = N_("Bitte wählen Sie eine Datei aus.")
Rating = Annotated[int, Form(ge=1, le=5)]
# The link's token as the path has it: any text up to a bound far above a real token's length.
# Only a genuine token opens anything (an HMAC the service checks first, before the database), so
# a malformed one gets the same 403 `bad_token` page as a wrong one, not a 422 about the path.
Token = Annotated[str, StringConstraints(max_length=200)]
Mode = Annotated[Literal["audio", "phone"], Form()]


class NoFile(Unprocessable):
    code = "no_file"


def _wants_json(request: Request) -> bool:
    """The page's script asks for JSON; a plain form (no JavaScript) gets a page back."""
    return "application/json" in request.headers.get("accept", "")


def _lang(request: Request) -> str:
    return str(getattr(request.state, "lang", "de"))


def _refused(request: Request, exc: ServicePointError) -> HTMLResponse:
    """Why this link does not open (now), in the page's language, with the status it earns."""
    context = {"code": exc.code, "detail": error_text(exc, _lang(request)), "hide_widget": True}
    return render(request, "consultation/refused.html", context, status_code=exc.status_code)


def _open(session: Session, request: Request, token: str) -> Joined:
    settings = request.app.state.settings
    return consultation_service.open_join(session, token=token, settings=settings)


def _limited(request: Request) -> None:
    access.check_rate(request, "post")  # before the database: one budget for all posts


def _back(token: str, flag: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/video/{token}?{flag}=1{anchor}", status_code=303)


@router.get("/video/{token}", response_class=HTMLResponse, dependencies=[PRIVATE])
def join_page(token: Token, request: Request, session: Session = SessionDep) -> HTMLResponse:
    """The citizen's waiting room and call; opening the link is the knock."""
    try:
        joined = _open(session, request, token)
    except REFUSED as exc:
        return _refused(request, exc)
    context = join_view(session, request, joined, token)
    return render(request, "consultation/join.html", context)


@router.get("/video/gast/{token}", response_class=HTMLResponse, dependencies=[PRIVATE])
def guest_page(token: Token, request: Request, session: Session = SessionDep) -> HTMLResponse:
    """An interpreter's or second clerk's way into the call (a staff-issued link)."""
    settings = request.app.state.settings
    try:
        joined = consultation_service.open_guest(session, token=token, settings=settings)
    except REFUSED as exc:
        return _refused(request, exc)
    return render(request, "consultation/guest.html", guest_view(request, joined, token))


@router.post("/video/{token}/dokument", response_model=None, dependencies=POST)
def upload(
    token: Token,
    request: Request,
    background: BackgroundTasks,
    dokument: UploadFile | None = File(default=None),
    session: Session = SessionDep,
) -> Response:
    """Send a document (PDF, JPEG, PNG) to the clerk during the call."""
    _limited(request)
    joined = _open(session, request, token)
    try:
        row = _store(session, request, joined, dokument)
    except FILE_PROBLEMS as exc:
        if _wants_json(request):
            raise
        context = join_view(
            session, request, joined, token, upload_error=error_text(exc, _lang(request))
        )
        return render(request, "consultation/join.html", context, status_code=exc.status_code)
    message = {
        "kind": "upload",
        "from": "citizen",
        "id": row.id,
        "name": row.filename,
        "size": row.size,
    }
    hub.notify(background, request, joined.booking.code, message)
    if _wants_json(request):
        return JSONResponse({"id": row.id, "name": row.filename, "size": row.size}, status_code=201)
    return _back(token, "dokument", "#upload-title")


def _store(
    session: Session, request: Request, joined: Joined, file: UploadFile | None
) -> ConsultationUpload:
    if file is None or not (file.filename or file.size):
        raise NoFile(NO_FILE)
    file.file.seek(0)
    return consultation_service.add_upload(
        session,
        consultation_id=joined.consultation.id,
        source=file.file,
        filename=file.filename or "",
        settings=request.app.state.settings,
        sender="citizen",
    )


@router.post("/video/{token}/beenden", response_model=None, dependencies=POST)
def end_call(
    token: Token, request: Request, background: BackgroundTasks, session: Session = SessionDep
) -> Response:
    """The citizen hangs up: the call ends for everyone, then the rating. Still waiting (a
    stale page, a send-back just now, a form without script): they only leave the queue, and
    reloading the page brings them back; the appointment stays theirs."""
    _limited(request)
    joined = _open(session, request, token)
    if joined.consultation.state != "admitted":
        return _left(session, request, background, joined, token)
    code = joined.booking.code
    try:
        consultation_service.end(session, code=code, clerk=None)
    except StateConflict:
        state = consultation_service.state_of(session, code=code)
        if state == "waiting":  # sent back meanwhile: leave the queue, as above
            return _left(session, request, background, joined, token)
        if state != "ended":
            raise
    else:
        hub.notify(background, request, code, {"kind": "ended"})
    if _wants_json(request):
        return JSONResponse({"state": "ended"})
    return _back(token, "beendet", "#ended-title")


def _left(
    session: Session, request: Request, background: BackgroundTasks, joined: Joined, token: str
) -> Response:
    """Out of the queue: the tab holding the entry lets go of it (an ended call stays ended)."""
    consultation = joined.consultation
    if consultation.state == "ended":
        state = "ended"
    else:
        holder = consultation.connection or ""
        consultation_service.leave(session, consultation_id=consultation.id, connection=holder)
        hub.notify_staff(background, request)
        state = "left"
    if _wants_json(request):
        return JSONResponse({"state": state})
    if state == "left":
        return _back(token, "verlassen", "#left-queue")
    return _back(token, "beendet", "#ended-title")


@router.post("/video/{token}/bewertung", response_model=None, dependencies=POST)
def rate(token: Token, request: Request, rating: Rating, session: Session = SessionDep) -> Response:
    """One click after the call: how satisfied the citizen was (1 to 5)."""
    _limited(request)
    joined = _open(session, request, token)
    try:
        consultation_service.rate(session, consultation_id=joined.consultation.id, rating=rating)
    except AlreadyRated:
        if _wants_json(request):
            raise
    if _wants_json(request):
        return JSONResponse({"rating": rating})
    return _back(token, "bewertet", "#ended-title")


@router.post("/video/{token}/ausweichen", response_model=None, dependencies=POST)
def fallback(token: Token, request: Request, mode: Mode, session: Session = SessionDep) -> Response:
    """The citizen went on with sound only or by phone (when the WebSocket is gone too)."""
    _limited(request)
    joined = _open(session, request, token)
    consultation_service.record_fallback(session, consultation_id=joined.consultation.id, mode=mode)
    if _wants_json(request):
        return Response(status_code=204)
    return _back(token, "ausweichen", "#fallback-title")
