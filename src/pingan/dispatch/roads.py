"""Importing a real OpenStreetMap road network into the road tables.

The network read by ``pingan.dispatch.osm`` is stored through
``dispatch.service.add_road_graph`` (the same path the synthetic city uses),
tagged with the source ``osm:<file name>`` so a later import of the same
file can replace it. Node x/y are metres in the city's CRS; with no city
yet, the UTM zone of the network's centre becomes the city's CRS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from pingan.dispatch.models import RoadEdge, RoadNode
from pingan.dispatch.osm import RoadNetwork, read_osm_network
from pingan.dispatch.service import RoadGraphIn, add_road_graph
from pingan.kit import audit, meta
from pingan.kit.errors import Conflict
from pingan.kit.geo import Projector, utm_crs_for
from pingan.org.principal import Principal
from pingan.org.service import city_projector, set_city_crs

# Bumped on every change to the stored roads, so routing caches know to rebuild.
ROADS_VERSION_KEY = "roads.version"

Stage = Callable[[str], None]


@dataclass(frozen=True)
class RoadImport:
    source: str
    crs: str
    nodes: int
    edges: int
    replaced_edges: int
    dropped_edges: int


def import_roads(
    session: Session,
    path: Path,
    *,
    actor: Principal,
    replace: bool = False,
    on_stage: Stage | None = None,
) -> RoadImport:
    """Read ``path`` and store its network in the caller's transaction."""
    if on_stage is not None:
        on_stage(f"reading {path.name}")
    network = read_osm_network(path)
    if on_stage is not None:
        on_stage(f"storing {len(network.node_osm_id)} nodes and {len(network.edge_from)} edges")
    return store_network(session, network, source=f"osm:{path.name}", actor=actor, replace=replace)


def store_network(
    session: Session,
    network: RoadNetwork,
    *,
    source: str,
    actor: Principal,
    replace: bool = False,
) -> RoadImport:
    existing = int(
        session.scalar(select(func.count(RoadEdge.id)).where(RoadEdge.source == source)) or 0
    )
    if existing and not replace:
        raise Conflict(
            f"{existing} road edges from {source!r} are stored already; use --replace",
            field="source",
        )
    if replace:
        _delete_source(session, source, actor, existing)
    projector = _projector_for(session, network)
    x, y = projector.to_metric(network.node_lon, network.node_lat)
    # node_osm_id is sorted (np.unique), so searchsorted gives each edge's node positions.
    graph = RoadGraphIn(
        node_lon=network.node_lon,
        node_lat=network.node_lat,
        node_x=x,
        node_y=y,
        edge_from=np.searchsorted(network.node_osm_id, network.edge_from).astype(np.int64),
        edge_to=np.searchsorted(network.node_osm_id, network.edge_to).astype(np.int64),
        edge_class=network.edge_class,
        edge_name=network.edge_name,
        edge_speed_kmh=network.edge_speed,
        edge_length_m=network.edge_length,
        edge_oneway=network.edge_oneway,
        edge_geom=list(network.edge_geom),
        node_osm_id=network.node_osm_id.tolist(),
        edge_osm_id=network.edge_osm_id,
    )
    add_road_graph(session, graph, source=source, actor=actor)
    meta.bump_version(session, ROADS_VERSION_KEY)
    return RoadImport(
        source=source,
        crs=projector.crs,
        nodes=len(network.node_osm_id),
        edges=len(network.edge_from),
        replaced_edges=existing,
        dropped_edges=network.dropped_edges,
    )


def _delete_source(session: Session, source: str, actor: Principal, edges: int) -> None:
    session.execute(delete(RoadEdge).where(RoadEdge.source == source))
    session.execute(delete(RoadNode).where(RoadNode.source == source))
    audit.record(
        session,
        actor=actor.actor,
        action="dispatch.roads.delete",
        object_type="road_graph",
        detail={"source": source, "edges": edges},
    )


def _projector_for(session: Session, network: RoadNetwork) -> Projector:
    """The city's metric CRS; with no city yet, the UTM zone of the network's centre."""
    projector = city_projector(session, required=False)
    if projector is None:
        crs = utm_crs_for(float(np.mean(network.node_lon)), float(np.mean(network.node_lat)))
        set_city_crs(session, crs)
        projector = Projector(crs)
    return projector
