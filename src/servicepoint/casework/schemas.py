"""API shapes of online applications (contract: ../shared/API.md "Online applications").

The body is bounded here (sizes, types, no nesting); what the answers must say is the form
file's business: casework.logic checks them and names each field that is wrong.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StringConstraints
from pydantic_core import PydanticCustomError

from servicepoint.core.inputs import Key, ShortText

MAX_ANSWERS = 60
MAX_ANSWER_TEXT = 2000
MAX_CHOICES = 20
MAX_CHOICE_TEXT = 200
MAX_NUMBER = 10**10 - 1  # the form's integer fields read at most ten digits

Choice = Annotated[str, StringConstraints(max_length=MAX_CHOICE_TEXT)]
# What the OpenAPI schema promises; `_answer` checks exactly this, with one clear error each.
AnswerShape = (
    Annotated[str, StringConstraints(max_length=MAX_ANSWER_TEXT)]
    | Annotated[int, Field(ge=-MAX_NUMBER, le=MAX_NUMBER)]
    | bool
    | Annotated[list[Choice], Field(max_length=MAX_CHOICES)]
    | None
)
AnswerValue = str | int | bool | list[str] | None


def _too_long(limit: int) -> PydanticCustomError:
    return PydanticCustomError("string_too_long", "too long", {"max_length": limit})


def _choices(value: list[object]) -> list[str]:
    if len(value) > MAX_CHOICES:
        raise PydanticCustomError("too_long", "too many items", {"max_length": MAX_CHOICES})
    if not all(isinstance(item, str) for item in value):
        raise PydanticCustomError("answer_type", "a list holds short texts only")
    if any(len(str(item)) > MAX_CHOICE_TEXT for item in value):
        raise _too_long(MAX_CHOICE_TEXT)
    return [str(item) for item in value]


def _answer(value: object) -> AnswerValue:
    """One answer: a text, a whole number, yes/no, a list of short texts or null; nothing
    nested. One error per answer (a union would report each alternative)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not -MAX_NUMBER <= value <= MAX_NUMBER:
            kind, bound = ("less_than_equal", "le") if value > 0 else ("greater_than_equal", "ge")
            raise PydanticCustomError(
                kind, "out of range", {bound: MAX_NUMBER if value > 0 else -MAX_NUMBER}
            )
        return value
    if isinstance(value, str):
        if len(value) > MAX_ANSWER_TEXT:
            raise _too_long(MAX_ANSWER_TEXT)
        return value
    if isinstance(value, list):
        return _choices(value)
    raise PydanticCustomError("answer_type", "text, whole number, yes/no or a list of texts")


Answer = Annotated[AnswerValue, PlainValidator(_answer, json_schema_input_type=AnswerShape)]
FieldName = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ApplicantIn(BaseModel):
    """The built-in applicant step (casework/applicant.yaml); the form checks each value."""

    model_config = ConfigDict(extra="forbid")

    given_name: ShortText | None = None
    family_name: ShortText | None = None
    birth_date: ShortText | None = Field(default=None, description="YYYY-MM-DD or DD.MM.YYYY")
    email: ShortText | None = None
    street: ShortText | None = None
    house_number: ShortText | None = None
    postcode: ShortText | None = None
    city: ShortText | None = None


class ApplicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_id: Key
    applicant: ApplicantIn
    data: dict[FieldName, Answer] = Field(default_factory=dict, max_length=MAX_ANSWERS)


class FindingRead(BaseModel):
    rule: str
    outcome: Literal["pass", "review", "reject"]
    detail: str = Field(description="The rule's reason in plain words, in the request's language.")


class ApplicationRead(BaseModel):
    code: str = Field(
        description="The case code, grouped by four (accepted with or without dashes)."
    )
    status: Literal["submitted", "approved", "in_review", "rejected"]
    status_url: str
    document_url: str | None = Field(description="The signed PDF, once a result document exists.")
    findings: list[FindingRead]
