"""The steps every path through a case shares: run the rules on submission, decide (by the
machine or by staff), issue the document, tell the citizen, count anonymously.

Citizen functions (casework.service) and staff functions (casework.staff) call these; nothing
here is called from a route directly. Like every service function: never commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import update
from sqlalchemy.orm import Session

from servicepoint.casework import documents, documents_store, logic, mail, payment, registers
from servicepoint.casework.errors import CaseClosed, FormNotFound
from servicepoint.casework.formspec import APPLICANT_FIELDS, FormSpec, forms_of
from servicepoint.casework.models import Application
from servicepoint.catalog import service as catalog_service
from servicepoint.config import Settings
from servicepoint.core import events, i18n
from servicepoint.core.clock import utcnow
from servicepoint.core.i18n import N_

DEFAULT_RETENTION_DAYS = 180  # a case whose form file was withdrawn keeps the usual period
DEFAULT_TIME_LIMIT_DAYS = 5  # and staff's usual time limit


def form_for(settings: Settings, service_id: str) -> FormSpec:
    """The service's online form (the city's forms folder); 404 when it has none."""
    form = forms_of(settings.city_dir).get(service_id)
    if form is None:
        raise FormNotFound(N_("Für diese Leistung gibt es keinen Online-Antrag."))
    return form


def staff_due(settings: Settings, case: Application, now: dt.datetime) -> dt.datetime:
    """When staff should have decided a case that (again) waits for them from `now`."""
    try:
        days = form_for(settings, case.service_id).time_limit_days
    except FormNotFound:
        days = DEFAULT_TIME_LIMIT_DAYS
    return now + dt.timedelta(days=days)


# --- the catalog's side: the service's name and its fees ---------------------------------------


def service_name(session: Session, service_id: str, lang: str) -> str:
    svc = catalog_service.services_by_ids(session, ids=[service_id]).get(service_id)
    if svc is None:
        return service_id
    return svc.name_en if lang == "en" else svc.name_de


@dataclass(frozen=True)
class FeeItem:
    label: str
    cents: int
    times: int

    @property
    def total(self) -> int:
        return self.cents * self.times


def fee_items(
    session: Session, form: FormSpec, values: Mapping[str, Any], lang: str
) -> list[FeeItem] | None:
    """The catalog's fee items these answers owe; None when the fee is not known (the form
    names no fee, or one the catalog does not list): shown as unknown, never guessed."""
    if not form.fee:
        return None
    svc = catalog_service.services_by_ids(session, ids=[form.service_id]).get(form.service_id)
    catalog: list[dict[str, Any]] = list(svc.data.get("fees", [])) if svc else []
    items = []
    for index, times in logic.fee_items(form, values):
        if index >= len(catalog):
            return None
        entry = catalog[index]
        items.append(FeeItem(i18n.pick(entry["label"], lang), int(entry["amount_cents"]), times))
    return items


def fee_total(items: list[FeeItem] | None) -> int | None:
    return None if items is None else sum(item.total for item in items)


# --- submission ---------------------------------------------------------------------------------


def split_answers(answers: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(applicant, data): the built-in applicant step's answers and the form's own."""
    applicant = {k: v for k, v in answers.items() if k in APPLICANT_FIELDS}
    data = {k: v for k, v in answers.items() if k not in APPLICANT_FIELDS}
    return applicant, data


def _records(
    settings: Settings,
    form: FormSpec,
    applicant: Mapping[str, Any],
    data: Mapping[str, Any],
    today: dt.date,
) -> dict[str, Any]:
    if not form.lookups:
        return {}
    found = registers.registers_of(settings.city_dir)
    return registers.lookup_facts(found, form.lookups, applicant, data, today)


def run_submission(
    session: Session,
    *,
    settings: Settings,
    case: Application,
    form: FormSpec,
    answers: Mapping[str, Any],
    today: dt.date,
) -> Application:
    """Checked answers in, decision out: the rules run against the registers, the fee is
    recorded, and the case is approved at once or prepared for staff."""
    now = utcnow()
    transition(session, case, to="submitted", allowed=("draft",), refused=ALREADY_SENT)
    case.applicant, case.data = split_answers(answers)
    case.submitted_at, case.rules_version = now, form.version
    records = _records(settings, form, case.applicant, case.data, today)
    uploads = sorted({u.name for u in case.uploads})
    context = logic.rule_context(
        applicant=case.applicant, data=case.data, records=records, uploads=uploads, today=today
    )
    decision = logic.decide(form, context)
    case.findings, case.trace, case.proposal = decision.findings, decision.trace, decision.proposal
    _record_fee(session, settings=settings, case=case, form=form, answers=answers)
    count(session, case, "application_submitted", now=now)
    if decision.automatic:
        approve(session, settings=settings, case=case, form=form, username=None, now=now)
        count(session, case, "application_auto_decided", now=now)
        return case
    transition(session, case, to="in_review", allowed=("submitted",), refused=ALREADY_SENT)
    case.due_at = now + dt.timedelta(days=form.time_limit_days)
    count(session, case, "application_prepared", now=now)
    notify(session, settings=settings, case=case, kind="submitted")
    return case


def _record_fee(
    session: Session,
    *,
    settings: Settings,
    case: Application,
    form: FormSpec,
    answers: Mapping[str, Any],
) -> None:
    values = logic.flat_values(form, answers)
    case.fee_cents = fee_total(fee_items(session, form, values, case.lang))
    if case.fee_cents:
        case.payment = payment.provider_for(settings).start(case, case.fee_cents)


