"""Hotspot layers: a planted dense spot is hot at 99 %, nothing else is; scope holds."""

from __future__ import annotations

import math
from typing import Any

import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape

from tests.incidents.analysis.conftest import SPOT, Planted

HOTSPOTS = "/api/v1/analysis/hotspots"
METRES_PER_DEGREE = 111_320.0


def _metres_from_spot(feature: dict[str, Any]) -> float:
    centre = shape(feature["geometry"]).centroid
    dx = (centre.x - SPOT[0]) * METRES_PER_DEGREE * math.cos(math.radians(SPOT[1]))
    dy = (centre.y - SPOT[1]) * METRES_PER_DEGREE
    return math.hypot(dx, dy)


def _spot_feature(doc: dict[str, Any]) -> dict[str, Any]:
    point = shapely.Point(SPOT)
    return next(f for f in doc["features"] if shape(f["geometry"]).contains(point))


def test_planted_spot_is_hot_99_and_nothing_far_from_it_is_hot(
    api: TestClient, keys: dict[str, dict[str, str]], planted: Planted
) -> None:
    headers = keys["chief"]
    query = {"cell_size_m": 250, "permutations": 999, "fdr": True}
    response = api.get(HOTSPOTS, params=query, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    doc = response.json()
    spot = _spot_feature(doc)["properties"]
    assert spot["class"] == 3 and spot["label"] == "hot 99%"
    assert spot["count"] >= 40 and spot["z"] > 3 and spot["p"] < 0.01 and 0 < spot["p_sim"] <= 1
    for feature in doc["features"]:
        if _metres_from_spot(feature) > 2.5 * 250:  # beyond the spot cell's neighbours
            assert feature["properties"]["class"] <= 0, feature["properties"]
    # Conditional permutation keeps the spike's own count fixed and finds its neighbours ordinary.
    perm = api.get(HOTSPOTS, params={**query, "inference": "permutation"}, headers=headers)
    assert _spot_feature(perm.json())["properties"]["class"] < 3
    summary = doc["summary"]
    assert (
        summary["n_events"]
        == planted.total
        == sum(f["properties"]["count"] for f in doc["features"])
    )
    assert summary["moran"]["i"] > 0
    assert summary["selection"]["actor"].endswith(":chief")


def test_gi_local_moran_and_grids(
    api: TestClient, keys: dict[str, dict[str, str]], planted: Planted
) -> None:
    headers = keys["chief"]
    gi = api.get(HOTSPOTS, params={"statistic": "gi", "permutations": 199}, headers=headers).json()
    assert _spot_feature(gi)["properties"]["class"] > 0
    lisa = api.get(HOTSPOTS, params={"statistic": "local_moran"}, headers=headers).json()
    spot = _spot_feature(lisa)["properties"]
    assert spot["quadrant"] in ("HH", "HL") and spot["label"].startswith("high-")
    grids = api.get(
        HOTSPOTS, params={"unit": "grid", "permutations": 0, "weights": "queen"}, headers=headers
    ).json()
    ids = {f["properties"]["id"]: f["properties"] for f in grids["features"]}
    assert set(ids) == {"W1", "W2", "E1", "E2"}
    assert ids["W2"]["count"] == max(p["count"] for p in ids.values())
    assert sum(p["count"] for p in ids.values()) == planted.total
    knn = api.get(HOTSPOTS, params={"weights": "knn", "k": 4, "significant_only": True},
                  headers=headers).json()  # fmt: skip
    assert knn["features"] and all(f["properties"]["class"] != 0 for f in knn["features"])


def test_district_analyst_gets_no_cells_of_the_other_district(
    api: TestClient, keys: dict[str, dict[str, str]], planted: Planted
) -> None:
    headers = keys["east_analyst"]
    doc = api.get(HOTSPOTS, params={"cell_size_m": 250}, headers=headers).json()
    # Every cell reaches into the east district (x >= 120.02); the west spot is not there.
    assert all(shape(f["geometry"]).bounds[2] > 120.02 for f in doc["features"])
    assert not any(shape(f["geometry"]).contains(shapely.Point(SPOT)) for f in doc["features"])
    counts = sum(f["properties"]["count"] for f in doc["features"])
    assert counts == doc["summary"]["n_events"] == planted.east
    # The east district has two grids: too few for a local statistic (not four, with the west's).
    grids = api.get(HOTSPOTS, params={"unit": "grid", "permutations": 0}, headers=headers)
    assert grids.status_code == 422 and "only 2 locations" in grids.json()["detail"]


def test_h3_hexagons_as_locations(
    api: TestClient, keys: dict[str, dict[str, str]], planted: Planted
) -> None:
    import h3

    headers = keys["chief"]
    query = {"unit": "h3", "h3_resolution": 9, "permutations": 99}
    doc = api.get(HOTSPOTS, params=query, headers=headers).json()
    spot = _spot_feature(doc)
    # The hexagon holding the planted spot is H3's own cell for that point.
    assert spot["properties"]["id"] == h3.latlng_to_cell(SPOT[1], SPOT[0], 9)
    assert spot["properties"]["class"] == 3 and spot["geometry"]["type"] == "Polygon"
    assert len(shape(spot["geometry"]).exterior.coords) == 7  # a hexagon, closed
    assert doc["summary"]["h3_resolution"] == 9
    assert doc["summary"]["n_events"] - doc["summary"]["n_events_outside"] == sum(
        f["properties"]["count"] for f in doc["features"]
    )
    emerging = api.get(
        "/api/v1/analysis/emerging", params={"unit": "h3", "h3_resolution": 8}, headers=headers
    )
    assert emerging.status_code == 200 and emerging.json()["features"]
    bad = api.get(HOTSPOTS, params={"unit": "h3", "h3_resolution": 14}, headers=headers)
    assert bad.status_code == 422 and bad.json()["field"] == "h3_resolution"
