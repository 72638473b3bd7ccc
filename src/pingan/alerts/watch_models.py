"""Watch rules for key sites and areas: alerts raised as incidents arrive, not next day."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, UTCDateTime, utcnow


class WatchKind(StrEnum):
    # Any incident of the rule's types within radius_m of a site at or above the level.
    PROXIMITY = "proximity"
    # The count within radius_m of each such site over window_hours is above what the
    # baseline_days before it lead to expect (Poisson upper tail below alpha).
    COUNT = "count"


class WatchRule(Base):
    __tablename__ = "alert_watch_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    # Incident type codes (each with its subtypes); empty means every type.
    incident_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Sites of protection level 1..max_level (1 is the most protected) ...
    max_level: Mapped[int] = mapped_column(SmallInteger, default=1)
    # ... or one key site or area only.
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id"))
    radius_m: Mapped[float] = mapped_column(Float, default=300.0)
    window_hours: Mapped[float] = mapped_column(Float, default=24.0)
    baseline_days: Mapped[int] = mapped_column(Integer, default=28)
    alpha: Mapped[float] = mapped_column(Float, default=0.01)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
