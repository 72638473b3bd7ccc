"""Tables of responders, their teams and where they last were."""

from __future__ import annotations

import datetime as dt
from enum import IntEnum, StrEnum

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, BigIntPK, UTCDateTime, utcnow


class Tier(IntEnum):
    PROFESSIONAL = 1
    CITY_STAFF = 2
    VOLUNTEER = 3


class ResponderKind(StrEnum):
    POLICE_UNIT = "police_unit"
    QUICK_RESPONSE_TEAM = "quick_response_team"
    AUXILIARY_POLICE = "auxiliary_police"
    JOINT_DEFENCE_TEAM = "joint_defence_team"
    CITY_MANAGEMENT = "city_management"
    GRID_WORKER = "grid_worker"
    GATEKEEPER = "gatekeeper"
    VOLUNTEER = "volunteer"


TIER_OF_KIND: dict[str, Tier] = {
    ResponderKind.POLICE_UNIT: Tier.PROFESSIONAL,
    ResponderKind.QUICK_RESPONSE_TEAM: Tier.PROFESSIONAL,
    ResponderKind.AUXILIARY_POLICE: Tier.PROFESSIONAL,
    ResponderKind.JOINT_DEFENCE_TEAM: Tier.PROFESSIONAL,
    ResponderKind.CITY_MANAGEMENT: Tier.CITY_STAFF,
    ResponderKind.GRID_WORKER: Tier.CITY_STAFF,
    ResponderKind.GATEKEEPER: Tier.CITY_STAFF,
    ResponderKind.VOLUNTEER: Tier.VOLUNTEER,
}


class Availability(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    OFF_DUTY = "off_duty"


class PostKind(StrEnum):
    FIXED = "fixed"
    PATROL = "patrol"
    MOVING = "moving"


class ResponseUnit(Base):
    """A team (e.g. a quick-response team) with a standby post."""

    __tablename__ = "dispatch_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    post_kind: Mapped[str] = mapped_column(String(20), default=PostKind.FIXED)
    post_lon: Mapped[float | None] = mapped_column(Float)
    post_lat: Mapped[float | None] = mapped_column(Float)
    vehicles: Mapped[int] = mapped_column(SmallInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Responder(Base):
    """A person who chose to serve. Display name only; no other personal fields."""

    __tablename__ = "responders"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    tier: Mapped[int] = mapped_column(SmallInteger, index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("dispatch_units.id"), index=True)
    # The responder's own login, so they can set their availability themselves.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    travel_mode: Mapped[str] = mapped_column(String(10), default="drive")
    availability: Mapped[str] = mapped_column(String(20), default=Availability.OFF_DUTY)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ResponderPosition(Base):
    """The latest known position of each on-duty responder (one row each)."""

    __tablename__ = "responder_positions"

    responder_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("responders.id", ondelete="CASCADE"),
        primary_key=True,
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)


class TrailPoint(Base):
    """A short trail: points older than the trail window are deleted on each batch."""

    __tablename__ = "responder_trail"
    __table_args__ = (Index("ix_responder_trail_responder_at", "responder_id", "at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    responder_id: Mapped[int] = mapped_column(ForeignKey("responders.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
