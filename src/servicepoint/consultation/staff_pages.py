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

import dataclasses
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from servicepoint.account.deps import require
from servicepoint.account.models import User
from servicepoint.appointment import service as appointment_service
from servicepoint.catalog import service as catalog_service
from servicepoint.config import Settings
from servicepoint.consultation import access, followup, hub, service
from servicepoint.consultation.errors import ConsultationNotFound
from servicepoint.consultation.schemas import CallEntry
from servicepoint.core.clock import utcnow
from servicepoint.core.db import SessionDep
from servicepoint.core.downloads import file_download
from servicepoint.core.i18n import N_, error_text, translate, translations
from servicepoint.core.inputs import Code, Id, LongText
from servicepoint.core.security import csrf_protect
from servicepoint.core.templating import render
from servicepoint.errors import Conflict, NotFound, ServicePointError, Unprocessable

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
FRIENDLY = {"busy": BUSY}
OkKey = Annotated[str, Query(max_length=20)]
ActionName = Annotated[str, Path(max_length=20)]
HANDOVERS = ("appointment", "application")
NO_HANDOVER = N_("Bitte wählen Sie, womit es weitergeht.")
NO_ACTION = N_("Diese Aktion gibt es nicht.")


class InvalidHandover(Unprocessable):
    code = "invalid_handover"


class NoSuchAction(NotFound):
    code = "no_such_action"


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
        if exc.code in FRIENDLY:  # the reason in the console's own words (what to do next)
            exc = Conflict(FRIENDLY[exc.code], code=exc.code)
        if _wants_json(request):
            raise exc from None  # the shared handler answers {"error", "detail"} with the status
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


# The console's actions: one route, one table. `key` names what was done (?ok=, DONE, the
# form's data-action); `own`: only on the clerk's own call (consultation.access: the clerk
# who admitted it, the same rule as the WebSocket's join); each runs one service function.
@dataclasses.dataclass(frozen=True)
class Ask:
    """One action's request: which call, which clerk, and the form's fields."""

    session: Session
    code: str
    clerk: User
    settings: Settings
    text: str
    to: str | None


def _admit(a: Ask) -> object:
    # One call per clerk: the service refuses atomically (409 `busy`).
    return service.admit(a.session, code=a.code, clerk=a.clerk, settings=a.settings)


def _guest(a: Ask) -> object:
    path = service.issue_guest_link(a.session, code=a.code, settings=a.settings, clerk=a.clerk)
    return a.settings.base_url.rstrip("/") + path


def _handover(a: Ask) -> object:
    if a.to not in HANDOVERS:
        raise InvalidHandover(NO_HANDOVER)
    base = a.settings.base_url
    return service.handover(
        a.session, code=a.code, to=a.to, settings=a.settings, base_url=base, clerk=a.clerk
    )


@dataclasses.dataclass(frozen=True)
class Action:
    key: str
    run: Callable[[Ask], object]
    own: bool = True


ACTIONS = {
    "einlassen": Action("eingelassen", _admit, own=False),
    "zurueck": Action(
        "zurueck", lambda a: service.send_back(a.session, code=a.code, clerk=a.clerk)
    ),
    "beenden": Action("beendet", lambda a: service.end(a.session, code=a.code, clerk=a.clerk)),
    "gast": Action("gast", _guest),
    "notiz": Action(
        "notiz", lambda a: service.add_note(a.session, code=a.code, text=a.text, clerk=a.clerk)
    ),
    "uebergabe": Action("uebergabe", _handover),
}


def _checked(ask: Ask, action: Action) -> object:
    if action.own:
        consultation, _ = service.by_code(ask.session, code=ask.code)
        access.ensure_mine(consultation.clerk_id, ask.clerk.id)
    return action.run(ask)


@router.post(BASE + "/{code}/{name}", response_model=None, dependencies=CSRF)
def act(
    code: Code,
    name: ActionName,
    request: Request,
    background: BackgroundTasks,
    text: Annotated[LongText, Form()] = "",
    to: Annotated[str | None, Form(max_length=20)] = None,
    user: User = STAFF,
    session: Session = SessionDep,
) -> Response:
    """Admit, send back, end, guest link, note or handover (ACTIONS) on the call `code`."""
    action = ACTIONS.get(name)
    if action is None:
        raise NoSuchAction(NO_ACTION)
    ask = Ask(session, code, user, request.app.state.settings, text, to)
    return _act(
        request,
        background,
        session,
        user,
        code=code,
        key=action.key,
        action=lambda: _checked(ask, action),
    )


# -- the call's record -----------------------------------------------------------------------------
HANDOVER_NAMES = {
    "appointment": N_("an einen Termin vor Ort"),
    "application": N_("an einen Online-Antrag"),
}


def record_view(session: Session, *, code: str, lang: str) -> dict[str, Any]:
    """What a call left for the case, until its retention ends: when and what, its state, the
    note, the documents, the rating and the handover (an unopened link: the booking only)."""
    booking = appointment_service.get_booking(session, code=code)
    try:
        consultation, _ = service.by_code(session, code=code)
    except ConsultationNotFound:
        consultation = None
    found = catalog_service.services_by_ids(session, ids=booking.service_ids)
    names = [getattr(found[i], f"name_{lang}") for i in booking.service_ids if i in found]
    state = consultation.state if consultation else "booked"
    handover = consultation.handover if consultation else None
    return {
        "booking": booking,
        "consultation": consultation,
        "services": names,
        "state": translate(lang, STATE_NAMES.get(state, STATE_NAMES["booked"])),
        "uploads": followup.uploads_of(session, consultation_id=consultation.id)
        if consultation
        else [],
        "handover": translate(lang, HANDOVER_NAMES[handover]) if handover else None,
        "base": BASE,
    }


@router.get(BASE + "/{code}", response_class=HTMLResponse)
def record(
    code: Code, request: Request, user: User = STAFF, session: Session = SessionDep
) -> HTMLResponse:
    """A video appointment's record: note and documents, also after the call."""
    context = record_view(session, code=code, lang=request.state.lang)
    return render(request, "consultation/record.html", context)


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
    return file_download(data, filename=upload.filename, content_type=upload.content_type)
