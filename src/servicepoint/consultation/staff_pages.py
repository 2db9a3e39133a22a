"""Staff console of video consultations: today's video appointments, the waiting room in
appointment order, admitting one person at a time, and the call's actions (send back, guest
link, note, handover, end) and the documents received.

Every page needs the staff role; every form posts with the CSRF token; the answers are private
(no-store, set by the account dependency). Each action calls one service function, and only
after the request's commit does the hub tell the open connections (citizen, guests, consoles),
so nobody reacts to a change that was rolled back. The console's script posts the same forms
with fetch and `Accept: application/json`: it gets JSON and stays in the call. Without script a
form gets 303 back to the console with a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from servicepoint.account.deps import require
from servicepoint.account.models import User
from servicepoint.casework.staff_pages import attachment
from servicepoint.consultation import followup, hub, service
from servicepoint.consultation.schemas import CallEntry
from servicepoint.core.clock import utcnow
from servicepoint.core.db import SessionDep
from servicepoint.core.i18n import N_, error_text, translate, translations
from servicepoint.core.inputs import Code, Id, LongText
from servicepoint.core.security import csrf_protect
from servicepoint.core.templating import render
from servicepoint.errors import Conflict, ServicePointError

router = APIRouter(include_in_schema=False)
BASE = "/mitarbeiter/video"
STAFF = Depends(require("staff"))
CSRF = [Depends(csrf_protect)]

# ?ok=<key> after an action names what was done; an unknown key shows nothing.
DONE = {
    "eingelassen": N_(
        "Die Person ist eingetreten. Das Gespräch beginnt, sobald die Verbindung steht."
    ),
    "zurueck": N_("Die Person wartet wieder im Wartebereich."),
    "beendet": N_("Die Videoberatung ist beendet."),
    "gast": N_("Der Gast-Link ist erstellt. Ein früherer Gast-Link gilt nicht mehr."),
    "notiz": N_("Die Notiz ist im Vorgang gespeichert."),
    "uebergabe": N_(
        "Der Link steht im Chat und geht per E-Mail an die Person, wenn ihre Adresse bekannt ist."
    ),
}
BUSY = N_(
    "Sie sind noch in einem Gespräch. Beenden Sie es oder schicken Sie die Person zurück, "
    "bevor Sie die nächste Person eintreten lassen."
)
OkKey = Annotated[str, Query(max_length=20)]
HandoverTo = Literal["appointment", "application"]
# What the citizen's page does once the action is done (the hub's control message).
CONTROL = {"eingelassen": "admitted", "zurueck": "returned", "beendet": "ended"}
# The states of today's video appointments as the clerk reads them.
STATE_NAMES = {
    "booked": N_("noch nicht da"),
    "waiting": N_("wartet"),
    "admitted": N_("im Gespräch"),
    "ended": N_("beendet"),
    "cancelled": N_("abgesagt"),
}
# What the console's script writes into the page (it has no catalog of its own).
JS_TEXTS = {
    "admit": N_("Eintreten lassen"),
    "no_name": N_("ohne Namen"),
    "at": N_("Termin %(time)s Uhr"),
    "waited": N_("wartet seit %(num)d Min."),
    "citizen": N_("Bürgerin oder Bürger"),
    "guest": N_("Gast %(n)s"),
    "me": N_("Sie"),
    "upload": N_("Dokument erhalten: %(name)s"),
    "copied": N_("Der Link ist kopiert."),
    "offline": N_("Die Verbindung zum Server ist unterbrochen. Laden Sie die Seite neu."),
    "replaced": N_("Die Konsole ist in einem anderen Fenster geöffnet; dieses ist getrennt."),
    "failed": N_("Das hat nicht geklappt. Bitte laden Sie die Seite neu."),
}
SUMMARY = (N_("%(num)d Person wartet."), N_("%(num)d Personen warten."))


# -- the console ---------------------------------------------------------------------------------
def _my_call(session: Session, *, user: User) -> CallEntry | None:
    """The consultation this clerk has admitted and not yet ended (one at a time)."""
    calls = service.in_call(session, now=utcnow())
    return next((c for c in calls if c.clerk_id == user.id), None)


def _call_state(call: CallEntry | None, *, ended: bool) -> str:
    """`data-call-state` of the console, one of API.md's four: in a call, just ended, or
    waiting (for the next person, whether anybody waits yet: see `data-queue`)."""
    if call is not None:
        return "admitted"
    return "ended" if ended else "waiting"


def _texts(lang: str) -> dict[str, Any]:
    """The fixed texts of the console's script in `lang`."""
    texts: dict[str, Any] = {key: translate(lang, msgid) for key, msgid in JS_TEXTS.items()}
    catalog = translations(lang)
    texts["summary"] = [catalog.ngettext(*SUMMARY, n) for n in (1, 2)]
    texts["states"] = {key: translate(lang, msgid) for key, msgid in STATE_NAMES.items()}
    return texts


