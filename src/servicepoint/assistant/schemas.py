"""API shapes of the assistant (contract: ../shared/API.md, POST /api/assistant/ask)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_MESSAGE = 1000


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message: str = Field(min_length=1, max_length=MAX_MESSAGE)
    conversation_id: str | None = Field(default=None, max_length=40)
    lang: Literal["de", "en"] | None = None

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.replace("\x00", "").strip():
            raise ValueError("message is empty")
        return value


class ServiceRef(BaseModel):
    id: str
    name: str
    url: str


class ActionRead(BaseModel):
    type: str
    label: str
    url: str


class ReplyPart(BaseModel):
    """A piece of the reply in one language: the preface in the question's, the details in
    German and English (a page marks each up with its lang and dir)."""

    lang: str
    dir: Literal["ltr", "rtl"]
    text: str


class AskResponse(BaseModel):
    conversation_id: str
    lang: str  # the language of the details: de | en
    question_lang: str = ""  # the language the question was written in (ISO 639-1)
    dir: Literal["ltr", "rtl"] = "ltr"  # the writing direction of the question's language
    reply: str
    parts: list[ReplyPart] = []  # the reply's pieces; their texts joined make `reply`
    confidence: float
    service: ServiceRef | None
    actions: list[ActionRead]
    message_id: str
    kind: str  # answer | clarify | out_of_scope | unsure | greeting | offices | consulate


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str = Field(min_length=1, max_length=40)
    message_id: str = Field(min_length=1, max_length=40)
    helpful: bool
