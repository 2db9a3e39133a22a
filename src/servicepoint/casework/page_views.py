"""What the citizen pages of an online application show, built from the form file and the case.

No database and no web: the routes in casework/pages.py and casework/status_pages.py read the
case through casework/service.py and hand it here; the templates only print these views.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from servicepoint.casework import documents, logic
from servicepoint.casework.formspec import FormField, FormSpec, JsonLogic, Step, Upload
from servicepoint.casework.models import Application
from servicepoint.catalog.datafile import Text
from servicepoint.catalog.models import Service
from servicepoint.core import i18n
from servicepoint.core.i18n import N_

# Where a draft goes after its last form step: the uploads (when the answers need any), then
# the review. Both count as steps in the progress indicator.
UPLOADS = "unterlagen"
REVIEW = "pruefen"
ACCEPT = "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"


def text_of(value: Text | None, lang: str) -> str:
    """A form file's German/English text in the page's language."""
    if value is None:
        return ""
    return value.en if lang == "en" else value.de


def shown_code(code: str) -> str:
    """The case code in groups of four, easier to copy down (any spelling is accepted back)."""
    return documents.grouped(code)


def field_message(error: logic.FieldError, lang: str) -> str:
    text = i18n.translate(lang, error.message)
    return text % dict(error.params) if error.params else text


# --- the answers a case holds -----------------------------------------------------------------


def answers_of(case: Application) -> dict[str, Any]:
    """Every stored answer by field name (applicant fields and the form's own)."""
    return {**(case.applicant or {}), **(case.data or {})}


def values_of(form: FormSpec, case: Application) -> dict[str, Any]:
    """The conditions' data shape (every field, missing as null), as form.js reads it."""
    return logic.flat_values(form, answers_of(case))


def raw_answers(step: Step, posted: FormData) -> dict[str, object]:
    """The step's fields as a browser posts them: a multichoice as its list of ticked values,
    an unticked checkbox or unchosen radio group as absent; files are never answers."""
    raw: dict[str, object] = {}
    for spec in step.fields:
        if spec.type == "multichoice":
            raw[spec.name] = [v for v in posted.getlist(spec.name) if isinstance(v, str)]
            continue
        value = posted.get(spec.name)
        raw[spec.name] = value if isinstance(value, str) else None
    return raw


# --- the start page's fee ------------------------------------------------------------------------


@dataclass(frozen=True)
class FeeLine:
    label: str
    cents: int
    condition: str
    counted: bool  # charged per item the answers name (e.g. per dog)


def start_fees(form: FormSpec, svc: Service, *, lang: str) -> list[FeeLine]:
    """The catalog's fee items the form charges; none known is an empty list (never a guess)."""
    catalog: list[dict[str, Any]] = list(svc.data.get("fees", []))
    lines = []
    for rule in form.fee:
        if rule.catalog_fee < len(catalog):
            item = catalog[rule.catalog_fee]
            lines.append(
                FeeLine(
                    label=i18n.pick(item["label"], lang),
                    cents=int(item["amount_cents"]),
                    condition=i18n.pick(item.get("condition"), lang),
                    counted=rule.times is not None,
                )
            )
    return lines


# --- one step of the form ---------------------------------------------------------------------


@dataclass(frozen=True)
class FieldView:
    name: str
    type: str
    label: str
    help: str
    required: bool  # always required: marked in the label
    autocomplete: str | None
    choices: list[tuple[str, str]]
    value: Any  # str for inputs, list[str] for a multichoice, bool for a checkbox
    error: str | None
    show_if: JsonLogic | None
    required_if: JsonLogic | None
    max_length: int | None
    digits: bool
    date_min: str | None
    date_max: str | None
    min_length: int | None = None
    number_min: int | None = None
    number_max: int | None = None

    @property
    def input_id(self) -> str:
        return f"f-{self.name}"

    @property
    def anchor(self) -> str:
        """The control the error summary links to: the first option of a group."""
        return f"{self.input_id}-0" if self.type in ("choice", "multichoice") else self.input_id


def _shown_value(spec: FormField, value: object) -> Any:
    if spec.type == "multichoice":
        return [str(v) for v in value] if isinstance(value, list) else []
    if spec.type == "boolean":
        return value is True or value in ("true", "1", "on", "yes")
    return "" if value is None or isinstance(value, list) else str(value)


def _date_bounds(spec: FormField, today: dt.date) -> tuple[str | None, str | None]:
    low, high = dt.date(1900, 1, 1), dt.date(2100, 12, 31)
    if spec.past:
        high = today - dt.timedelta(days=1)
    if spec.future:
        low = today
    return low.isoformat(), high.isoformat()


def field_view(
    spec: FormField, value: object, error: str | None, *, lang: str, today: dt.date
) -> FieldView:
    date_min, date_max = _date_bounds(spec, today) if spec.type == "date" else (None, None)
    return FieldView(
        name=spec.name,
        type=spec.type,
        label=text_of(spec.label, lang),
        help=text_of(spec.help, lang),
        required=spec.required,
        autocomplete=spec.autocomplete,
        choices=[(c.value, text_of(c.label, lang)) for c in spec.choices],
        value=_shown_value(spec, value),
        error=error,
        show_if=spec.show_if,
        required_if=spec.required_if,
        max_length=spec.text_limit if spec.type in ("text", "textarea", "email") else None,
        digits=spec.digits,
        date_min=date_min,
        date_max=date_max,
        min_length=spec.min_length,
        number_min=spec.min,
        number_max=spec.max,
    )


def step_fields(
    step: Step,
    values: Mapping[str, object],
    errors: Sequence[logic.FieldError],
    *,
    lang: str,
    today: dt.date,
) -> list[FieldView]:
    """The step's fields with the values to show (what was typed, else what is stored) and
    each field's first problem in the page's language."""
    first: dict[str, str] = {}
    for error in errors:
        first.setdefault(error.field, field_message(error, lang))
    return [
        field_view(spec, values.get(spec.name), first.get(spec.name), lang=lang, today=today)
        for spec in step.fields
    ]


# --- where the citizen is: progress and the way on --------------------------------------------


@dataclass(frozen=True)
class Stage:
    title: str
    url: str
    reachable: bool  # done or current: a link in the progress indicator


@dataclass(frozen=True)
class Progress:
    stages: list[Stage]
    current: int  # index into stages

    @property
    def number(self) -> int:
        return self.current + 1

    @property
    def total(self) -> int:
        return len(self.stages)


def draft_url(code: str, where: int | str) -> str:
    return f"/antrag/entwurf/{code}/{where}"


def needed_uploads(form: FormSpec, case: Application) -> list[Upload]:
    """The uploads these answers need, in the form file's order."""
    names = set(logic.required_uploads(form, values_of(form, case)))
    return [u for u in form.uploads if u.name in names]


def forms_done(form: FormSpec, case: Application) -> bool:
    return case.step >= len(form.all_steps)


def progress(form: FormSpec, case: Application, current: int | str, *, lang: str) -> Progress:
    """Every stage of the draft: the form's steps, the uploads when needed, the review."""
    steps = form.all_steps
    stages = [
        Stage(text_of(s.title, lang), draft_url(case.code, i), i <= case.step)
        for i, s in enumerate(steps)
    ]
    after = forms_done(form, case)
    if needed_uploads(form, case):
        title = i18n.translate(lang, N_("Unterlagen hochladen"))
        stages.append(Stage(title, draft_url(case.code, UPLOADS), after))
    title = i18n.translate(lang, N_("Angaben prüfen und absenden"))
    stages.append(Stage(title, draft_url(case.code, REVIEW), after))
    if isinstance(current, int):
        index = current
    else:
        index = len(stages) - 1 if current == REVIEW else len(stages) - 2
    return Progress(stages, index)


def next_url(form: FormSpec, case: Application, index: int) -> str:
    """Where "Weiter" leads from step `index`: the next step, then uploads, then the review."""
    if index + 1 < len(form.all_steps):
        return draft_url(case.code, index + 1)
    return after_steps_url(form, case)


def after_steps_url(form: FormSpec, case: Application) -> str:
    missing = missing_uploads(form, case)
    return draft_url(case.code, UPLOADS if missing else REVIEW)


def resume_url(form: FormSpec, case: Application) -> str:
    """Where a returning citizen goes on: the status of a sent case, else the draft's step."""
    if case.status != "draft":
        return f"/antrag/status/{case.code}"
    if not forms_done(form, case):
        return draft_url(case.code, max(case.step, 0))
    return after_steps_url(form, case)


# --- uploads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadView:
    name: str
    label: str
    help: str
    files: list[str]  # the names of what is uploaded for it
    error: str | None = None

    @property
    def input_id(self) -> str:
        return f"u-{self.name}"

    @property
    def anchor(self) -> str:
        return self.input_id


def missing_uploads(form: FormSpec, case: Application) -> list[str]:
    done = {u.name for u in case.uploads}
    return [u.name for u in needed_uploads(form, case) if u.name not in done]


def upload_views(
    form: FormSpec, case: Application, errors: Mapping[str, str], *, lang: str
) -> list[UploadView]:
    return [
        UploadView(
            name=u.name,
            label=text_of(u.label, lang),
            help=text_of(u.help, lang),
            files=[f.filename for f in case.uploads if f.name == u.name],
            error=errors.get(u.name),
        )
        for u in needed_uploads(form, case)
    ]


def step_of_field(form: FormSpec, name: str) -> int | None:
    """The index of the step that asks for `name` (None: no field, e.g. an upload)."""
    for index, step in enumerate(form.all_steps):
        if any(f.name == name for f in step.fields):
            return index
    return None


@dataclass(frozen=True)
class Summary:
    """The error summary at the top of a page: each problem links to its control."""

    items: list[tuple[str, str, str]] = field(default_factory=list)  # (link, label, message)

    def __bool__(self) -> bool:
        return bool(self.items)


def summary(views: Sequence[FieldView | UploadView]) -> Summary:
    return Summary([("#" + v.anchor, v.label, v.error) for v in views if v.error])


def review_problems(
    form: FormSpec, case: Application, problems: Sequence[logic.FieldError], *, lang: str
) -> Summary:
    """What the review found still wrong, each linking to the step (or the uploads) to fix it."""
    uploads = {u.name: u for u in form.uploads}
    items = []
    for problem in problems:
        index = step_of_field(form, problem.field)
        if index is not None:
            label = text_of(form.fields[problem.field].label, lang)
            link = draft_url(case.code, index) + f"?pruefen=1&ziel={REVIEW}"
        elif problem.field in uploads:
            label = text_of(uploads[problem.field].label, lang)
            link = draft_url(case.code, UPLOADS)
        else:
            continue
        items.append((link, label, field_message(problem, lang)))
    return Summary(items)


CONSENT_LABEL = N_("Ich versichere, dass meine Angaben richtig und vollständig sind.")


def consent_view(name: str, error: str | None, *, lang: str) -> FieldView:
    """The checkbox that confirms truthful answers before sending (always required)."""
    return FieldView(
        name=name,
        type="boolean",
        label=i18n.translate(lang, CONSENT_LABEL),
        help="",
        required=True,
        autocomplete=None,
        choices=[],
        value=False,
        error=error,
        show_if=None,
        required_if=None,
        max_length=None,
        digits=False,
        date_min=None,
        date_max=None,
    )
