"""Pydantic in/out models of the cases API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class CaseIn(BaseModel):
    case_type: str = "grid_event"
    category: str = Field(..., description="Category code, e.g. manhole_cover")
    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    lon: float = Field(..., ge=-180, le=180)
    lat: float = Field(..., ge=-90, le=90)
    address: str = Field("", max_length=300)
    # Optional personal fields of a reporter who is not a user; never shown publicly.
    reporter_name: str | None = Field(None, max_length=200)
    reporter_email: str | None = Field(None, max_length=200)
    reporter_phone: str | None = Field(None, max_length=50)
    idempotency_key: str | None = Field(None, max_length=100)


class TransitionIn(BaseModel):
    transition: str
    fields: dict[str, Any] = Field(default_factory=dict)
    # dispatch only: manual override of the routed unit / department
    unit_id: int | None = None
    department: str | None = None


class CommentIn(BaseModel):
    text: str = Field(..., min_length=1, max_length=5000)


class AssignIn(BaseModel):
    handler_id: int | None = Field(None, description="User to handle the case; null clears")
    unit_id: int | None = Field(None, description="Transfer to this org unit")
    department: str | None = Field(None, max_length=100)
    reason: str = Field("", max_length=500)


class CheckinIn(BaseModel):
    lon: float = Field(..., ge=-180, le=180)
    lat: float = Field(..., ge=-90, le=90)
    note: str = Field("", max_length=500)


class ClockOut(BaseModel):
    name: str
    basis: str
    status: str
    started_at: dt.datetime
    due_at: dt.datetime | None
    warn_at: dt.datetime | None
    remaining_s: int
    total_s: int
    overdue: bool


class EventOut(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    kind: str
    from_state: str | None
    to_state: str | None
    detail: dict[str, Any]


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    purpose: str
    uploaded_by: str
    uploaded_at: dt.datetime


class CaseOut(BaseModel):
    id: int
    number: str
    case_type: str
    state: str
    is_open: bool
    category: str
    title: str
    description: str
    address: str
    lon: float | None
    lat: float | None
    grid_id: int | None
    unit_id: int
    department: str
    handler_id: int | None
    supervision_flag: bool
    rating: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    allowed_transitions: list[str]
    clocks: list[ClockOut] = []
    possible_duplicates: list[str] = []


class CaseDetail(CaseOut):
    timeline: list[EventOut]
    attachments: list[AttachmentOut]
