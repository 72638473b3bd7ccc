"""Tables of the camera registry: owners, the users who act for them, cameras."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, BigIntPK, Geometry, UTCDateTime, utcnow


class Network(StrEnum):
    PUBLIC_HD = "public_hd"
    CITY_MANAGEMENT = "city_management"
    SOCIAL = "social"
    COMMUNITY = "community"
    SCHOOL = "school"
    HOSPITAL = "hospital"
    TRANSPORT = "transport"
    OTHER = "other"


class CameraStatus(StrEnum):
    """Registry lifecycle; whether a camera is online right now is health's business."""

    ACTIVE = "active"
    MAINTENANCE = "maintenance"
    RETIRED = "retired"


class AccessLevel(StrEnum):
    """What the sharing agreement lets the city do with an owner's camera."""

    FULL = "full"  # live view and recordings
    ON_REQUEST = "on_request"  # recordings on a formal request
    LOCATION_ONLY = "location_only"  # counted for coverage, no access


class CameraOwner(Base):
    """An organisation that owns cameras: a bureau, a school, a mall, a compound."""

    __tablename__ = "camera_owners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30), default="organisation")
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(50))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CameraOwnerUser(Base):
    """A user who manages an owner's cameras (and only those)."""

    __tablename__ = "camera_owner_users"
    __table_args__ = (UniqueConstraint("owner_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("camera_owners.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class Camera(Base):
    """One camera: where it is, where it looks, and under which agreement the city may use it.

    ``x``/``y`` repeat the location in the city's metric projection so coverage
    reads plain float columns instead of parsing geometries.
    """

    __tablename__ = "cameras"
    __table_args__ = (
        UniqueConstraint("owner_id", "owner_camera_id"),
        Index("ix_cameras_xy", "x", "y"),
        Index("ix_cameras_location", "location", postgresql_using="gist").ddl_if(
            dialect="postgresql"
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("camera_owners.id"), index=True)
    owner_camera_id: Mapped[str] = mapped_column(String(100))
    network: Mapped[str] = mapped_column(String(30), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=CameraStatus.ACTIVE.value, index=True)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    location: Mapped[BaseGeometry] = mapped_column(Geometry("POINT"))
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    height_m: Mapped[float | None] = mapped_column(Float)
    heading_deg: Mapped[float] = mapped_column(Float, default=0.0)
    fov_deg: Mapped[float] = mapped_column(Float, default=90.0)
    range_m: Mapped[float] = mapped_column(Float, default=30.0)
    resolution: Mapped[str | None] = mapped_column(String(30))
    ptz: Mapped[bool] = mapped_column(Boolean, default=False)
    installed_on: Mapped[dt.date | None] = mapped_column(Date)
    access_level: Mapped[str] = mapped_column(String(20), default=AccessLevel.ON_REQUEST.value)
    sharing_contact: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StreetSegment(Base):
    """A short piece of a road edge, the unit of street coverage.

    ``cover_count`` is how many active cameras see the segment's sample
    point; it is kept current by full recomputes and by incremental updates.
    """

    __tablename__ = "camera_street_segments"
    __table_args__ = (
        UniqueConstraint("edge_id", "seq"),
        Index("ix_camera_street_segments_xy", "x", "y"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    edge_id: Mapped[int] = mapped_column(ForeignKey("road_edges.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    road_class: Mapped[str] = mapped_column(String(20))
    length_m: Mapped[float] = mapped_column(Float)
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    geom: Mapped[BaseGeometry] = mapped_column(Geometry("LINESTRING"))
    cover_count: Mapped[int] = mapped_column(Integer, default=0)


class PlacementPlan(Base):
    """A computed placement plan: its parameters and the chosen sites in order (JSON)."""

    __tablename__ = "camera_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(20))
    params: Mapped[str] = mapped_column(Text, default="{}")
    result: Mapped[str] = mapped_column(Text, default="{}")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BuildingFootprint(Base):
    """A building outline that blocks cameras' views, loaded from a footprint layer.

    ``cx``/``cy`` (metres) and ``reach`` (half the bounding-box diagonal) let a
    one-camera update fetch only the buildings that can stand in its way.
    """

    __tablename__ = "camera_building_footprints"
    __table_args__ = (Index("ix_camera_building_footprints_cxy", "cx", "cy"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    geom: Mapped[BaseGeometry] = mapped_column(Geometry("GEOMETRY"))
    cx: Mapped[float] = mapped_column(Float)
    cy: Mapped[float] = mapped_column(Float)
    reach: Mapped[float] = mapped_column(Float)
