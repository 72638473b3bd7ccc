"""Pydantic shapes of the camera health API (heartbeats themselves are parsed as columns)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from pingan.cameras.health import CameraHealth, OutageView
from pingan.cameras.health_availability import AvailabilityRow
from pingan.cameras.health_probe import ProbeResult


class HeartbeatIn(BaseModel):
    """One status report (documentation only: batches are validated column by column)."""

    camera_id: int | None = Field(None, description="Pingan camera id")
    owner_camera_id: str | None = Field(
        None, description="The owner's own id of the camera (with ?owner=CODE)"
    )
    at: dt.datetime | float = Field(description="ISO 8601 time with offset, or epoch seconds")
    online: bool
    fps: float | None = None
    bitrate_kbps: float | None = None


class RejectedOut(BaseModel):
    index: int
    field: str | None
    reason: str


class IntakeOut(BaseModel):
    received: int
    accepted: int
    cameras: int
    went_offline: list[int]
    recovered: list[int]
    rejected: list[RejectedOut]


class CameraHealthOut(BaseModel):
    camera_id: int
    owner_id: int
    network: str
    name: str | None
    state: str
    state_since: dt.datetime | None
    last_seen_at: dt.datetime | None
    fps: float | None
    bitrate_kbps: float | None
    reports: int

    @classmethod
    def of(cls, h: CameraHealth) -> CameraHealthOut:
        return cls(**h.__dict__)


class NoticeOut(BaseModel):
    kind: str
    recipient: str
    at: dt.datetime


class OutageOut(BaseModel):
    id: int
    camera_id: int
    started_at: dt.datetime
    ended_at: dt.datetime | None
    duration_minutes: float | None
    cause: str
    detected_at: dt.datetime
    notices: list[NoticeOut]

    @classmethod
    def of(cls, o: OutageView) -> OutageOut:
        length = None if o.ended_at is None else (o.ended_at - o.started_at).total_seconds() / 60
        return cls(
            id=o.id, camera_id=o.camera_id, started_at=o.started_at, ended_at=o.ended_at,
            duration_minutes=length, cause=o.cause, detected_at=o.detected_at,
            notices=[NoticeOut(kind=k, recipient=r, at=a) for k, r, a in o.notices],
        )  # fmt: skip


class AvailabilityOut(BaseModel):
    key: str
    label: str
    cameras: int
    monitored_hours: float
    down_hours: float
    uptime_pct: float | None
    outages: int
    repaired: int
    mttr_minutes: float | None

    @classmethod
    def of(cls, row: AvailabilityRow) -> AvailabilityOut:
        return cls(**row.__dict__)


class CheckOut(BaseModel):
    went_silent: list[int]
    notices: dict[str, int]


class ProbeTargetIn(BaseModel):
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(80, ge=1, le=65535)


class ProbeOut(BaseModel):
    camera_id: int
    ok: bool
    device_time: dt.datetime | None
    clock_offset_s: float | None
    latency_ms: float
    error: str | None

    @classmethod
    def of(cls, camera_id: int, r: ProbeResult) -> ProbeOut:
        return cls(camera_id=camera_id, **r.__dict__)
