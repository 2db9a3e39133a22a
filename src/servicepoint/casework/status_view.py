"""What the citizen's status page says about a case, in plain words; pure (no database, no web).

The citizen sees the status, each rule's finding with its reason, and the fee. The trace (which
register value a rule read) stays with staff: it may hold other people's register data.
"""

from __future__ import annotations

from dataclasses import dataclass

from servicepoint.casework import logic
from servicepoint.casework.models import CLOSED, Application
from servicepoint.core.i18n import N_, translate

# status → (headline, what it means for the citizen)
STATUS_TEXT = {
    "draft": (
        N_("Entwurf – noch nicht abgesendet"),
        N_("Sie haben diesen Antrag noch nicht abgesendet. Sie können ihn weiter ausfüllen."),
    ),
    "submitted": (
        N_("Eingegangen"),
        N_("Ihr Antrag ist bei uns eingegangen und wird gleich geprüft."),
    ),
    "in_review": (
        N_("In Prüfung"),
        N_(
            "Eine Mitarbeiterin oder ein Mitarbeiter prüft Ihren Antrag. Wir schreiben Ihnen, "
            "sobald er entschieden ist."
        ),
    ),
    "waiting": (
        N_("Wartet auf Unterlagen"),
        N_(
            "Wir brauchen noch ein Dokument von Ihnen. Bitte laden Sie es unten hoch; danach "
            "prüfen wir Ihren Antrag weiter."
        ),
    ),
    "approved": (
        N_("Bewilligt"),
        N_("Ihr Antrag ist bewilligt. Ihr Dokument können Sie unten herunterladen."),
    ),
    "rejected": (
        N_("Abgelehnt"),
        N_("Ihr Antrag wurde abgelehnt. Die Begründung steht unten."),
    ),
}

# A rule's outcome in words and a sign beside them (colour is never the only sign).
OUTCOME_TEXT = {
    "review": (N_("Wird von uns geprüft"), "?"),
    "reject": (N_("Nicht erfüllt"), "✖"),
}
CHECKED = N_("Von uns geprüft")  # a "review" finding once staff have decided

PAYMENT_TEXT = {
    "open": N_("noch offen"),
    "paid": N_("bezahlt"),
    "failed": N_("Zahlung fehlgeschlagen"),
    "cancelled": N_("entfällt"),
}
METHOD_TEXT = {"invoice": N_("Sie zahlen bei Abholung oder auf Rechnung.")}


@dataclass(frozen=True)
class StatusView:
    key: str
    headline: str
    meaning: str


@dataclass(frozen=True)
class FindingView:
    outcome: str  # pass | review | reject: the CSS class
    icon: str
    outcome_text: str
    detail: str


@dataclass(frozen=True)
class PaymentView:
    known: bool  # False: the fee is not known ("nicht bekannt", never a guess)
    cents: int | None
    state: str  # in words; "" when nothing is to be paid
    method: str
    url: str | None


def status_of(case: Application, *, lang: str) -> StatusView:
    headline, meaning = STATUS_TEXT.get(case.status, STATUS_TEXT["submitted"])
    return StatusView(case.status, translate(lang, headline), translate(lang, meaning))


@dataclass(frozen=True)
class FindingsView:
    passed: int  # rules without a finding
    open: list[FindingView]  # what needs a human, with its reason

    @property
    def total(self) -> int:
        return self.passed + len(self.open)


def findings_of(case: Application, *, lang: str) -> FindingsView:
    """The rules' findings in the page's language (the case keeps both languages), the register
    checks folded into one neutral line (logic.citizen_findings). A reason says what a failed
    check means, so only those are worded; passed checks are counted."""
    passed, shown = 0, []
    for finding in logic.citizen_findings(case.findings, case.trace):
        outcome = str(finding.get("outcome", "review"))
        if outcome == "pass":
            passed += 1
            continue
        words, icon = OUTCOME_TEXT.get(outcome, OUTCOME_TEXT["review"])
        if outcome != "reject" and case.status in CLOSED:
            words = CHECKED
        detail = finding.get("detail_en") if lang == "en" else None
        shown.append(
            FindingView(
                outcome=outcome if outcome in OUTCOME_TEXT else "review",
                icon=icon,
                outcome_text=translate(lang, words),
                detail=str(detail or finding.get("detail") or ""),
            )
        )
    return FindingsView(passed, shown)


def payment_of(case: Application, *, lang: str) -> PaymentView:
    payment = case.payment or {}
    state = PAYMENT_TEXT.get(str(payment.get("state", "")))
    method = METHOD_TEXT.get(str(payment.get("method", "")))
    url = payment.get("url")
    return PaymentView(
        known=case.fee_cents is not None,
        cents=case.fee_cents,
        state=translate(lang, state) if state and case.fee_cents else "",
        method=translate(lang, method) if method and case.fee_cents else "",
        url=str(url) if isinstance(url, str) and url.startswith("https://") else None,
    )
