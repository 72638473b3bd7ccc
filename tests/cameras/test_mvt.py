"""Vector tiles of cameras and street coverage, decoded and checked against the registry.

Positions are in metres of tests/cameras/camkit.py; a tile unit is 1/4096 of
a tile. Expected pixels come from each camera's own lon/lat through the
plain Web Mercator formulas, independent of the tile code.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import mapbox_vector_tile
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pingan.analytics.tiles import lonlat_to_mercator, lonlat_to_tile, tile_bounds
from pingan.cameras import mvt, registry
from pingan.kit.db import session_scope
from tests.api.conftest import login, people  # noqa: F401  (fixture)
from tests.cameras.camkit import SYSTEM, camera, lonlat, standard_cameras
from tests.cameras.layouts import jobless_client, street_grid
from tests.citykit import TestCity

MVT = "application/vnd.mapbox-vector-tile"
# West cameras along R0 and R1, east ones along R2 (see camkit's map).
WEST_AT = [(100.0 + 37 * i, 0.0) for i in range(20)] + [(0.0, 60.0 + 15 * i) for i in range(16)]
EAST_AT = [(2100.0 + 45 * i, 0.0) for i in range(18)]


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with jobless_client(engine) as test_client:
        yield test_client


@pytest.fixture
def cams(
    engine: Engine,
    city: TestCity,
    people: dict[str, int],  # noqa: F811
) -> list[dict[str, Any]]:
    with session_scope(engine) as s:
        street_grid(s)
        made = [
            camera(s, f"w{i}", at, heading=(40.0 * i) % 360, fov=60.0 + i, ptz=i % 5 == 0,
                   network="public_hd" if i % 2 else "social")
            for i, at in enumerate(WEST_AT)
        ] + [camera(s, f"e{i}", at, heading=90.0) for i, at in enumerate(EAST_AT)]  # fmt: skip
        return [c.model_dump(mode="json") for c in made]


@pytest.fixture
def registered(client: TestClient, cams: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Register every camera; w3, w4, w5 go offline, w6 into maintenance, w7 is retired."""
    chief = login(client, "chief")
    res = client.post("/api/v1/cameras", json=cams, headers=chief)
    assert res.status_code == 200 and res.json()["created"] == len(cams), res.text
    by_code = {c["owner_camera_id"]: c for c in _all_cameras(client, chief)}
    now = dt.datetime.now(dt.UTC).isoformat()
    beats = [
        {"camera_id": by_code[code]["id"], "at": now, "online": code not in ("w3", "w4", "w5")}
        for code in ("w1", "w2", "w3", "w4", "w5", "e1")
    ]
    res = client.post("/api/v1/cameras/health/heartbeats", json=beats, headers=chief)
    assert res.status_code == 200 and res.json()["accepted"] == len(beats), res.text
    w6, w7 = by_code["w6"]["id"], by_code["w7"]["id"]
    res = client.patch(f"/api/v1/cameras/{w6}", json={"status": "maintenance"}, headers=chief)
    assert res.status_code == 200, res.text
    assert client.delete(f"/api/v1/cameras/{w7}", headers=chief).status_code == 200
    return {c["owner_camera_id"]: c for c in _all_cameras(client, chief)}