def console_view(
    session: Session, *, settings: Any, user: User, lang: str, ended: bool = False
) -> dict[str, Any]:
    """Everything the console shows: today's appointments, who waits, and the clerk's call."""
    now = utcnow()
    waiting = service.waiting_room(session, settings=settings, now=now, lang=lang)
    call = _my_call(session, user=user)
    consultation = service.by_code(session, code=call.code)[0] if call is not None else None
    uploads = followup.uploads_of(session, consultation_id=consultation.id) if consultation else []
    return {
        "today": service.today(session, now=now),
        "waiting": waiting,
        "call": call,
        "note": consultation.note if consultation else None,
        "uploads": uploads,
        "call_state": _call_state(call, ended=ended),
        "queue": "waiting" if waiting else "empty",
        "state_names": {key: translate(lang, msgid) for key, msgid in STATE_NAMES.items()},
        "js_texts": _texts(lang),
        "base": BASE,
        "hide_widget": True,  # the assistant's chat bubble would cover the call's controls
    }


def _console(
    request: Request,
    session: Session,
    user: User,
    *,
    done: str = "",
    error: str = "",
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    settings = request.app.state.settings
    context = console_view(
        session, settings=settings, user=user, lang=request.state.lang, ended=done == "beendet"
    )
    message = translate(request.state.lang, DONE[done]) if done in DONE else ""
    context.update(done=message, error=error, **extra)
    return render(request, "consultation/console.html", context, status_code=status_code)


@router.get(BASE, response_class=HTMLResponse)
def console(
    request: Request, ok: OkKey = "", user: User = STAFF, session: Session = SessionDep
) -> HTMLResponse:
    """Today's video appointments, the waiting room and the clerk's own call."""
    return _console(request, session, user, done=ok)


# -- actions -------------------------------------------------------------------------------------
def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _done(request: Request, session: Session, user: User, key: str, **extra: Any) -> Response:
    """The answer to a finished action: JSON for the script (with the call's panel to put in
    place and the console's new state), else back to the console."""
    if not _wants_json(request):
        if "guest_url" in extra:  # shown once: the console itself, not a redirect
            return _console(request, session, user, done=key, **extra)
        return RedirectResponse(f"{BASE}?ok={key}", status_code=303)
    settings = request.app.state.settings
    context = console_view(
        session, settings=settings, user=user, lang=request.state.lang, ended=key == "beendet"
    )
    context.update(extra)
    panel = bytes(render(request, "consultation/console_call.html", context).body).decode()
    message = translate(request.state.lang, DONE[key])
    body = {
        "ok": key,
        "message": message,
        "state": context["call_state"],
        "queue": context["queue"],
        "panel": panel,
    }
    return JSONResponse(body | extra)


def _act(
    request: Request,
    background: BackgroundTasks,
    session: Session,
    user: User,
    *,
    code: str,
    key: str,
    action: Callable[[], object],
) -> Response:
    """Run one service call. Refused (someone else was quicker, the person left): the console
    again with the reason (JSON for the script); the savepoint drops anything half done."""
    try:
        with session.begin_nested():
            result = action()
    except ServicePointError as exc:
        if _wants_json(request):
            raise  # the shared handler answers {"error", "detail"} with the status
        message = error_text(exc, request.state.lang)
        return _console(request, session, user, error=message, status_code=exc.status_code)
    if key in CONTROL:
        hub.notify(background, request, code, {"kind": CONTROL[key]})
    extra: dict[str, str] = {}
    if key == "uebergabe":  # the link the citizen was mailed, in the chat as well
        extra = {"link": str(result)}
        hub.notify(
            background, request, code, {"kind": "chat", "from": "clerk", "text": str(result)}
        )
    elif key == "gast":
        extra = {"guest_url": str(result)}
    return _done(request, session, user, key, **extra)


@router.post(BASE + "/{code}/einlassen", response_model=None, dependencies=CSRF)
def admit(
    code: Code,
    request: Request,
    background: BackgroundTasks,
    user: User = STAFF,
    session: Session = SessionDep,
) -> Response:
    """Let one waiting citizen into the call (refused while I am in another call)."""

    def action() -> object:
        # One call at a time per clerk: a second tab or a stale page must not open another.
        # (Belongs in service.admit; kept here until the service checks it itself.)
        if _my_call(session, user=user) is not None:
            raise Conflict(BUSY, code="busy")
        return service.admit(session, code=code, clerk=user, settings=request.app.state.settings)

    return _act(request, background, session, user, code=code, key="eingelassen", action=action)


@router.post(BASE + "/{code}/zurueck", response_model=None, dependencies=CSRF)
def send_back(
    code: Code,
    request: Request,
    background: BackgroundTasks,
    user: User = STAFF,
    session: Session = SessionDep,
) -> Response:
    """Send the admitted citizen back to the waiting room."""

    def action() -> object:
        return service.send_back(session, code=code, clerk=user)

    return _act(request, background, session, user, code=code, key="zurueck", action=action)


@router.post(BASE + "/{code}/beenden", response_model=None, dependencies=CSRF)
def end(
    code: Code,
    request: Request,
    background: BackgroundTasks,
    user: User = STAFF,
    session: Session = SessionDep,
) -> Response:
    """End the consultation (the citizen is then asked for a rating)."""

    def action() -> object:
        return service.end(session, code=code, clerk=user)

    return _act(request, background, session, user, code=code, key="beendet", action=action)


@router.post(BASE + "/{code}/gast", response_model=None, dependencies=CSRF)
def guest_link(
    code: Code,
    request: Request,
    background: BackgroundTasks,
    user: User = STAFF,
    session: Session = SessionDep,
) -> Response:
    """Issue a link for an interpreter or a second clerk; the previous one stops working."""
    settings = request.app.state.settings

    def action() -> object:
        path = service.issue_guest_link(session, code=code, settings=settings, clerk=user)
        return settings.base_url.rstrip("/") + path

    return _act(request, background, session, user, code=code, key="gast", action=action)


@router.post(BASE + "/{code}/notiz", response_model=None, dependencies=CSRF)
def note(
    code: Code,
    request: Request,
    background: BackgroundTasks,
    text: Annotated[LongText, Form()] = "",
    user: User = STAFF,
    session: Session = SessionDep,
) -> Response:
    """Write a short note into the case (seen by staff only)."""

    def action() -> object:
        return service.add_note(session, code=code, text=text, clerk=user)

    return _act(request, background, session, user, code=code, key="notiz", action=action)


@router.post(BASE + "/{code}/uebergabe", response_model=None, dependencies=CSRF)
def handover(
    code: Code,
    request: Request,
    background: BackgroundTasks,
    to: Annotated[HandoverTo, Form()],
    user: User = STAFF,
    session: Session = SessionDep,
) -> Response:
    """Hand over to an appointment in person or an online application: the citizen gets the
    link by e-mail and in the chat."""
    settings = request.app.state.settings

    def action() -> object:
        return service.handover(
            session, code=code, to=to, settings=settings, base_url=settings.base_url, clerk=user
        )

    return _act(request, background, session, user, code=code, key="uebergabe", action=action)


# -- documents -----------------------------------------------------------------------------------
@router.get(BASE + "/{code}/dokumente/{upload_id}")
def download(
    code: Code,
    upload_id: Id,
    request: Request,
    user: User = STAFF,
    session: Session = SessionDep,
) -> Response:
    """A document the citizen sent, always as a download (a browser never runs it inline)."""
    settings = request.app.state.settings
    upload, data = service.upload_for_staff(
        session, code=code, upload_id=upload_id, settings=settings, clerk=user
    )
    headers = {
        "Content-Disposition": attachment(upload.filename),
        "X-Content-Type-Options": "nosniff",
    }
    return Response(data, media_type=upload.content_type, headers=headers)
