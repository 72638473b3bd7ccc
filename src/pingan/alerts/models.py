"""The alert table: one row per warning, merged across repeated signals."""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, UTCDateTime, utcnow


class AlertStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


OPEN_STATUSES = (AlertStatus.NEW.value, AlertStatus.ACKNOWLEDGED.value)


class Alert(Base):
    """An area (grid units, centre and radius) x a day window, with the signal's strength.

    ``org_unit_id`` / ``org_path`` are the smallest org unit holding the whole
    area: whoever may read that unit may see and handle the alert.
    ``area_key`` names the area (sorted grid ids) so repeated signals merge.
    """

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_merge", "method", "area_key", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    method: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default=AlertStatus.NEW.value, index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    org_path: Mapped[str] = mapped_column(String(200), index=True)
    area_key: Mapped[str] = mapped_column(String(200))
    area: Mapped[str] = mapped_column(Text)  # JSON: grid_ids, centre_x/y, radius_m
    incident_types: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of codes
    window_start: Mapped[dt.date] = mapped_column(Date)
    window_end: Mapped[dt.date] = mapped_column(Date, index=True)
    statistic: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    recurrence_days: Mapped[float | None] = mapped_column(Float)
    observed: Mapped[int] = mapped_column(Integer)
    expected: Mapped[float] = mapped_column(Float)
    signal_count: Mapped[int] = mapped_column(Integer, default=1)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def area_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.area)
        return out

    def types_list(self) -> list[str]:
        out: list[str] = json.loads(self.incident_types)
        return out


# Watch rules for key sites live in their own module; importing it here registers the table.
from pingan.alerts import watch_models as watch_models  # noqa: E402
