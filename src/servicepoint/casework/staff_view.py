"""What the staff pages show of a case: answers by the form's labels, the rules' findings beside
the values they read, the uploads by their form label (pure), and at the end one function per page
that reads what the page shows (session first), so each route calls one of them. No web."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from servicepoint.account import service as account_service
from servicepoint.casework import service, uploads
from servicepoint.casework.documents import value_text
from servicepoint.casework.errors import CaseNotFound, FormNotFound
from servicepoint.casework.formspec import FormSpec
from servicepoint.casework.models import CLOSED, Application, CaseUpload
from servicepoint.catalog import service as catalog_service
from servicepoint.catalog.datafile import Text
from servicepoint.config import Settings
from servicepoint.core import events
from servicepoint.core.clock import BERLIN, utcnow
from servicepoint.core.i18n import N_, translate
from servicepoint.errors import NotFound

# The words for a rule's outcome and the icon beside them (the colour is never the only sign).
OUTCOME_TEXT = {
    "pass": (N_("erfüllt"), "✔"),
    "review": (N_("prüfen"), "?"),
    "reject": (N_("spricht für Ablehnung"), "✖"),
}
REQUESTED = "requested"  # CaseUpload.name of a document staff asked for


@dataclass(frozen=True)
class Section:
    title: str
    rows: list[tuple[str, str]]  # (label, shown value)


@dataclass(frozen=True)
class RuleRow:
    rule: str
    outcome: str  # pass | review | reject
    outcome_text: str
    icon: str
    reason: str
    values: list[tuple[str, str]]  # (path read, value as JSON-ish text)


def _text(text: Text, lang: str) -> str:
    return text.en if lang == "en" else text.de


def answers(form: FormSpec | None, case: Any, lang: str) -> list[Section]:
    """Every stored answer under its step and label; without the form file, by field name."""
    stored = {**(case.data or {}), **(case.applicant or {})}
    if form is None:
        return [Section("", [(k, value_text(v, None, lang)) for k, v in sorted(stored.items())])]
    sections: list[Section] = []
    seen: set[str] = set()
    for step in form.all_steps:
        rows = [
            (_text(f.label, lang), value_text(stored[f.name], f, lang))
            for f in step.fields
            if f.name in stored
        ]
        seen.update(f.name for f in step.fields)
        if rows:
            sections.append(Section(_text(step.title, lang), rows))
    rest = [(k, value_text(v, None, lang)) for k, v in sorted(stored.items()) if k not in seen]
    if rest:  # answers to fields a later version of the form no longer has
        sections.append(Section(translate(lang, N_("Weitere Angaben")), rest))
    return sections


def rule_rows(
    findings: Sequence[Mapping[str, Any]], trace: Sequence[Mapping[str, Any]], lang: str
) -> list[RuleRow]:
    """One row per finding, with the values its rule read (from the trace)."""
    read = {str(entry.get("rule")): entry.get("values") or {} for entry in trace}
    rows = []
    for finding in findings:
        name = str(finding.get("rule", ""))
        outcome = str(finding.get("outcome", ""))
        text, icon = OUTCOME_TEXT.get(outcome, (outcome, "•"))
        reason = finding.get("detail_en") if lang == "en" else None
        values = [(str(path), _shown(value)) for path, value in read.get(name, {}).items()]
        rows.append(
            RuleRow(
                rule=name,
                outcome=outcome,
                outcome_text=translate(lang, text),
                icon=icon,
                reason=str(reason or finding.get("detail", "")),
                values=values,
            )
        )
    return rows


def _shown(value: object) -> str:
    """A value as the rule saw it: null, true/false and quoted text, so "" and null differ."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"„{value}“"
    return str(value)


def upload_label(form: FormSpec | None, name: str, lang: str) -> str:
    """The form's label of an upload, or what it is when staff asked for it."""
    if name == REQUESTED:
        return translate(lang, N_("Nachgefordert"))
    for upload in form.uploads if form else ():
        if upload.name == name:
            return _text(upload.label, lang)
    return name


