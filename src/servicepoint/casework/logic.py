"""The form's logic, pure: read answers, check a step, work out the fee, run the rules, decide.

Conditions and rules are JSONLogic. The server uses casework/jsonlogic.py, a port of
json-logic-js with JavaScript's coercions, and the browser runs json-logic-js itself on the same
expressions; tests/e2e/test_casework_parity.py holds the two to identical results.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from email_validator import EmailNotValidError, validate_email

from servicepoint.casework import jsonlogic
from servicepoint.casework.formspec import FormField, FormSpec, JsonLogic, Step
from servicepoint.core.i18n import N_, translate
from servicepoint.core.inputs import first_bad_char

Value = str | int | bool | list[str] | None
Status = Literal["approved", "in_review"]
GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def apply(rule: JsonLogic | None, data: Mapping[str, Any]) -> Any:
    """Evaluate one JSONLogic expression; no expression means "always"."""
    if rule is None:
        return True
    return jsonlogic.apply(rule, dict(data))


def truthy(value: Any) -> bool:
    """JSONLogic's truthiness (JavaScript's, but [] is false): "" and 0 are false, "0" is true."""
    return jsonlogic.truthy(value)


@dataclass(frozen=True)
class FieldError:
    """A field's problem in words: a German msgid with its parameters (translated on display)."""

    field: str
    message: str
    params: Mapping[str, object] = dataclasses.field(default_factory=dict)


class Invalid(ValueError):
    """A value that is not what the field asks for; carries the words to say why."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


# --- reading one answer -------------------------------------------------------------------


def _as_text(raw: object) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise Invalid(N_("Bitte geben Sie hier einen Text ein."))
    return str(raw).strip()


def _read_text(spec: FormField, raw: object) -> str | None:
    text = _as_text(raw)
    if not text:
        return None
    if first_bad_char(text):
        raise Invalid(N_("Der Text enthält Steuer- oder unsichtbare Zeichen."))
    if len(text) > spec.text_limit:
        raise Invalid(N_("Bitte höchstens %(max)s Zeichen eingeben."), max=spec.text_limit)
    if spec.digits and not (text.isascii() and text.isdigit()):
        raise Invalid(N_("Bitte nur Ziffern eingeben."))
    if spec.min_length and len(text) < spec.min_length:
        raise Invalid(N_("Bitte mindestens %(min)s Zeichen eingeben."), min=spec.min_length)
    return text


def _read_email(spec: FormField, raw: object) -> str | None:
    text = _read_text(spec, raw)
    if text is None:
        return None
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid(
            N_("Bitte geben Sie eine gültige E-Mail-Adresse an, zum Beispiel name@example.de.")
        ) from exc


def _parse_day(text: str) -> dt.date:
    german = GERMAN_DATE.match(text)
    if german:
        day, month, year = (int(part) for part in german.groups())
        return dt.date(year, month, day)
    return dt.date.fromisoformat(text)


def _read_date(spec: FormField, raw: object, today: dt.date) -> str | None:
    text = _as_text(raw)
    if not text:
        return None
    try:
        day = _parse_day(text[:20])
    except ValueError as exc:
        raise Invalid(N_("Bitte ein Datum angeben, zum Beispiel 12.08.1964.")) from exc
    if not dt.date(1900, 1, 1) <= day <= dt.date(2100, 12, 31):
        raise Invalid(N_("Bitte ein Datum zwischen 1900 und 2100 angeben."))
    if spec.past and day >= today:
        raise Invalid(N_("Das Datum muss in der Vergangenheit liegen."))
    if spec.future and day < today:
        raise Invalid(N_("Das Datum darf nicht in der Vergangenheit liegen."))
    return day.isoformat()


def _read_integer(spec: FormField, raw: object) -> int | None:
    if isinstance(raw, bool):
        raise Invalid(N_("Bitte eine ganze Zahl eingeben."))
    text = str(raw).strip() if isinstance(raw, str | int) else None
    if text is None or (text and not re.fullmatch(r"[+-]?\d{1,10}", text)):
        raise Invalid(N_("Bitte eine ganze Zahl eingeben."))
    if not text:
        return None
    number = int(text)
    if spec.min is not None and number < spec.min:
        raise Invalid(N_("Bitte eine Zahl ab %(min)s eingeben."), min=spec.min)
    if spec.max is not None and number > spec.max:
        raise Invalid(N_("Bitte eine Zahl bis höchstens %(max)s eingeben."), max=spec.max)
    return number


def _read_choice(spec: FormField, raw: object) -> str | None:
    text = _as_text(raw)
    if not text:
        return None
    if text not in {c.value for c in spec.choices}:
        raise Invalid(N_("Bitte eine der angebotenen Möglichkeiten wählen."))
    return text


def _read_multichoice(spec: FormField, raw: object) -> list[str]:
    items = raw if isinstance(raw, list) else [] if raw in (None, "") else [raw]
    allowed = [c.value for c in spec.choices]
    if any(not isinstance(item, str) or item not in allowed for item in items):
        raise Invalid(N_("Bitte nur Möglichkeiten aus der Liste wählen."))
    return [value for value in allowed if value in items]  # the file's order, no repeats


def _read_boolean(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if raw in (None, "", "false", "0", "off", "no"):
        return False
    if raw in ("true", "1", "on", "yes"):
        return True
    raise Invalid(N_("Bitte ja oder nein angeben."))


def read_value(spec: FormField, raw: object, *, today: dt.date) -> Value:
    """One answer in the form's own types (see CASEWORK: the JSONLogic data shape)."""
    if spec.type == "boolean":
        return _read_boolean(raw)
    if spec.type == "multichoice":
        return _read_multichoice(spec, raw)
    if raw is None:
        return None
    if spec.type == "integer":
        return _read_integer(spec, raw)
    if spec.type == "date":
        return _read_date(spec, raw, today)
    if spec.type == "email":
        return _read_email(spec, raw)
    if spec.type == "choice":
        return _read_choice(spec, raw)
    return _read_text(spec, raw)


