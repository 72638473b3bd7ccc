"""Tables of the incidents domain."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, BigIntPK, Geometry, UTCDateTime, utcnow


class Source(StrEnum):
    CALL = "call"
    GRID_REPORT = "grid_report"
    PATROL = "patrol"
    CAMERA_OPERATOR = "camera_operator"
    PUBLIC = "public"
    IMPORT = "import"
    SIM = "sim"


class Status(StrEnum):
    REPORTED = "reported"
    DISPATCHED = "dispatched"
    ON_SCENE = "on_scene"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class IncidentType(Base):
    """A node of the configurable, hierarchical incident taxonomy."""

    __tablename__ = "incident_types"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("incident_types.id"))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    default_severity: Mapped[int] = mapped_column(SmallInteger, default=2)


class Incident(Base):
    """A typed point in space and time.

    The grid and all its ancestors are stored on the row at intake, so org
    scope and per-area counts are indexed equality filters, not spatial joins.
    ``x``/``y`` are metres in the city's projection, ready for analytics.
    """

    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_incidents_district_occurred", "district_id", "occurred_at"),
        Index("ix_incidents_grid_occurred", "grid_id", "occurred_at"),
        Index("ix_incidents_geom", "geom", postgresql_using="gist").ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("incident_types.id"))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    geom: Mapped[BaseGeometry] = mapped_column(Geometry("POINT"))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    severity: Mapped[int] = mapped_column(SmallInteger)
    source: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default=Status.REPORTED)
    external_id: Mapped[str | None] = mapped_column(String(128))
    summary: Mapped[str | None] = mapped_column(Text)
    grid_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    community_id: Mapped[int] = mapped_column(Integer)
    subdistrict_id: Mapped[int] = mapped_column(Integer)
    district_id: Mapped[int] = mapped_column(Integer)
    city_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
