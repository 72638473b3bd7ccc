"""Bodies of the watch-rule routes."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from pingan.alerts.watch_models import WatchKind


class WatchRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: WatchKind
    incident_types: tuple[str, ...] = Field((), max_length=50)
    max_level: int = Field(1, ge=1, le=5, description="Sites of protection level 1..max_level")
    place_id: int | None = Field(None, ge=1, description="Only this key site or area")
    radius_m: float = Field(300.0, ge=10, le=10_000)
    window_hours: float = Field(24.0, ge=1, le=336)
    baseline_days: int = Field(28, ge=7, le=365)
    alpha: float = Field(0.01, gt=0, lt=0.5)


class WatchRuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    incident_types: list[str]
    max_level: int
    place_id: int | None
    radius_m: float
    window_hours: float
    baseline_days: int
    alpha: float
    active: bool
    created_by: str
    created_at: dt.datetime


class ActiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool
