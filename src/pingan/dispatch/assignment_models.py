"""Tables of dispatch: assignments of responders to incidents and the incident timeline."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Float, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, BigIntPK, Geometry, UTCDateTime, utcnow


class AssignmentStatus(StrEnum):
    DISPATCHED = "dispatched"
    ACKNOWLEDGED = "acknowledged"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    CLEARED = "cleared"
    # Not acknowledged in time; a replacement was sought.
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"


ACTIVE_STATUSES = (
    AssignmentStatus.DISPATCHED,
    AssignmentStatus.ACKNOWLEDGED,
    AssignmentStatus.EN_ROUTE,
    AssignmentStatus.ON_SCENE,
)


class Assignment(Base):
    """One responder sent to one incident, for one slot of the response plan."""

    __tablename__ = "dispatch_assignments"
    __table_args__ = (Index("ix_dispatch_assignments_status_deadline", "status", "ack_deadline"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    responder_id: Mapped[int] = mapped_column(ForeignKey("responders.id"), index=True)
    # The plan slot this assignment fills: which tier, skill and radius were asked for.
    slot: Mapped[int] = mapped_column(SmallInteger)
    want_tier: Mapped[int] = mapped_column(SmallInteger)
    want_skill: Mapped[str | None] = mapped_column(String(50))
    within_m: Mapped[float | None] = mapped_column(Float)
    ack_seconds: Mapped[int] = mapped_column(Integer)
    tier: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(20), default=AssignmentStatus.DISPATCHED)
    eta_s: Mapped[float | None] = mapped_column(Float)
    route: Mapped[BaseGeometry | None] = mapped_column(Geometry("LINESTRING"))
    dispatched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ack_deadline: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    en_route_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    on_scene_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    cleared_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    timed_out_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))


class TimelineEntry(Base):
    """One step on an incident's dispatch timeline."""

    __tablename__ = "dispatch_timeline"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("dispatch_assignments.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text, default="{}")