def proposal_text(proposal: str | None, lang: str) -> str:
    words = {
        "approved": N_("bewilligen vorgeschlagen"),
        "rejected": N_("ablehnen vorgeschlagen"),
    }
    return translate(lang, words[proposal]) if proposal in words else ""


STATUS_TEXT = {
    "draft": N_("Entwurf"),
    "submitted": N_("eingereicht"),
    "in_review": N_("in Prüfung"),
    "waiting": N_("wartet auf Unterlage"),
    "approved": N_("bewilligt"),
    "rejected": N_("abgelehnt"),
}


def status_text(status: str, lang: str) -> str:
    return translate(lang, STATUS_TEXT.get(status, status))


# -- what one staff page reads (session first; the route calls one of these) ---------------------
AUTO_DECIDED = "application_auto_decided"  # the anonymous event of casework.workflow


def queue_view(session: Session, *, now: dt.datetime, chosen: str, lang: str) -> dict[str, Any]:
    """The work queue, narrowed to one service when chosen, with the services' names and how many
    cases the rules decided today."""
    rows = service.work_queue(session, now=now)
    offered = sorted({row.case.service_id for row in rows})
    since = dt.datetime.combine(now.astimezone(BERLIN).date(), dt.time(), tzinfo=BERLIN)
    return {
        "rows": [row for row in rows if not chosen or row.case.service_id == chosen],
        "total": len(rows),
        "offered": offered,
        "chosen": chosen if chosen in offered else "",
        "names": service_names(session, offered, lang),
        "auto_today": len(events.events(session, kind=AUTO_DECIDED, since=since)),
    }


def service_names(session: Session, ids: list[str], lang: str) -> dict[str, str]:
    found = catalog_service.services_by_ids(session, ids=ids)
    return {sid: (s.name_en if lang == "en" else s.name_de) for sid, s in found.items()}


def staff_case(session: Session, *, code: str) -> Application:
    """A submitted case; a draft is still the citizen's and not shown to staff."""
    case = service.get_case(session, code=code)
    if case.status == "draft":
        raise CaseNotFound(N_("Zu diesem Code gibt es keinen Antrag."))
    return case


def open_case(session: Session, *, code: str, username: str) -> Application:
    """The case a clerk opens; who looked at whose data goes to the audit log."""
    case = staff_case(session, code=code)
    account_service.audit(session, username=username, action="case_view", target=case.code)
    return case


def upload_download(
    session: Session, *, settings: Settings, code: str, upload_id: int, username: str
) -> tuple[CaseUpload, bytes]:
    """A citizen's upload of this case and its bytes; the download goes to the audit log."""
    case = staff_case(session, code=code)
    upload = next((u for u in case.uploads if u.id == upload_id), None)
    if upload is None:
        raise NotFound(N_("Die Datei wurde nicht gefunden."), code="upload_not_found")
    data = uploads.open_upload(upload.storage_key, settings)
    account_service.audit(
        session,
        username=username,
        action="case_upload_download",
        target=case.code,
        detail={"upload_id": upload.id, "name": upload.name},
    )
    return upload, data


def case_view(
    session: Session, *, settings: Settings, case: Application, lang: str
) -> dict[str, Any]:
    """Everything the case page shows: answers by label, findings with the values read, uploads,
    status, proposal and whether it is overdue."""
    try:
        form: FormSpec | None = service.form_for(settings, case.service_id)
    except FormNotFound:  # a case outlives a removed form: shown by field names
        form = None
    return {
        "case": case,
        "closed": case.status in CLOSED,
        "service_name": service_names(session, [case.service_id], lang).get(case.service_id),
        "sections": answers(form, case, lang),
        "rules": rule_rows(case.findings or [], case.trace or [], lang),
        "uploads": [(u, upload_label(form, u.name, lang)) for u in case.uploads],
        "status": status_text(case.status, lang),
        "proposal": proposal_text(case.proposal, lang),
        "overdue": bool(case.due_at and case.status not in CLOSED and case.due_at < utcnow()),
    }