def _all_cameras(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    res = client.get("/api/v1/cameras?limit=5000", headers=headers)
    assert res.status_code == 200, res.text
    return list(res.json())


def _tile(client: TestClient, path: str, headers: dict[str, str]) -> dict[str, Any]:
    res = client.get(path, headers=headers)
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == MVT
    return dict(mapbox_vector_tile.decode(res.content, default_options={"y_coord_down": True}))


def _expected_units(lon: float, lat: float, z: int, x: int, y: int) -> tuple[float, float]:
    wx, wy = lonlat_to_mercator(np.array([lon]), np.array([lat]))
    x0, y0, x1, y1 = tile_bounds(z, x, y)
    return (float(wx[0]) - x0) / (x1 - x0) * 4096, (y1 - float(wy[0])) / (y1 - y0) * 4096


def _tile_of(cam: dict[str, Any], z: int) -> tuple[int, int]:
    tx, ty = lonlat_to_tile(np.array([cam["lon"]]), np.array([cam["lat"]]), z)
    return int(tx[0]), int(ty[0])


def test_single_cameras_at_high_zoom(
    client: TestClient, registered: dict[str, dict[str, Any]]
) -> None:
    chief = login(client, "chief")
    z = 17
    tx, ty = _tile_of(registered["w2"], z)
    layer = _tile(client, f"/api/v1/cameras/tiles/cameras/{z}/{tx}/{ty}.mvt", chief)["cameras"]
    assert layer["extent"] == 4096
    feats = {f["properties"]["id"]: f for f in layer["features"]}
    expected = {
        c["id"] for c in registered.values()
        if _tile_of(c, z) == (tx, ty) and c["status"] != "retired"
    }  # fmt: skip
    assert expected and set(feats) == expected
    for code, cam in registered.items():
        if cam["id"] not in feats:
            continue
        props = feats[cam["id"]]["properties"]
        assert props["network"] == cam["network"] and props["status"] == cam["status"]
        assert props["heading"] == pytest.approx(cam["heading_deg"])
        assert props["fov"] == pytest.approx(cam["fov_deg"]) and props["ptz"] is cam["ptz"]
        assert props["live"] == (
            "offline" if code in ("w3", "w4", "w5") else
            "online" if code in ("w1", "w2") else "unknown"
        )  # fmt: skip
        u, v = feats[cam["id"]]["geometry"]["coordinates"]
        eu, ev = _expected_units(cam["lon"], cam["lat"], z, tx, ty)
        assert abs(u - eu) <= 1 and abs(v - ev) <= 1  # MVT rounds to whole units


def test_clusters_partition_the_cameras_at_city_zoom(
    client: TestClient, registered: dict[str, dict[str, Any]]
) -> None:
    chief = login(client, "chief")
    mapped = [c for c in registered.values() if c["status"] != "retired"]
    for z in (9, 12, 14):
        per_tile = Counter(_tile_of(c, z) for c in mapped)
        total = Counter[str]()
        for tx, ty in per_tile:
            layer = _tile(client, f"/api/v1/cameras/tiles/cameras/{z}/{tx}/{ty}.mvt", chief)
            feats = layer["cameras"]["features"]
            assert all(0 <= f["geometry"]["coordinates"][0] <= 4096 for f in feats)
            counts = Counter[str]()
            for f in feats:
                counts.update({k: f["properties"][k] for k in
                               ("count", "offline", "maintenance")})  # fmt: skip
            assert counts["count"] == per_tile[(tx, ty)], (z, tx, ty)
            total += counts
        assert total["count"] == len(mapped) == 53
        assert (total["offline"], total["maintenance"]) == (3, 1)


def test_cluster_sits_at_the_mean_of_its_cameras(
    client: TestClient, registered: dict[str, dict[str, Any]]
) -> None:
    """At the deepest zoom where the east cameras share one 16-pixel square, one cluster."""
    chief = login(client, "chief")
    east = [c for code, c in registered.items() if code.startswith("e")]
    for z in range(13, 7, -1):
        tx, ty = _tile_of(east[0], z)
        units = np.array([_expected_units(c["lon"], c["lat"], z, tx, ty) for c in east])
        if len({_tile_of(c, z) for c in east}) == 1 and len(np.unique(units // 256, axis=0)) == 1:
            break
    else:
        pytest.fail("the east cameras never share a cluster square")
    layer = _tile(client, f"/api/v1/cameras/tiles/cameras/{z}/{tx}/{ty}.mvt", chief)["cameras"]
    mine = [f for f in layer["features"] if f["properties"]["count"] == len(east)]
    assert len(mine) == 1
    u, v = mine[0]["geometry"]["coordinates"]
    mean_u, mean_v = units.mean(axis=0)
    # Fine cells are pooled by their means weighted by count: the exact mean.
    assert abs(u - mean_u) <= 1 and abs(v - mean_v) <= 1
    assert mine[0]["properties"] == {"count": len(east), "offline": 0, "maintenance": 0}


def test_scope_empty_tiles_errors_and_etag(
    client: TestClient, registered: dict[str, dict[str, Any]]
) -> None:
    east = login(client, "east_analyst")
    z = 12
    tx, ty = _tile_of(registered["w0"], z)
    path = f"/api/v1/cameras/tiles/cameras/{z}/{tx}/{ty}.mvt"
    feats = _tile(client, path, east)["cameras"]["features"]
    assert sum(f["properties"]["count"] for f in feats) == len(EAST_AT)
    nobody = login(client, "nobody")
    assert _tile(client, path, nobody)["cameras"]["features"] == []
    chief = login(client, "chief")
    far = _tile(client, "/api/v1/cameras/tiles/cameras/15/0/0.mvt", chief)
    assert far == {"cameras": {"extent": 4096, "version": 2, "features": [],
                               "type": "FeatureCollection"}}  # fmt: skip
    for bad in ("40/0/0", "12/4096/0", "3/0/-1"):
        res = client.get(f"/api/v1/cameras/tiles/cameras/{bad}.mvt", headers=chief)
        assert res.status_code == 404, bad
        assert res.headers["content-type"].startswith("application/problem+json")
    res = client.get("/api/v1/cameras/tiles/coverage/z/0/0.mvt", headers=chief)
    assert res.status_code == 422
    assert res.headers["content-type"].startswith("application/problem+json")
    first = client.get(path, headers=chief)
    assert first.headers["cache-control"] == "private, max-age=60"
    again = client.get(path, headers={**chief, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def _segments(
    client: TestClient, z: int, headers: dict[str, str], corners: list[tuple[float, float]]
) -> list[list[dict[str, Any]]]:
    """Features of every coverage tile at zoom z over the given lon/lat points, tile by tile."""
    tiles = sorted({_tile_of({"lon": lon, "lat": lat}, z) for lon, lat in corners})
    return [
        _tile(client, f"/api/v1/cameras/tiles/coverage/{z}/{tx}/{ty}.mvt", headers)["segments"][
            "features"
        ]
        for tx, ty in tiles
    ]


def _lengths(tiles: list[list[dict[str, Any]]]) -> dict[tuple[str, int], float]:
    out: dict[tuple[str, int], float] = {}
    for feats in tiles:
        for f in feats:
            key = (f["properties"]["road_class"], f["properties"]["covered"])
            out[key] = out.get(key, 0.0) + f["properties"]["length_m"]
    return out


def test_coverage_segments_by_zoom_and_scope(
    client: TestClient,
    engine: Engine,
    city: TestCity,
    people: dict[str, int],  # noqa: F811
) -> None:
    """c1 sees x 105..145 of R0 (50 m); the dome c2 sees y 175..225 of R1 (60 m)."""
    with session_scope(engine) as s:
        street_grid(s)
        made = standard_cameras(s)
        body = [c.model_dump(mode="json") for c in made]
        everywhere = [lonlat(s, e, n) for e in (0, 1000, 2000, 3000) for n in (0, 400)]
        c1_ends = [lonlat(s, e, 0) for e in (100, 150)]
    chief = login(client, "chief")
    assert client.post("/api/v1/cameras", json=body, headers=chief).json()["created"] == 2
    z = 14
    # Each piece counts in the one tile holding its midpoint, however the tiles fall.
    assert _lengths(_segments(client, z, chief, everywhere)) == pytest.approx(
        {("primary", 1): 50.0, ("primary", 0): 950.0 + 1000.0,
         ("residential", 1): 60.0, ("residential", 0): 340.0}
    )  # fmt: skip
    # R0 is seen from x 100 to 150 m: one covered line, ending where its pieces end.
    tx, ty = _tile_of({"lon": c1_ends[0][0], "lat": c1_ends[0][1]}, z)
    assert _tile_of({"lon": c1_ends[1][0], "lat": c1_ends[1][1]}, z) == (tx, ty)
    feats = _segments(client, z, chief, c1_ends)[0]
    seen = [f for f in feats if f["properties"] == {"covered": 1, "road_class": "primary",
                                                     "length_m": 50.0}]  # fmt: skip
    assert len(seen) == 1
    got = sorted(map(tuple, seen[0]["geometry"]["coordinates"]))
    want = sorted(_expected_units(lon, lat, z, tx, ty) for lon, lat in c1_ends)
    assert np.allclose(got[0], want[0], atol=1) and np.allclose(got[-1], want[-1], atol=1)
    # Zoom 12 keeps the major roads only (R0 and R2); below 12 the layer is empty.
    assert _lengths(_segments(client, 12, chief, everywhere)) == pytest.approx(
        {("primary", 1): 50.0, ("primary", 0): 1950.0}
    )
    assert all(feats == [] for feats in _segments(client, 11, chief, everywhere))
    # The east district sees R2 (1000 m, east of x = 2000) and none of the west streets.
    east = login(client, "east_analyst")
    assert _lengths(_segments(client, z, east, everywhere)) == pytest.approx(
        {("primary", 0): 1000.0}
    )
    res = client.get(f"/api/v1/cameras/tiles/coverage/{z}/{tx}/{ty}.mvt",
                     headers=login(client, "nobody"))  # fmt: skip
    assert res.status_code == 403
    assert res.headers["content-type"].startswith("application/problem+json")


def test_city_wide_reader_does_not_map_cameras_outside_every_unit(
    client: TestClient, engine: Engine, registered: dict[str, dict[str, Any]]
) -> None:
    """The chief reads the whole org tree; a camera south of the city belongs to no unit."""
    with session_scope(engine) as s:
        out = camera(s, "out1", (300.0, -1000.0))
        assert registry.upsert_cameras(s, [(1, out)], actor=SYSTEM).created == 1
    z = 12
    tx, ty = _tile_of(out.model_dump(mode="json"), z)
    mapped = [c for c in registered.values() if c["status"] != "retired"]
    in_tile = sum(_tile_of(c, z) == (tx, ty) for c in mapped)
    chief = login(client, "chief")
    feats = _tile(client, f"/api/v1/cameras/tiles/cameras/{z}/{tx}/{ty}.mvt", chief)["cameras"]
    assert sum(f["properties"]["count"] for f in feats["features"]) == in_tile
    with session_scope(engine) as s:
        body = mvt.cameras_tile(s, actor=SYSTEM, z=z, x=tx, y=ty)
    feats = mapbox_vector_tile.decode(body)["cameras"]["features"]
    assert sum(f["properties"]["count"] for f in feats) == in_tile + 1