# --- decisions ------------------------------------------------------------------------------------


ALREADY_SENT = N_("Dieser Antrag ist bereits abgeschickt.")
ALREADY_DECIDED = N_("Über diesen Antrag ist bereits entschieden.")
# Staff decide or ask for a document while a case is in review or waiting for a document.
DECIDABLE = ("in_review", "waiting")


def transition(
    session: Session, case: Application, *, to: str, allowed: tuple[str, ...], refused: str
) -> None:
    """Move the case to status `to` if, in the database, it still is in one of `allowed`; else
    CaseClosed (409) with the msgid `refused`. The one way any status changes: a compare-and-set
    in a single UPDATE, so of two requests at once (two clerks, an upload beside a decision, a
    double submit) exactly one wins, on PostgreSQL and on SQLite alike, with no lock held
    across reads. The caller sets the other fields afterwards, in the same transaction."""
    session.flush()  # our own pending changes first: the UPDATE below bypasses the unit of work
    now = utcnow()
    moved = session.execute(
        update(Application)
        .where(Application.id == case.id, Application.status.in_(allowed))
        .values(status=to, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(moved, "rowcount", 0) != 1:
        session.expire(case, ["status"])  # show what the database holds, not what we read
        raise CaseClosed(refused)
    case.status, case.updated_at = to, now


def approve(
    session: Session,
    *,
    settings: Settings,
    case: Application,
    form: FormSpec,
    username: str | None,
    now: dt.datetime,
    reason: str | None = None,
) -> None:
    """Approve, fix what the result document states, close the case and tell the citizen. The
    signed PDF is made from that statement on first request (service.document_of) or by the
    worker: rendering and signing take longer than the decision itself."""
    # The machine approves a case it is submitting; a clerk one that waits for a decision.
    allowed = ("submitted",) if username is None else DECIDABLE
    transition(session, case, to="approved", allowed=allowed, refused=ALREADY_DECIDED)
    case.decided_at, case.decided_by = now, username
    case.decision_reason = reason or None
    case.verification_code = documents.new_verification_code()
    case.statement = documents_store.statement(session, case=case, form=form)
    case.delete_after = now + dt.timedelta(days=form.retention_days)
    notify(session, settings=settings, case=case, kind="approved")


REASON_COLUMN = 2000  # Application.decision_reason: the clerk's reason and the appeal text


@cache
def _casework_texts(city_dir: Path) -> dict[str, Any]:
    """The city's casework.yaml (texts no single form owns); none: an empty mapping."""
    path = city_dir / "casework.yaml"
    if not path.is_file():
        return {}
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return loaded if isinstance(loaded, dict) else {}


def appeal_text(settings: Settings, service_id: str, lang: str) -> str:
    """The legal remedy instructions (Rechtsbehelfsbelehrung) a rejection carries, in `lang`;
    empty when the city's data names none for the service (never a guessed one)."""
    texts = _casework_texts(settings.city_dir)
    services = texts.get("services") or {}
    appeal = services[service_id] if service_id in services else texts.get("appeal")
    if not isinstance(appeal, dict):
        return ""
    return str(appeal.get(lang) or appeal.get("de") or "").strip()


def reason_room(settings: Settings, case: Application) -> int:
    """How long a clerk's rejection reason may be: the appeal text is stored after it."""
    appeal = appeal_text(settings, case.service_id, case.lang)
    return REASON_COLUMN - (len(appeal) + 2 if appeal else 0)


def reject(
    session: Session,
    *,
    settings: Settings,
    case: Application,
    username: str,
    reason: str,
    retention_days: int,
    now: dt.datetime,
) -> None:
    """Reject (only ever by a person, § 35a VwVfG), with the reason the citizen reads and,
    after it, the legal remedy instructions valid at this moment (stored with the decision, so
    the mail, the status page and the export say the same, and a later edit rewrites none)."""
    transition(session, case, to="rejected", allowed=DECIDABLE, refused=ALREADY_DECIDED)
    case.decided_at, case.decided_by = now, username
    appeal = appeal_text(settings, case.service_id, case.lang)
    case.decision_reason = f"{reason}\n\n{appeal}" if appeal else reason
    case.delete_after = now + dt.timedelta(days=retention_days)
    if case.payment.get("state") == "open":
        case.payment = payment.provider_for(settings).cancel(case)
    notify(session, settings=settings, case=case, kind="rejected")


def count_decision(
    session: Session, case: Application, *, proposal: str | None, now: dt.datetime
) -> None:
    """Staff decided: as proposed (confirmed unchanged) or otherwise (changed)."""
    kind = "application_confirmed" if case.status == proposal else "application_changed"
    count(session, case, kind, now=now)


# --- telling the citizen and counting -------------------------------------------------------------


def notify(session: Session, *, settings: Settings, case: Application, kind: str) -> None:
    """The status mail for this change, in the case's language."""
    name = service_name(session, case.service_id, case.lang)
    mail.queue_status_mail(session, case=case, kind=kind, service_name=name, settings=settings)


def count(session: Session, case: Application, kind: str, *, now: dt.datetime) -> None:
    """One anonymous event: which service, what happened, how long it took; never who."""
    data: dict[str, Any] = {"status": case.status, "proposal": case.proposal}
    if case.decided_at is not None and case.submitted_at is not None:
        data["seconds_to_decision"] = int((case.decided_at - case.submitted_at).total_seconds())
    events.record(session, kind=kind, service_ids=[case.service_id], at=now, **data)
