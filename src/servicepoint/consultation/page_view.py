"""What the citizen's and the guest's video pages show: the call's state, the own place in the
queue, the texts the browser script needs (in the page's language) and its configuration.

The status sentences are built here for the first render and by join.js from the same texts
for every live update, so both say the same thing. Only the citizen's own place and estimate
appear: never anything about the people ahead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from servicepoint.config import Settings
from servicepoint.consultation import service as consultation_service
from servicepoint.consultation.schemas import Joined, Place
from servicepoint.core import i18n
from servicepoint.core.i18n import N_

# The consultation's state as the page's <main data-call-state> says it (API.md); an open page
# has knocked, so "booked" shows as waiting. "connected" is set by the browser (rtc.js).
CALL_STATES = {"booked": "waiting", "waiting": "waiting", "admitted": "admitted", "ended": "ended"}
NO_PLACE = Place(position=None, estimate_minutes=None, late=False)
ACCEPT = "application/pdf,image/jpeg,image/png"

RATINGS = (
    (1, N_("1 – sehr unzufrieden")),
    (2, N_("2 – unzufrieden")),
    (3, N_("3 – teils, teils")),
    (4, N_("4 – zufrieden")),
    (5, N_("5 – sehr zufrieden")),
)

# Texts of the browser script. Placeholders in braces ({n}) are filled in by the script.
TEXTS: Mapping[str, str] = {
    # the own place in the queue
    "place": N_("Ihr Platz in der Warteschlange: {position}"),
    "place_unknown": N_("Ihr Platz in der Warteschlange wird ermittelt …"),
    "ahead_none": N_("Vor Ihnen wartet niemand."),
    "ahead_one": N_("Vor Ihnen wartet eine Person."),
    "ahead_many": N_("Vor Ihnen warten {n} Personen."),
    "wait_soon": N_("Es geht gleich los."),
    "wait_one": N_("Geschätzte Wartezeit: etwa eine Minute."),
    "wait_many": N_("Geschätzte Wartezeit: etwa {minutes} Minuten."),
    "late": N_("Ihr Termin verzögert sich. Bitte entschuldigen Sie die Wartezeit."),
    "admitted": N_("Sie sind im Gespräch. Die Verbindung wird aufgebaut …"),
    "connected": N_("Sie sind im Gespräch. Die Verbindung steht."),
    "ended": N_("Das Gespräch ist beendet."),
    "returned": N_("Die Sachbearbeitung hat Sie in den Wartebereich zurückgeschickt."),
    "replaced": N_(
        "Diese Seite wurde in einem anderen Tab geöffnet. Hier ist das Gespräch beendet; "
        "Kamera und Mikrofon sind ausgeschaltet."
    ),
    "offline": N_("Die Verbindung zum Server ist unterbrochen. Wir versuchen es weiter …"),
    "refused": N_("Dieser Link gilt nicht (mehr). Bitte laden Sie die Seite neu."),
    "left": N_("Sie haben das Gespräch verlassen."),
    "left_queue": N_(
        "Sie haben den Wartebereich verlassen. Ihr Termin bleibt bestehen: Laden Sie diese "
        "Seite neu, um wieder in den Wartebereich zu kommen."
    ),
    # camera and microphone
    "devices_ok": N_("Kamera und Mikrofon funktionieren."),
    "device_blocked": N_(
        "Ihr Browser hat den Zugriff auf Kamera oder Mikrofon blockiert. So erlauben Sie ihn: "
        "Klicken Sie in der Adresszeile auf das Schloss- oder Kamerasymbol, stellen Sie Kamera "
        "und Mikrofon auf „Erlauben“ und laden Sie die Seite neu. Auf dem Handy finden Sie das "
        "in den Einstellungen des Browsers unter „Website-Einstellungen“."
    ),
    "device_missing": N_(
        "Wir finden keine Kamera oder kein Mikrofon. Schließen Sie ein Gerät an oder nehmen Sie "
        "ein Handy, und versuchen Sie es dann noch einmal."
    ),
    "device_busy": N_(
        "Kamera oder Mikrofon werden gerade von einem anderen Programm benutzt. Schließen Sie "
        "es und versuchen Sie es noch einmal."
    ),
    "device_unsupported": N_(
        "Dieser Browser kann keine Videogespräche führen. Nehmen Sie einen aktuellen Browser, "
        "zum Beispiel Firefox, Chrome, Edge oder Safari."
    ),
    "device_failed": N_("Kamera und Mikrofon lassen sich nicht starten."),
    "camera_only_failed": N_(
        "Ihre Kamera lässt sich nicht starten, Ihr Mikrofon schon. Sie können nur mit Ton "
        "teilnehmen."
    ),
    "camera_n": N_("Kamera {n}"),
    "microphone_n": N_("Mikrofon {n}"),
    "ice_failed": N_(
        "Die Videoverbindung kommt nicht zustande, zum Beispiel wegen einer Firewall. Versuchen "
        "Sie es nur mit Ton oder rufen Sie uns an."
    ),
    "audio_failed": N_("Auch nur mit Ton kommt keine Verbindung zustande. Bitte rufen Sie uns an."),
    "audio_only_on": N_("Sie nehmen nur mit Ton teil."),
    # people and chat
    "you": N_("Sie"),
    "clerk": N_("Sachbearbeitung"),
    "citizen": N_("Bürgerin oder Bürger"),
    "guest": N_("Gast {n}"),
    "server": N_("Hinweis"),
    "chat_failed": N_("Die Nachricht konnte nicht gesendet werden: keine Verbindung."),
    # documents and rating
    "upload_choose": N_("Bitte wählen Sie eine Datei aus."),
    "upload_sending": N_("Wird gesendet …"),
    "upload_sent": N_("Gesendet: {name}"),
    "upload_too_large": N_("Die Datei ist zu groß. Erlaubt sind höchstens {mb} MB."),
    "upload_failed": N_("Das Senden hat nicht geklappt. Bitte versuchen Sie es noch einmal."),
    "rating_thanks": N_("Vielen Dank für Ihre Bewertung!"),
    "rating_failed": N_("Die Bewertung konnte nicht gesendet werden."),
}


def texts(lang: str) -> dict[str, str]:
    return {key: i18n.translate(lang, msgid) for key, msgid in TEXTS.items()}


def status_lines(words: Mapping[str, str], state: str, place: Place) -> list[str]:
    """What the live status region says; join.js builds the same from each `state` frame."""
    if state != "waiting":
        return [words.get(state, "")]
    if place.position is None:
        return [words["place_unknown"]]
    ahead = place.position - 1
    lines = [words["place"].replace("{position}", str(place.position))]
    lines.append(
        words["ahead_none"]
        if ahead == 0
        else words["ahead_one"]
        if ahead == 1
        else words["ahead_many"].replace("{n}", str(ahead))
    )
    if place.late:
        lines.append(words["late"])
    minutes = place.estimate_minutes
    if minutes is not None:
        lines.append(
            words["wait_soon"]
            if minutes == 0
            else words["wait_one"]
            if minutes == 1
            else words["wait_many"].replace("{minutes}", str(minutes))
        )
    return lines


def _place(session: Session, joined: Joined, settings: Settings) -> Place:
    if joined.consultation.state != "waiting":
        return NO_PLACE
    return consultation_service.place(
        session, consultation_id=joined.consultation.id, settings=settings
    )


def _common(request: Request, joined: Joined, base: str, state: str) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    lang = str(getattr(request.state, "lang", "de"))
    words = texts(lang)
    max_mb = f"{settings.upload_max_bytes / 1_000_000:g}"
    config = {
        "role": "guest" if joined.guest else "citizen",
        "ws": f"{base}/ws",
        "base": base,
        "state": state,
        "maxBytes": settings.upload_max_bytes,
        "maxMb": max_mb,
        "text": words,
    }
    return {
        "joined": joined,
        "booking": joined.booking,
        "services": joined.services,
        "base": base,
        "call_state": state,
        "config": config,
        "texts": words,
        "max_mb": max_mb,
        "accept": ACCEPT,
        "retention_days": settings.video_upload_retention_days,
        "booking_days": settings.booking_retention_days,
        "relay": any("turn" in str(s.get("urls", "")) for s in settings.video_ice_servers),
        "hide_widget": True,  # the floating assistant would cover the call's buttons on a phone
    }


def join_view(
    session: Session, request: Request, joined: Joined, token: str, **extra: Any
) -> dict[str, Any]:
    """The citizen's page: waiting room, call and rating, by the consultation's state."""
    state = CALL_STATES.get(joined.consultation.state, "waiting")
    context = _common(request, joined, f"/video/{token}", state)
    place = _place(session, joined, request.app.state.settings)
    context.update(
        place=place,
        status=status_lines(context["texts"], state, place),
        ratings=RATINGS,
        rated=joined.consultation.rating is not None,
        **extra,
    )
    return context


def guest_view(request: Request, joined: Joined, token: str) -> dict[str, Any]:
    """The guest's page (interpreter, second clerk): straight into the call."""
    state = "ended" if joined.consultation.state == "ended" else "admitted"
    context = _common(request, joined, f"/video/gast/{token}", state)
    context["status"] = status_lines(context["texts"], state, NO_PLACE)
    return context
