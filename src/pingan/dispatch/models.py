"""The road network: a directed graph of nodes and edges with classes and speeds."""

from __future__ import annotations

from enum import StrEnum

from shapely.geometry.base import BaseGeometry
from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, BigIntPK, Geometry


class RoadClass(StrEnum):
    MOTORWAY = "motorway"
    TRUNK = "trunk"
    PRIMARY = "primary"
    SECONDARY = "secondary"
    TERTIARY = "tertiary"
    RESIDENTIAL = "residential"
    SERVICE = "service"
    UNCLASSIFIED = "unclassified"


# Free-flow speeds used when a road carries no speed limit of its own.
DEFAULT_SPEED_KMH: dict[str, float] = {
    RoadClass.MOTORWAY: 90.0,
    RoadClass.TRUNK: 70.0,
    RoadClass.PRIMARY: 50.0,
    RoadClass.SECONDARY: 40.0,
    RoadClass.TERTIARY: 35.0,
    RoadClass.RESIDENTIAL: 25.0,
    RoadClass.SERVICE: 15.0,
    RoadClass.UNCLASSIFIED: 30.0,
}


class RoadNode(Base):
    __tablename__ = "road_nodes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    osm_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)


class RoadEdge(Base):
    """A drivable road segment from one node to another.

    Two-way roads are stored as one edge with ``oneway`` false; the routing
    graph adds the reverse direction.
    """

    __tablename__ = "road_edges"
    __table_args__ = (
        Index("ix_road_edges_geom", "geom", postgresql_using="gist").ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    from_node_id: Mapped[int] = mapped_column(ForeignKey("road_nodes.id"), index=True)
    to_node_id: Mapped[int] = mapped_column(ForeignKey("road_nodes.id"), index=True)
    road_class: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(200))
    speed_kmh: Mapped[float] = mapped_column(Float)
    length_m: Mapped[float] = mapped_column(Float)
    oneway: Mapped[bool] = mapped_column(Boolean, default=False)
    osm_id: Mapped[int | None] = mapped_column(BigInteger)
    geom: Mapped[BaseGeometry] = mapped_column(Geometry("LINESTRING"))


# Responders, units and assignments live in their own modules; importing them
# here registers their tables with the metadata that migrations compare against.
from pingan.dispatch import assignment_models as assignment_models  # noqa: E402
from pingan.dispatch import command_models as command_models  # noqa: E402
from pingan.dispatch import responder_models as responder_models  # noqa: E402
from pingan.dispatch import shift_models as shift_models  # noqa: E402
