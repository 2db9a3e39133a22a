"""E-mails about an application: one at each status change, in the case's language.

They go through the one outbox (appointment.mail.queue_text_mail, no booking): the row is
written with its subject and body at once, so the worker sends it as it is and the text says
what was true at that moment. A mail states what the citizen entered and what was decided,
never what the registers hold about them: the findings stay on the status page.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from servicepoint.appointment import mail as outbox
from servicepoint.casework import documents
from servicepoint.casework.models import Application
from servicepoint.config import Settings
from servicepoint.core import i18n
from servicepoint.core.clock import BERLIN
from servicepoint.core.i18n import N_
from servicepoint.core.templating import euro

# kind → (subject, what happened); %(service)s is the service's name in the case's language.
TEXTS = {
    "submitted": (
        N_("Ihr Antrag ist eingegangen: %(service)s"),
        N_(
            "Ihr Antrag ist bei uns eingegangen. Wir prüfen ihn und schreiben Ihnen, "
            "sobald er entschieden ist."
        ),
    ),
    "in_review": (
        N_("Ihre Unterlage ist eingegangen: %(service)s"),
        N_("Vielen Dank, Ihre Unterlage ist eingegangen. Wir prüfen Ihren Antrag weiter."),
    ),
    "approved": (
        N_("Ihr Antrag ist bewilligt: %(service)s"),
        N_("Ihr Antrag ist bewilligt. Ihr Dokument können Sie auf der Statusseite herunterladen."),
    ),
    "waiting": (
        N_("Bitte reichen Sie eine Unterlage nach: %(service)s"),
        N_(
            "Für Ihren Antrag brauchen wir noch eine Unterlage. "
            "Bitte laden Sie sie auf der Statusseite hoch."
        ),
    ),
    "reminder": (
        N_("Erinnerung: Bitte reichen Sie eine Unterlage nach: %(service)s"),
        N_(
            "Für Ihren Antrag fehlt noch eine Unterlage. Bitte laden Sie sie bis zur Frist auf "
            "der Statusseite hoch; danach entscheidet eine Mitarbeiterin oder ein Mitarbeiter "
            "ohne sie."
        ),
    ),
    "rejected": (
        N_("Entscheidung über Ihren Antrag: %(service)s"),
        N_("Ihr Antrag wurde abgelehnt."),
    ),
}
KINDS = tuple(TEXTS)


def status_url(base_url: str, code: str) -> str:
    """The citizen's status page of a case (what every mail links to)."""
    return f"{base_url.rstrip('/')}/antrag/status/{code}"


def _fee_line(case: Application, lang: str) -> str | None:
    if not case.fee_cents:
        return None
    token = i18n.current_lang.set("en" if lang == "en" else "de")
    try:
        amount = euro(case.fee_cents)
    finally:
        i18n.current_lang.reset(token)
    text = i18n.translate(lang, N_("Gebühr: %(amount)s (zu zahlen bei Abholung oder auf Rechnung)"))
    if case.payment.get("method") not in (None, "invoice"):
        text = i18n.translate(lang, N_("Gebühr: %(amount)s"))
    return text % {"amount": amount}


def _detail_lines(case: Application, kind: str, lang: str) -> list[str]:
    """What staff wrote for the citizen: the document asked for, or the reason of a rejection."""
    if kind in ("waiting", "reminder") and case.requested_upload:
        lines = [f"{i18n.translate(lang, N_('Benötigt wird'))}: {case.requested_upload}"]
        if case.due_at is not None:
            due = case.due_at.astimezone(BERLIN).strftime("%d.%m.%Y")
            lines.append(f"{i18n.translate(lang, N_('Frist'))}: {due}")
        return [*lines, ""]
    if kind == "rejected" and case.decision_reason:
        return [f"{i18n.translate(lang, N_('Begründung'))}: {case.decision_reason}", ""]
    return []


def compose(
    case: Application, *, kind: str, service_name: str, settings: Settings
) -> tuple[str, str]:
    """Subject and plain-text body of one status mail, in the case's language."""
    lang = case.lang

    def t(text: str) -> str:
        return i18n.translate(lang, text)

    subject_id, happened = TEXTS[kind]
    name = " ".join(str(case.applicant.get(k) or "") for k in ("given_name", "family_name"))
    lines = [
        t(N_("Guten Tag %(name)s,")) % {"name": name.strip()},
        "",
        t(happened),
        "",
        f"{t(N_('Leistung'))}: {service_name}",
        f"{t(N_('Vorgangsnummer'))}: {documents.grouped(case.code)}",
    ]
    fee = _fee_line(case, lang) if kind in ("submitted", "approved") else None
    lines += [fee, ""] if fee else [""]
    lines += _detail_lines(case, kind, lang)
    lines += [f"{t(N_('Stand Ihres Antrags'))}: {status_url(settings.base_url, case.code)}", ""]
    lines.append(settings.site_name)
    return t(subject_id) % {"service": service_name}, "\n".join(lines)


def queue_status_mail(
    session: Session,
    *,
    case: Application,
    kind: str,
    service_name: str,
    settings: Settings,
    now: dt.datetime | None = None,
) -> None:
    """Put one status mail into the outbox (none when the case has no address)."""
    recipient = case.applicant.get("email")
    if not recipient:
        return
    subject, body = compose(case, kind=kind, service_name=service_name, settings=settings)
    outbox.queue_text_mail(
        session,
        kind=f"case_{kind}",
        recipient=recipient,
        subject=subject,
        body=body,
        send_after=now,
    )