# --- steps, visibility and checking ---------------------------------------------------------


def empty(value: Value) -> bool:
    return value is None or value == "" or value == [] or value is False


def visible(spec: FormField, values: Mapping[str, Any]) -> bool:
    return spec.show_if is None or truthy(apply(spec.show_if, values))


def required(spec: FormField, values: Mapping[str, Any]) -> bool:
    if spec.required_if is not None:
        return truthy(apply(spec.required_if, values))
    return spec.required


def flat_values(form: FormSpec, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Every field by name, missing ones as null (multichoice as []), the rules' data shape."""
    values: dict[str, Any] = {}
    for name, spec in form.fields.items():
        default: Any = [] if spec.type == "multichoice" else None
        values[name] = answers.get(name, default)
    return values


def check_step(
    form: FormSpec,
    step: Step,
    raw: Mapping[str, object],
    *,
    earlier: Mapping[str, Any],
    today: dt.date,
) -> tuple[dict[str, Any], list[FieldError]]:
    """Read one step's answers: the values of its visible fields and every field's problem."""
    answers: dict[str, Any] = {}
    errors: list[FieldError] = []
    for spec in step.fields:
        try:
            answers[spec.name] = read_value(spec, raw.get(spec.name), today=today)
        except Invalid as exc:
            errors.append(FieldError(spec.name, exc.message, exc.params))
    values = flat_values(form, {**earlier, **answers})
    kept: dict[str, Any] = {}
    for spec in step.fields:
        if not visible(spec, values):
            continue  # hidden answers are neither required nor stored
        kept[spec.name] = answers.get(spec.name)
        failed = any(e.field == spec.name for e in errors)
        if not failed and required(spec, values) and empty(answers.get(spec.name)):
            errors.append(FieldError(spec.name, _missing(spec)))
    return kept, errors


def _missing(spec: FormField) -> str:
    if spec.type in ("choice", "multichoice"):
        return N_("Bitte wählen Sie hier etwas aus.")
    if spec.type == "boolean":
        return N_("Bitte bestätigen Sie dies.")
    return N_("Bitte füllen Sie dieses Feld aus.")


def check_all(
    form: FormSpec, raw: Mapping[str, object], *, today: dt.date
) -> tuple[dict[str, Any], list[FieldError]]:
    """Read a whole application at once (the API): every step in order, every problem."""
    answers: dict[str, Any] = {}
    errors: list[FieldError] = []
    for step in form.all_steps:
        kept, problems = check_step(form, step, raw, earlier=answers, today=today)
        answers.update(kept)
        errors.extend(problems)
    known = set(form.fields)
    errors.extend(
        FieldError(name, N_("Dieses Feld gibt es im Antrag nicht."))
        for name in raw
        if name not in known
    )
    return answers, errors


def required_uploads(form: FormSpec, values: Mapping[str, Any]) -> list[str]:
    """The uploads this application needs, by name."""
    return [u.name for u in form.uploads if truthy(apply(u.required_if, values))]


def fee_items(form: FormSpec, values: Mapping[str, Any]) -> list[tuple[int, int]]:
    """(catalog fee index, how many times) for each fee that applies to these answers."""
    items: list[tuple[int, int]] = []
    for fee in form.fee:
        if not truthy(apply(fee.when, values)):
            continue
        times = 1 if fee.times is None else apply(fee.times, values)
        number = jsonlogic.to_number(times)
        count = int(number) if math.isfinite(number) else 0
        if count > 0:
            items.append((fee.catalog_fee, min(count, 1000)))
    return items


# --- rules and the decision ------------------------------------------------------------------


def _var_paths(rule: Any) -> Iterator[str]:
    """The data paths an expression reads: the trace shows which value made a rule fire."""
    if isinstance(rule, dict):
        for op, args in rule.items():
            if op == "var":
                first = args[0] if isinstance(args, list) and args else args
                if isinstance(first, str | int) and not isinstance(first, bool):
                    yield str(first)
            else:
                yield from _var_paths(args)
    elif isinstance(rule, list):
        for item in rule:
            yield from _var_paths(item)


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    current: Any = data
    for part in path.split(".") if path else []:
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


@dataclass(frozen=True)
class Decision:
    status: Status
    proposal: Literal["approved", "rejected"]
    findings: list[dict[str, str]]
    trace: list[dict[str, Any]]

    @property
    def automatic(self) -> bool:
        return self.status == "approved"


def _reason(de: str, en: str) -> dict[str, str]:
    # Both languages are kept: the case is shown later in whichever language its reader uses.
    return {"detail": de, "detail_en": en}


def run_rules(
    form: FormSpec, context: Mapping[str, Any]
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """One finding per rule (pass, or its outcome when the check fails) and the values read."""
    findings: list[dict[str, str]] = []
    trace: list[dict[str, Any]] = []
    for rule in form.rules:
        passed = truthy(apply(rule.check, context))
        outcome = "pass" if passed else rule.outcome
        findings.append(
            {"rule": rule.name, "outcome": outcome, **_reason(rule.reason.de, rule.reason.en)}
        )
        values = {path: _lookup(context, path) for path in dict.fromkeys(_var_paths(rule.check))}
        trace.append({"rule": rule.name, "values": values, "result": passed})
    return findings, trace


def decide(form: FormSpec, context: Mapping[str, Any]) -> Decision:
    """Approve at once only what every rule passes and the law lets a machine decide; prepare
    the rest for one click by staff. A rejection is only ever proposed (§ 35a VwVfG)."""
    findings, trace = run_rules(form, context)
    outcomes = {f["outcome"] for f in findings}
    if "reject" in outcomes:
        return Decision("in_review", "rejected", findings, trace)
    if "review" in outcomes or not form.automatic.approve:
        return Decision("in_review", "approved", findings, trace)
    return Decision("approved", "approved", findings, trace)


def rule_context(
    *,
    applicant: Mapping[str, Any],
    data: Mapping[str, Any],
    records: Mapping[str, Any],
    uploads: list[str],
    today: dt.date,
) -> dict[str, Any]:
    """The data the rules see (CASEWORK: applicant, data, records, uploads, today)."""
    return {
        "applicant": dict(applicant),
        "data": dict(data),
        "records": dict(records),
        "uploads": list(uploads),
        "today": today.isoformat(),
    }


# What a rule found in the city's registers is personal data of whoever is registered there:
# shown to someone who only typed a name and a birth date, each finding would answer "does this
# person live here, may they vote, is their dog dangerous". The citizen's view therefore shows
# one neutral line for all register checks; staff see every finding and the trace.
PASSED = N_("Geprüft: in Ordnung.")
REGISTER_OPEN = N_("Eine Mitarbeiterin oder ein Mitarbeiter prüft Ihre Angaben.")
OUTCOME_RANK = {"pass": 0, "review": 1, "reject": 2}


def reads_registers(trace: dict[str, Any]) -> bool:
    return any(str(path).startswith("records.") for path in trace.get("values", {}))


def citizen_findings(
    findings: list[dict[str, Any]], trace: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The findings as far as data protection lets an applicant see them: rules on the answers
    as they are, the register checks folded into one (a proposed rejection reads as "review",
    since only a person decides it)."""
    register = {entry["rule"] for entry in trace if reads_registers(entry)}
    shown = [f for f in findings if f["rule"] not in register]
    folded = [f for f in findings if f["rule"] in register]
    if folded:
        worst = max((f["outcome"] for f in folded), key=lambda o: OUTCOME_RANK.get(o, 1))
        outcome = "pass" if worst == "pass" else "review"
        detail = PASSED if outcome == "pass" else REGISTER_OPEN
        shown.append(
            {
                "rule": "register_check",
                "outcome": outcome,
                **_reason(detail, translate("en", detail)),
            }
        )
    return shown
