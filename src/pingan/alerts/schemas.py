"""Pydantic shapes of alerts over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from pingan.alerts.models import Alert


class AlertOut(BaseModel):
    id: int
    method: str
    status: str
    org_unit_id: int
    area: dict[str, Any]
    geometry: dict[str, Any] | None = Field(
        None, description="The area as GeoJSON (lon/lat): its grids, or its org unit"
    )
    incident_types: list[str]
    window_start: dt.date
    window_end: dt.date
    statistic: float
    p_value: float | None
    recurrence_days: float | None
    observed: int
    expected: float
    signal_count: int
    reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, alert: Alert, geometry: dict[str, Any] | None = None) -> AlertOut:
        return cls(
            geometry=geometry,
            id=alert.id,
            method=alert.method,
            status=alert.status,
            org_unit_id=alert.org_unit_id,
            area=alert.area_dict(),
            incident_types=alert.types_list(),
            window_start=alert.window_start,
            window_end=alert.window_end,
            statistic=alert.statistic,
            p_value=alert.p_value,
            recurrence_days=alert.recurrence_days,
            observed=alert.observed,
            expected=alert.expected,
            signal_count=alert.signal_count,
            reason=alert.reason,
            created_at=alert.created_at,
            updated_at=alert.updated_at,
        )


class ReasonIn(BaseModel):
    reason: str | None = Field(None, max_length=2000)


class DismissIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class RunIn(BaseModel):
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="day (ISO date, default yesterday), incident_types, lookback_days, "
        "max_window_days, max_case_fraction (0-0.5), max_radius_km (the scan's largest "
        "circle, default 3; 0 = no distance limit), replications, seed, max_p, ears_threshold, "
        "workers, near_repeat_metres (0 = off), near_repeat_days, end_hour (1-24: the "
        "24 hours ending at that hour of the day, city time; default 24)",
    )


class RunOut(BaseModel):
    id: int
    kind: str
    status: str
    status_url: str
