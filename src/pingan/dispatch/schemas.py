"""Pydantic in/out models of the dispatch API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pingan.dispatch.assignment_models import AssignmentStatus
from pingan.dispatch.responder_models import Availability, PostKind, ResponderKind


class ResponderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str = Field(min_length=1, max_length=200)
    kind: ResponderKind
    org_unit_id: int
    unit_id: int | None = None
    user_id: int | None = None
    skills: list[str] = Field(default_factory=list, max_length=20)
    travel_mode: str = Field("drive", pattern="^(drive|walk)$")
    availability: Availability = Availability.OFF_DUTY


class ResponderPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(None, min_length=1, max_length=200)
    unit_id: int | None = None
    skills: list[str] | None = Field(None, max_length=20)
    travel_mode: str | None = Field(None, pattern="^(drive|walk)$")


class ResponderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    display_name: str
    kind: str
    tier: int
    org_unit_id: int
    unit_id: int | None
    skills: list[str]
    travel_mode: str
    availability: str


class AvailabilityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    availability: Availability


class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=200)
    kind: ResponderKind
    org_unit_id: int
    post_kind: PostKind = PostKind.FIXED
    post_lon: float | None = Field(None, ge=-180, le=180)
    post_lat: float | None = Field(None, ge=-90, le=90)
    vehicles: int = Field(0, ge=0, le=1000)


class UnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: str
    org_unit_id: int
    post_kind: str
    post_lon: float | None
    post_lat: float | None
    vehicles: int
    members: list[int] = Field(default_factory=list)


class PositionsIn(BaseModel):
    """Parallel arrays: compact on the wire and fast to parse for large batches."""

    model_config = ConfigDict(extra="forbid")

    responder_id: list[int] = Field(max_length=50_000)
    lon: list[float] = Field(max_length=50_000)
    lat: list[float] = Field(max_length=50_000)
    at: list[dt.datetime] = Field(max_length=50_000)


class RejectedRow(BaseModel):
    index: int
    responder_id: int | None
    reason: str


class PositionsOut(BaseModel):
    accepted: int
    rejected: list[RejectedRow]


class RecommendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident_id: int | None = None
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    k: int = Field(5, ge=1, le=50)
    tier: int | None = Field(None, ge=1, le=3)
    skill: str | None = None
    kind: ResponderKind | None = None
    within_m: float | None = Field(None, gt=0)


class CandidateOut(BaseModel):
    responder_id: int
    display_name: str
    tier: int
    kind: str
    eta_s: float
    straight_m: float
    route: dict[str, Any] | None


class DispatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    responder_ids: list[int] | None = Field(
        None, description="Send exactly these; omit to follow the incident's response plan"
    )


class AssignmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    incident_id: int
    responder_id: int
    tier: int
    want_tier: int
    status: str
    eta_s: float | None
    dispatched_at: dt.datetime
    ack_deadline: dt.datetime
    acknowledged_at: dt.datetime | None
    en_route_at: dt.datetime | None
    on_scene_at: dt.datetime | None
    cleared_at: dt.datetime | None


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: AssignmentStatus


class TimelineOut(BaseModel):
    at: dt.datetime
    kind: str
    actor: str
    assignment_id: int | None
    detail: dict[str, Any]
