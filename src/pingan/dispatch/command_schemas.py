"""Request and response bodies of command mode, patrol plans and one-tap links."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pingan.dispatch.command_models import CommandKind, LogKind


class CommandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: CommandKind
    unit: str = Field(min_length=1, max_length=50, description="Code of a city or district unit")
    tiers: list[int] = Field(default=[1, 2], min_length=1, max_length=3)
    posts: int = Field(0, ge=0, le=200, description="Standby posts to pre-position (0: none)")
    site_kind: str | None = Field(None, max_length=50, description="Key sites of the event")
    objective: str = Field("center", pattern="^(center|median)$")


class CommandOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    org_unit_id: int
    status: str
    tiers: list[int]
    site_kind: str | None
    posts: dict[str, Any]
    activated_at: dt.datetime
    activated_by: str
    deactivated_at: dt.datetime | None
    deactivated_by: str | None
    summary: dict[str, Any] | None


class LogIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: LogKind = LogKind.NOTE
    text: str = Field(min_length=1, max_length=2000)
    incident_id: int | None = Field(None, ge=1)


class LogOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    command_id: int
    at: dt.datetime
    actor: str
    kind: str
    text: str
    incident_id: int | None


class DeactivateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=2000, description="The closing decision, for the log")


class BoardOut(BaseModel):
    command: CommandOut
    as_of: dt.datetime
    elapsed_s: float
    incidents_by_status: dict[str, int]
    open_incidents: list[dict[str, Any]]
    assignments_by_status: dict[str, int]
    available_by_tier: dict[int, int]
    posts: dict[str, Any]
    latest_log: list[LogOut]


class PatrolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    responder_ids: list[int] = Field(min_length=1, max_length=50)
    org_unit_id: int | None = Field(None, ge=1)
    place_id: int | None = Field(None, ge=1)
    days: int = Field(28, ge=1, le=365, description="Hotspots of the last so many days")
    cell_size_m: float = Field(250.0, ge=50, le=5000)
    shift_s: float = Field(4 * 3600.0, ge=600, le=86_400)
    dwell_s: float = Field(600.0, ge=0, le=3600)


class AckLinkOut(BaseModel):
    token: str
    path: str
    expires_at: dt.datetime


class AckView(BaseModel):
    assignment_id: int
    status: str
    incident_type: str
    severity: int
    lon: float
    lat: float
    eta_s: float | None
    ack_deadline: dt.datetime


class ShiftBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: dt.datetime
    ends_at: dt.datetime
    kind: str = Field("on_duty", pattern="^(on_duty|on_call)$")


class ShiftOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    responder_id: int
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    started_applied_at: dt.datetime | None
    ended_applied_at: dt.datetime | None
