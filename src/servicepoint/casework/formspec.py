"""A service's online form as data: data/<city>/forms/<service_id>.yaml, validated on load.

Open Forms' idea: steps, fields, conditions, uploads, fee and the decision rules live in one
file, so a city adds a form by adding a file. Conditions and rules are JSONLogic, evaluated by
the server (which decides) and by the browser (instant feedback) from this same file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from servicepoint.casework import jsonlogic
from servicepoint.casework.registers import LOOKUPS
from servicepoint.catalog.datafile import CatalogFileError, Text

FieldType = Literal[
    "text", "textarea", "email", "date", "integer", "choice", "multichoice", "boolean"
]
Outcome = Literal["review", "reject"]


def _known_operations(rule: dict[str, Any] | bool) -> dict[str, Any] | bool:
    unknown = jsonlogic.unknown_operations(rule)
    if unknown:
        raise ValueError(f"unknown JSONLogic operations {sorted(unknown)}")
    return rule


# An expression is checked on load, so a typo in an operator fails the file, not a citizen.
JsonLogic = Annotated[dict[str, Any] | bool, AfterValidator(_known_operations)]

NAME = r"^[a-z][a-z0-9_]{0,39}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Choice(_Strict):
    value: str = Field(min_length=1, max_length=64)
    label: Text


class FormField(_Strict):
    name: str = Field(pattern=NAME)
    type: FieldType
    label: Text
    help: Text | None = None
    required: bool = False
    required_if: JsonLogic | None = None
    show_if: JsonLogic | None = None
    choices: list[Choice] = Field(default_factory=list)
    min: int | None = Field(default=None, ge=-(10**9), le=10**9)
    max: int | None = Field(default=None, ge=-(10**9), le=10**9)
    min_length: int | None = Field(default=None, ge=0, le=2000)
    max_length: int | None = Field(default=None, ge=1, le=2000)
    digits: bool = False  # only 0-9 (postcodes, tax numbers)
    past: bool = False
    future: bool = False
    # The browser's autocomplete token (WCAG 1.3.5: input purpose), e.g. "given-name".
    autocomplete: str | None = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def _consistent(self) -> FormField:
        if self.type in ("choice", "multichoice") and not self.choices:
            raise ValueError(f"field {self.name!r}: a {self.type} field needs choices")
        if self.choices and self.type not in ("choice", "multichoice"):
            raise ValueError(f"field {self.name!r}: only choice fields have choices")
        if len({c.value for c in self.choices}) != len(self.choices):
            raise ValueError(f"field {self.name!r}: choice values repeat")
        if self.required and self.required_if is not None:
            raise ValueError(f"field {self.name!r}: required and required_if exclude each other")
        return self

    @property
    def text_limit(self) -> int:
        """The longest text accepted: the file's own limit or a sane default per type."""
        default = 2000 if self.type == "textarea" else 200
        return self.max_length or default


class Step(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    title: Text
    intro: Text | None = None
    fields: list[FormField] = Field(min_length=1)


class Upload(_Strict):
    name: str = Field(pattern=NAME)
    label: Text
    help: Text | None = None
    required_if: JsonLogic | None = None


class FeeRule(_Strict):
    catalog_fee: int = Field(ge=0, le=50)
    when: JsonLogic | None = None
    times: JsonLogic | None = None


class Rule(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,47}$")
    check: JsonLogic
    outcome: Outcome
    reason: Text


class Automatic(_Strict):
    """What § 35a VwVfG allows here: only approval, only with a statute, never a rejection."""

    approve: bool = False
    basis: Text | None = None

    @model_validator(mode="after")
    def _basis_named(self) -> Automatic:
        if self.approve and self.basis is None:
            raise ValueError("automatic approval needs the statute that allows it (basis)")
        return self


class DocumentLine(_Strict):
    label: Text
    value: str = Field(min_length=1, max_length=300)


class DocumentSpec(_Strict):
    title: Text
    lines: list[DocumentLine] = Field(min_length=1)


class FormSpec(_Strict):
    service_id: str = Field(pattern=r"^[0-9a-z][0-9a-z\-]{1,63}$")
    version: str = Field(min_length=1, max_length=32)
    time_limit_days: int = Field(ge=1, le=365)
    retention_days: int = Field(default=180, ge=1, le=3650)
    automatic: Automatic = Automatic()
    lookups: list[str] = Field(default_factory=list)
    steps: list[Step] = Field(min_length=1)
    uploads: list[Upload] = Field(default_factory=list)
    fee: list[FeeRule] = Field(default_factory=list)
    rules: list[Rule] = Field(min_length=1)
    document: DocumentSpec

    @model_validator(mode="after")
    def _unique_names(self) -> FormSpec:
        names = [f.name for step in self.steps for f in step.fields] + [
            u.name for u in self.uploads
        ]
        names += [f.name for f in APPLICANT.fields]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"field names repeat (the applicant step has its own): {repeated}")
        steps = [s.id for s in self.steps] + [APPLICANT.id]
        if len(set(steps)) != len(steps):
            raise ValueError("step ids repeat")
        unknown = sorted(set(self.lookups) - set(LOOKUPS))
        if unknown:
            raise ValueError(f"unknown register lookups {unknown}; known: {sorted(LOOKUPS)}")
        rules = [r.name for r in self.rules]
        if len(set(rules)) != len(rules):
            raise ValueError("rule names repeat")
        return self

    @property
    def all_steps(self) -> list[Step]:
        """The built-in applicant step first, then the form's own."""
        return [APPLICANT, *self.steps]

    @property
    def fields(self) -> dict[str, FormField]:
        return {f.name: f for step in self.all_steps for f in step.fields}

    def step(self, index: int) -> Step:
        return self.all_steps[index]


def _applicant_step() -> Step:
    raw = yaml.safe_load((Path(__file__).parent / "applicant.yaml").read_text(encoding="utf-8"))
    return Step.model_validate(raw)


APPLICANT = _applicant_step()
APPLICANT_FIELDS = tuple(f.name for f in APPLICANT.fields)


def load_form_file(path: Path) -> FormSpec:
    """Read and validate one form file; a broken file fails naming the file and the field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec = FormSpec.model_validate(raw)
    except yaml.YAMLError as exc:
        raise CatalogFileError(f"{path.name}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        problems = [
            f"{path.name}: field {'.'.join(map(str, e['loc'])) or '(form)'}: {e['msg']}"
            for e in exc.errors()
        ]
        raise CatalogFileError("\n".join(problems)) from exc
    if spec.service_id != path.stem:
        raise CatalogFileError(
            f"{path.name}: service_id {spec.service_id!r} differs from file name"
        )
    return spec


def load_forms(city_dir: Path) -> dict[str, FormSpec]:
    """Every form of a city folder, by service id (no folder: no online forms)."""
    folder = city_dir / "forms"
    if not folder.is_dir():
        return {}
    return {p.stem: load_form_file(p) for p in sorted(folder.glob("*.yaml"))}


@cache
def forms_of(city_dir: Path) -> dict[str, FormSpec]:
    """The forms of a city folder, read once per process (files change with a deployment)."""
    return load_forms(city_dir)
