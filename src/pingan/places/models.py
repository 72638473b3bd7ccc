"""Tables of the places domain."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, Geometry, UTCDateTime, utcnow


class PlaceKind(StrEnum):
    AIRPORT = "airport"
    RAIL_STATION = "rail_station"
    METRO_STATION = "metro_station"
    SQUARE = "square"
    GOVERNMENT_AREA = "government_area"
    CONSULAR_AREA = "consular_area"
    COMMERCIAL_STREET = "commercial_street"
    SCHOOL = "school"
    HOSPITAL = "hospital"
    STADIUM = "stadium"


class Management(StrEnum):
    PROPERTY_COMPANY = "property_company"
    SELF_MANAGED = "self_managed"
    UNMANAGED = "unmanaged"


class Place(Base):
    """A key site (a point or small polygon) or key area with a protection level.

    Protection level 1 is the highest (airport, main rail hub), 3 the lowest.
    """

    __tablename__ = "places"
    __table_args__ = (
        Index("ix_places_geom", "geom", postgresql_using="gist").ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    protection_level: Mapped[int] = mapped_column(SmallInteger)
    geom: Mapped[BaseGeometry] = mapped_column(Geometry("GEOMETRY"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ResidentialCompound(Base):
    """A residential compound (小区) and how it is managed."""

    __tablename__ = "residential_compounds"
    __table_args__ = (
        Index("ix_residential_compounds_geom", "geom", postgresql_using="gist").ddl_if(
            dialect="postgresql"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    geom: Mapped[BaseGeometry] = mapped_column(Geometry("POLYGON"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    households: Mapped[int] = mapped_column(Integer)
    buildings: Mapped[int] = mapped_column(Integer)
    built_year: Mapped[int | None] = mapped_column(Integer)
    management: Mapped[str] = mapped_column(String(30))
    property_company: Mapped[str | None] = mapped_column(String(200))
    has_access_control: Mapped[bool] = mapped_column(Boolean, default=False)
    has_cctv: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
