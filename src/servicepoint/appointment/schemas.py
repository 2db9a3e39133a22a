"""API shapes of appointments and walk-in tickets (contract: ../shared/API.md)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from servicepoint.core.inputs import Key, Moment, Name

# "in_person": at an office; "video": a video consultation in the browser.
Channel = Literal["in_person", "video"]


class SlotRead(BaseModel):
    location_id: str
    start: dt.datetime
    end: dt.datetime
    capacity_left: int


class BookingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    service_ids: list[Key] = Field(min_length=1, max_length=5)
    location_id: Key
    start: Moment
    name: Name = Field(min_length=2, max_length=120)
    email: EmailStr = Field(max_length=254)
    lang: str = Field(default="de", max_length=2, pattern="^(de|en)$")
    # A video booking's location is the video consultations' ("location_id" of its slots).
    channel: Channel = "in_person"


class BookingCreated(BaseModel):
    id: int
    code: str
    location_id: str
    start: dt.datetime
    end: dt.datetime
    cancel_url: str
    ics_url: str
    # Video bookings only (left out for an office visit).
    channel: Channel | None = None
    join_url: str | None = Field(
        default=None, description="The citizen's personal join link (video bookings only)."
    )


class BookingRead(BookingCreated):
    status: str
    service_ids: list[str]
    name: str | None
    page_url: str


class RescheduleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: Moment
    location_id: Key | None = None


class TicketCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    location_id: Key
    service_id: Key | None = None


class TicketRead(BaseModel):
    token: str
    label: str
    location_id: str
    kind: str
    status: str
    counter: int | None
    issued_at: dt.datetime
    position: int | None
    estimate_low_minutes: int | None
    estimate_high_minutes: int | None
    url: str


class WaitingRead(BaseModel):
    location_id: str
    open_now: bool
    waiting: int
    estimate_low_minutes: int | None
    estimate_high_minutes: int | None
    next_free_slot: dt.datetime | None


class ChallengeRead(BaseModel):
    """Solve: find a decimal `nonce` so that SHA-256(challenge + ":" + nonce) starts with
    `difficulty` zero bits; send both as X-Challenge and X-Challenge-Nonce, once."""

    challenge: str | None
    difficulty: int
    expires_in: int
