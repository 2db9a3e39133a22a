"""What the staff pages show of a case, pure: answers by the form's labels, the rules' findings
beside the values they read, the uploads by their form label. No database, no web."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from servicepoint.casework.documents import value_text
from servicepoint.casework.formspec import FormSpec
from servicepoint.catalog.datafile import Text
from servicepoint.core.i18n import N_, translate

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
    read = {str(t.get("rule")): t.get("values") or {} for t in trace}
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
