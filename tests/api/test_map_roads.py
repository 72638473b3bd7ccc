"""The console's road layer: GET /api/v1/map/roads.geojson."""

from __future__ import annotations

from fastapi.testclient import TestClient
from shapely import LineString
from sqlalchemy import Engine

from pingan.dispatch.models import RoadEdge, RoadNode
from pingan.kit.db import session_scope
from tests.api.conftest import login

URL = "/api/v1/map/roads.geojson"


def _seed_roads(engine: Engine) -> None:
    """A two-way motorway A-B (two edges), a one-way residential street B-C far east."""
    coords = {"A": (120.00, 30.00), "B": (120.01, 30.00), "C": (120.50, 30.00)}
    with session_scope(engine) as session:
        nodes = {}
        for name, (lon, lat) in coords.items():
            node = RoadNode(source="test", lon=lon, lat=lat, x=lon * 1e5, y=lat * 1e5)
            session.add(node)
            nodes[name] = node
        session.flush()

        def edge(a: str, b: str, road_class: str, oneway: bool) -> RoadEdge:
            return RoadEdge(
                source="test", from_node_id=nodes[a].id, to_node_id=nodes[b].id,
                road_class=road_class, name=f"{a}{b}", speed_kmh=50, length_m=1000,
                oneway=oneway, geom=LineString([coords[a], coords[b]]),
            )  # fmt: skip

        session.add_all(
            [
                edge("A", "B", "motorway", False),
                edge("B", "A", "motorway", False),
                edge("B", "C", "residential", True),
            ]
        )


def test_roads_need_a_login(client: TestClient, people: dict[str, int]) -> None:
    response = client.get(URL)
    assert response.status_code == 401


def test_roads_by_class_and_bbox(
    client: TestClient, people: dict[str, int], engine: Engine
) -> None:
    _seed_roads(engine)
    headers = login(client, "w1_worker")

    everything = client.get(URL, headers=headers)
    assert everything.status_code == 200
    assert everything.headers["content-type"].startswith("application/geo+json")
    features = everything.json()["features"]
    # The two-way motorway appears once.
    assert sorted(f["properties"]["name"] for f in features) == ["AB", "BC"]
    assert {f["geometry"]["type"] for f in features} == {"LineString"}

    major = client.get(URL, params={"min_class": "primary"}, headers=headers).json()
    assert [f["properties"]["class"] for f in major["features"]] == ["motorway"]

    west = client.get(URL, params={"bbox": "119.9,29.9,120.005,30.1"}, headers=headers).json()
    assert [f["properties"]["name"] for f in west["features"]] == ["AB"]
    assert west["truncated"] is False

    capped = client.get(URL, params={"limit": 1}, headers=headers).json()
    assert len(capped["features"]) == 1 and capped["truncated"] is True


def test_bad_bbox_is_a_problem(client: TestClient, people: dict[str, int]) -> None:
    headers = login(client, "chief")
    for bbox in ("1,2,3", "121,30,120,31", "a,b,c,d"):
        response = client.get(URL, params={"bbox": bbox}, headers=headers)
        assert response.status_code == 422, bbox
        assert response.json()["field"] == "bbox"
    unknown = client.get(URL, params={"min_class": "footpath"}, headers=headers)
    assert unknown.status_code == 422
