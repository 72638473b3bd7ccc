"""Dispatch service: storing a road graph in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from shapely import LineString
from sqlalchemy import insert
from sqlalchemy.orm import Session

from pingan.dispatch.models import RoadEdge, RoadNode
from pingan.kit import audit
from pingan.kit.errors import ValidationFailed
from pingan.org.permissions import Perm
from pingan.org.principal import Principal

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class RoadGraphIn:
    """Nodes and edges as parallel arrays; edges name nodes by position in the node arrays.

    Coordinates: ``lon``/``lat`` WGS84, ``x``/``y`` metres in the city's CRS;
    edge geometries are WGS84 lon/lat.
    """

    node_lon: FloatArray
    node_lat: FloatArray
    node_x: FloatArray
    node_y: FloatArray
    edge_from: IntArray
    edge_to: IntArray
    edge_class: Sequence[str]
    edge_name: Sequence[str | None]
    edge_speed_kmh: FloatArray
    edge_length_m: FloatArray
    edge_oneway: NDArray[np.bool_]
    edge_geom: Sequence[LineString]
    node_osm_id: Sequence[int | None] | None = None
    edge_osm_id: Sequence[int | None] | None = None


def add_road_graph(
    session: Session, graph: RoadGraphIn, *, source: str, actor: Principal
) -> tuple[IntArray, IntArray]:
    """Insert the graph in the caller's transaction; returns (node ids, edge ids) in input order."""
    actor.require(Perm.ORG_WRITE)
    n_nodes, n_edges = len(graph.node_lon), len(graph.edge_from)
    if n_edges and (
        min(graph.edge_from.min(), graph.edge_to.min()) < 0
        or max(graph.edge_from.max(), graph.edge_to.max()) >= n_nodes
    ):
        raise ValidationFailed("an edge names a node that is not in the graph", field="edge_from")
    node_osm = graph.node_osm_id or [None] * n_nodes
    node_rows = [
        {"source": source, "osm_id": osm, "lon": lon, "lat": lat, "x": x, "y": y}
        for lon, lat, x, y, osm in zip(
            graph.node_lon.tolist(), graph.node_lat.tolist(), graph.node_x.tolist(),
            graph.node_y.tolist(), node_osm, strict=True,
        )
    ]  # fmt: skip
    node_ids = _insert_returning_ids(session, RoadNode, node_rows)
    edge_osm = graph.edge_osm_id or [None] * n_edges
    edge_rows = [
        {
            "source": source, "from_node_id": int(node_ids[a]), "to_node_id": int(node_ids[b]),
            "road_class": cls, "name": name, "speed_kmh": speed, "length_m": length,
            "oneway": oneway, "osm_id": osm, "geom": geom,
        }
        for a, b, cls, name, speed, length, oneway, osm, geom in zip(
            graph.edge_from.tolist(), graph.edge_to.tolist(), graph.edge_class, graph.edge_name,
            graph.edge_speed_kmh.tolist(), graph.edge_length_m.tolist(),
            graph.edge_oneway.tolist(), edge_osm, graph.edge_geom, strict=True,
        )
    ]  # fmt: skip
    edge_ids = _insert_returning_ids(session, RoadEdge, edge_rows)
    audit.record(
        session,
        actor=actor.actor,
        action="dispatch.roads.create",
        object_type="road_graph",
        detail={"source": source, "nodes": n_nodes, "edges": n_edges},
    )
    return node_ids, edge_ids


def _insert_returning_ids(
    session: Session, table: type[RoadNode] | type[RoadEdge], rows: list[dict[str, object]]
) -> IntArray:
    if not rows:
        return np.empty(0, dtype=np.int64)
    stmt = insert(table).returning(table.id, sort_by_parameter_order=True)
    ids = session.scalars(stmt, rows).all()
    return np.asarray(ids, dtype=np.int64)
