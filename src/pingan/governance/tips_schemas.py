"""Pydantic in/out models of the tips API (public and staff)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class TipIn(BaseModel):
    category: str = Field(..., description="Category code, e.g. tip.drugs")
    content: str = Field(..., min_length=1, max_length=20000)
    place: str = Field("", max_length=300, description="Where, in the tipster's words")
    pin: str = Field(..., min_length=6, max_length=64, description="Chosen by the tipster")
    channel: str = Field("web", description="web | app")


class TipReceipt(BaseModel):
    number: str
    message: str


class PinIn(BaseModel):
    pin: str = Field(..., min_length=1, max_length=64)


class TipsterMessageIn(PinIn):
    text: str = Field(..., min_length=1, max_length=10000)


class MessageOut(BaseModel):
    id: int
    at: dt.datetime
    sender: str
    body: str


class RewardPublic(BaseModel):
    tier: str
    amount_yuan: float
    status: str


class TipsterView(BaseModel):
    """What the tipster reads: coarse state, replies, reward; nothing about staff."""

    number: str
    status: str
    category: str
    messages: list[MessageOut]
    attachments: int
    rewards: list[RewardPublic]


class StaffMessageIn(BaseModel):
    text: str = Field(..., min_length=1, max_length=10000)


class StepIn(BaseModel):
    transition: str
    fields: dict[str, Any] = Field(default_factory=dict)


class TipOut(BaseModel):
    id: int
    number: str
    state: str
    is_open: bool
    category: str
    channel: str
    content: str
    place: str
    level: str
    outcome: str | None
    unit_id: int
    created_at: dt.datetime
    supervision_flag: bool
    allowed_transitions: list[str]
    messages: list[MessageOut]
    attachment_ids: list[int]


class RewardIn(BaseModel):
    amount_yuan: float | None = Field(None, gt=0, description="Within the tier's range")
    note: str = Field("", max_length=500)


class DecisionIn(BaseModel):
    approve: bool
    note: str = Field("", max_length=500)


class PayIn(BaseModel):
    number: str = Field(..., max_length=30)
    pin: str = Field(..., min_length=1, max_length=64)


class RewardOut(BaseModel):
    id: int
    number: str
    tier: str
    amount_yuan: float
    status: str
    proposed_by: str
    proposed_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    paid_at: dt.datetime | None
