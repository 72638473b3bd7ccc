"""OSM tag handling: classes, speed limits, one-way roads, reversed edges."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from shapely import LineString
from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.dispatch.models import DEFAULT_SPEED_KMH, RoadClass, RoadEdge, RoadNode
from pingan.dispatch.osm import (
    network_from_frames,
    oneway_flags,
    parse_maxspeed,
    road_class,
)
from pingan.dispatch.roads import store_network
from pingan.org.principal import Principal

pd = pytest.importorskip("pandas")


@pytest.mark.parametrize(
    ("highway", "expected"),
    [
        ("motorway", RoadClass.MOTORWAY),
        ("motorway_link", RoadClass.MOTORWAY),
        ("trunk_link", RoadClass.TRUNK),
        ("primary", RoadClass.PRIMARY),
        ("living_street", RoadClass.RESIDENTIAL),
        ("service", RoadClass.SERVICE),
        ("busway", RoadClass.UNCLASSIFIED),
        (None, RoadClass.UNCLASSIFIED),
    ],
)
def test_highway_maps_onto_road_class(highway: str | None, expected: RoadClass) -> None:
    assert road_class(highway) == expected


@pytest.mark.parametrize(
    ("maxspeed", "expected"),
    [
        ("50", 50.0),
        ("50 km/h", 50.0),
        ("30 mph", 30 * 1.609344),
        ("20mph", 20 * 1.609344),
        ("50;30", 50.0),
        (60, 60.0),
        ("FI:urban", DEFAULT_SPEED_KMH[RoadClass.PRIMARY]),
        ("walk", DEFAULT_SPEED_KMH[RoadClass.PRIMARY]),
        ("none", DEFAULT_SPEED_KMH[RoadClass.PRIMARY]),
        ("0", DEFAULT_SPEED_KMH[RoadClass.PRIMARY]),
        (None, DEFAULT_SPEED_KMH[RoadClass.PRIMARY]),
    ],
)
def test_maxspeed_parsing(maxspeed: object, expected: float) -> None:
    assert parse_maxspeed(maxspeed, RoadClass.PRIMARY) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("oneway", "road", "junction", "expected"),
    [
        ("yes", RoadClass.PRIMARY, None, (True, False)),
        ("true", RoadClass.PRIMARY, None, (True, False)),
        ("1", RoadClass.PRIMARY, None, (True, False)),
        ("-1", RoadClass.PRIMARY, None, (True, True)),
        ("no", RoadClass.MOTORWAY, None, (False, False)),
        (None, RoadClass.MOTORWAY, None, (True, False)),
        (None, RoadClass.TERTIARY, "roundabout", (True, False)),
        (None, RoadClass.TERTIARY, None, (False, False)),
    ],
)
def test_oneway_flags(
    oneway: str | None, road: RoadClass, junction: str | None, expected: tuple[bool, bool]
) -> None:
    assert oneway_flags(oneway, road, junction) == expected


def test_contraflow_edges_are_reversed_and_dangling_edges_dropped(session: Session) -> None:
    nodes = pd.DataFrame({"id": [10, 20, 30], "lon": [24.0, 24.001, 24.002], "lat": [60.0] * 3})
    a, b, c = (24.0, 60.0), (24.001, 60.0), (24.002, 60.0)
    edges = pd.DataFrame(
        {
            "u": [10, 20, 20],
            "v": [20, 30, 99],
            "highway": ["primary", "residential", "residential"],
            "maxspeed": ["40", None, None],
            "oneway": [None, "-1", None],
            "name": ["Main Street", None, None],
            "id": [1, 2, 3],
            "geometry": [LineString([a, b]), LineString([b, c]), LineString([b, c])],
        }
    )
    network = network_from_frames(nodes, edges)
    assert network.dropped_edges == 1  # node 99 is not in the extract
    assert network.edge_from.tolist() == [10, 30] and network.edge_to.tolist() == [20, 20]
    assert network.edge_oneway.tolist() == [False, True]
    assert list(network.edge_geom[1].coords) == [c, b]
    assert network.edge_speed.tolist() == [40.0, DEFAULT_SPEED_KMH[RoadClass.RESIDENTIAL]]
    # 0.001 degree of longitude at 60 N is about 55.8 m.
    assert network.edge_length == pytest.approx([55.8, 55.8], abs=0.1)

    store_network(session, network, source="osm:toy", actor=Principal.system("test"))
    reversed_edge = session.scalar(select(RoadEdge).where(RoadEdge.osm_id == 2))
    assert reversed_edge is not None
    start = session.get(RoadNode, reversed_edge.from_node_id)
    assert start is not None and start.osm_id == 30
    assert list(reversed_edge.geom.coords) == [c, b]


def test_missing_pyrosm_gives_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pingan.dispatch.osm import read_osm_network
    from pingan.kit.errors import ValidationFailed

    monkeypatch.setitem(sys.modules, "pyrosm", None)  # as if the osm extra were not installed
    with pytest.raises(ValidationFailed, match=r"pip install 'pingan\[osm\]'"):
        read_osm_network(tmp_path / "city.osm.pbf")
