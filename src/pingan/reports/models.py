"""Tables of the reports domain: the briefing archive, analyst comments, campaigns."""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, Geometry, UTCDateTime, utcnow


class BriefingStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Briefing(Base):
    """One version of a briefing for an org unit and period, with what it was built from.

    ``params`` holds the period, the options and the ids of the stored
    analysis runs (jobs) behind its maps, so the briefing can be reproduced;
    ``content`` holds every figure shown. A published version is frozen:
    regenerating makes a new draft version.
    """

    __tablename__ = "report_briefings"
    __table_args__ = (UniqueConstraint("kind", "org_unit_id", "period_start", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    org_path: Mapped[str] = mapped_column(String(200), index=True)
    period_label: Mapped[str] = mapped_column(String(60))
    period_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default=BriefingStatus.DRAFT.value, index=True)
    language: Mapped[str] = mapped_column(String(10), default="zh")
    params: Mapped[str] = mapped_column(Text, default="{}")
    content: Mapped[str] = mapped_column(Text, default="{}")
    html: Mapped[str] = mapped_column(Text, default="")
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_by: Mapped[str | None] = mapped_column(String(100))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    def params_dict(self) -> dict[str, Any]:
        return dict(json.loads(self.params))

    def content_dict(self) -> dict[str, Any]:
        return dict(json.loads(self.content))


class BriefingComment(Base):
    """An analyst's comment on a draft; published with the briefing."""

    __tablename__ = "report_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    briefing_id: Mapped[int] = mapped_column(
        ForeignKey("report_briefings.id", ondelete="CASCADE"), index=True
    )
    section: Mapped[str] = mapped_column(String(40), default="general")
    author: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Campaign(Base):
    """A special rectification of an area for a period, and its last evaluation."""

    __tablename__ = "report_campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    org_path: Mapped[str] = mapped_column(String(200), index=True)
    area: Mapped[BaseGeometry] = mapped_column(Geometry("MULTIPOLYGON"))
    incident_types: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of codes
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    band_m: Mapped[float] = mapped_column(Float, default=500.0)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    evaluation: Mapped[str | None] = mapped_column(Text)
    evaluated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    def types_list(self) -> list[str]:
        out: list[str] = json.loads(self.incident_types)
        return out
