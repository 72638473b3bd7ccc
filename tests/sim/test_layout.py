"""The generated city's structure: the org tree, roads and sites fit together."""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sqlalchemy import func, select

from pingan.dispatch.models import DEFAULT_SPEED_KMH, RoadEdge, RoadNode
from pingan.kit.db import engine_for, session_scope
from pingan.kit.geo import PolygonIndex
from pingan.org.levels import Level
from pingan.places.models import Management, Place, PlaceKind, ResidentialCompound
from pingan.sim.city import CitySummary
from pingan.sim.layout_writer import anchor
from pingan.sim.scales import get_scale
from tests.sim import readback


def test_grids_partition_the_city(tiny_city: tuple[str, CitySummary]) -> None:
    url, _ = tiny_city
    units = readback.units(url)
    city = [u for u in units if u.level == Level.CITY]
    grids = [u for u in units if u.level == Level.GRID]
    assert len(city) == 1 and len(grids) >= 20
    shapes = readback.metric(url, [city[0].boundary] + [g.boundary for g in grids])
    city_area = shapes[0].area
    grid_areas = sum(g.area for g in shapes[1:])
    union_area = shapely.union_all(shapes[1:]).area
    assert abs(grid_areas - city_area) / city_area < 1e-3  # no gaps
    assert abs(union_area - grid_areas) / grid_areas < 1e-3  # no overlaps
    # The tiny town is about the size its scale says.
    assert abs(city_area / 1e6 - get_scale("tiny").area_km2) < 0.5


def test_each_level_partitions_its_parent(tiny_city: tuple[str, CitySummary]) -> None:
    url, _ = tiny_city
    units = readback.units(url)
    by_id = {u.id: u for u in units}
    shapes = dict(zip([u.id for u in units], readback.metric(url, [u.boundary for u in units]),
                      strict=True))  # fmt: skip
    children: dict[int, list[int]] = {}
    for u in units:
        if u.parent_id is not None:
            children.setdefault(u.parent_id, []).append(u.id)
    for parent_id, kids in children.items():
        total = sum(shapes[k].area for k in kids)
        assert abs(total - shapes[parent_id].area) / shapes[parent_id].area < 1e-3
    for grid in (u for u in units if u.level == Level.GRID):
        spot = shapes[grid.id].representative_point()
        ancestors = grid.ancestor_ids()[:-1]
        assert len(ancestors) == 4
        for ancestor in ancestors:
            assert shapes[ancestor].buffer(0.01).contains(spot), (grid.code, by_id[ancestor].code)


def test_codes_names_and_people_add_up(tiny_city: tuple[str, CitySummary]) -> None:
    url, summary = tiny_city
    units = readback.units(url)
    by_id = {u.id: u for u in units}
    for u in units:
        assert u.name_zh and u.name_en
        if u.parent_id is not None:
            parent = by_id[u.parent_id]
            assert u.code.startswith(parent.code) or parent.level == Level.CITY
    for parent in units:
        kids = [u for u in units if u.parent_id == parent.id]
        if kids:
            assert parent.population == sum(k.population or 0 for k in kids)
            assert parent.households == sum(k.households or 0 for k in kids)
    city = next(u for u in units if u.level == Level.CITY)
    assert city.population == summary.population
    assert abs((city.population or 0) - get_scale("tiny").population) < 0.02 * 150_000
    grids = [u for u in units if u.level == Level.GRID]
    size = np.array([(g.population or 0) / max(g.households or 1, 1) for g in grids])
    assert ((size > 2.3) & (size < 3.3)).all()


def test_road_graph_is_connected_with_classes_and_speeds(
    tiny_city: tuple[str, CitySummary],
) -> None:
    url, summary = tiny_city
    with session_scope(engine_for(url)) as session:
        node_ids = np.array(session.scalars(select(RoadNode.id).order_by(RoadNode.id)).all())
        edges = session.execute(
            select(RoadEdge.from_node_id, RoadEdge.to_node_id, RoadEdge.road_class,
                   RoadEdge.speed_kmh, RoadEdge.length_m, RoadEdge.source, RoadEdge.geom)
        ).all()  # fmt: skip
    assert len(node_ids) == summary.road_nodes and len(edges) == summary.road_edges
    position = {int(n): i for i, n in enumerate(node_ids)}
    src = np.array([position[e[0]] for e in edges])
    dst = np.array([position[e[1]] for e in edges])
    n = len(node_ids)
    graph = coo_matrix((np.ones(len(edges)), (src, dst)), shape=(n, n))
    n_components, _ = connected_components(graph, directed=False)
    assert n_components == 1
    classes = {e[2] for e in edges}
    assert {"trunk", "primary", "secondary", "tertiary", "residential"} <= classes
    assert all(e[3] == DEFAULT_SPEED_KMH[e[2]] and e[5] == "sim" for e in edges)
    lengths = np.array([e[4] for e in edges])
    measured = np.array([g.length for g in readback.metric(url, [e[6] for e in edges])])
    assert (lengths > 0).all()
    np.testing.assert_allclose(lengths, measured, rtol=1e-3)


def test_key_sites_and_compounds_sit_in_their_grids(tiny_city: tuple[str, CitySummary]) -> None:
    url, _ = tiny_city
    grids = {u.id: u.boundary for u in readback.units(url) if u.level == Level.GRID}
    with session_scope(engine_for(url)) as session:
        places = list(session.scalars(select(Place)))
        compounds = list(session.scalars(select(ResidentialCompound)))
        airports = session.scalar(
            select(func.count()).where(Place.kind == PlaceKind.AIRPORT, Place.protection_level == 1)
        )
    kinds = {p.kind for p in places}
    assert {k.value for k in PlaceKind} <= kinds
    assert airports == 1
    assert {p.protection_level for p in places} == {1, 2, 3}
    for place in places:
        assert place.grid_id is not None
        assert readback.shape(grids[place.grid_id]).buffer(1e-7).contains(anchor(place.geom))
    assert len(compounds) >= 20
    for compound in compounds:
        assert compound.grid_id is not None
        assert readback.shape(grids[compound.grid_id]).buffer(1e-7).contains(compound.geom)
        assert compound.management in {m.value for m in Management}
        assert compound.households > 0 and compound.buildings > 0
        assert (compound.property_company is not None) == (
            compound.management == Management.PROPERTY_COMPANY
        )
    managed = {c.management for c in compounds}
    assert len(managed) >= 2


def test_points_near_grid_edges_fall_in_a_grid(tiny_city: tuple[str, CitySummary]) -> None:
    """Stored in lon/lat, neighbouring grids still meet without slivers between them."""
    url, _ = tiny_city
    units = readback.units(url)
    grids = [u for u in units if u.level == Level.GRID]
    city = next(u for u in units if u.level == Level.CITY)
    index = PolygonIndex([g.id for g in grids], [readback.shape(g.boundary) for g in grids])
    edges = shapely.segmentize(
        shapely.union_all([readback.shape(g.boundary).boundary for g in grids]), 2e-5
    )
    coords = shapely.get_coordinates(edges)
    rng = np.random.default_rng(0)
    points = coords + rng.normal(0.0, 1e-7, coords.shape)  # about a centimetre
    inside = shapely.contains_xy(
        readback.shape(city.boundary).buffer(-1e-5), points[:, 0], points[:, 1]
    )
    assert inside.sum() > 5_000
    located = index.locate(points[inside, 0], points[inside, 1])
    assert (located >= 0).all()
