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


class AskResponse(BaseModel):
    conversation_id: str
    lang: str
    reply: str
    confidence: float
    service: ServiceRef | None
    actions: list[ActionRead]
    message_id: str
    kind: str  # answer | clarify | out_of_scope | greeting | offices


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str = Field(min_length=1, max_length=40)
    message_id: str = Field(min_length=1, max_length=40)
    helpful: bool
