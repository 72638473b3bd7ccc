"""The camera API over the real app: registry, coverage layers, blind spots, plans as jobs."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine

from pingan.analytics.tiles import lonlat_to_tile
from pingan.app import create_app
from pingan.cameras import streets
from pingan.cameras.tiles import BLIND, COVERED
from pingan.kit import jobs
from pingan.kit.db import session_scope
from pingan.settings import get_settings
from tests.api.conftest import login, people  # noqa: F401  (fixture)
from tests.cameras.camkit import SYSTEM, add_owner, build_roads, camera
from tests.citykit import TestCity

BBOX = "119.99,29.99,120.05,30.03"


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    # No background worker: the test runs queued jobs itself.
    settings = get_settings().model_copy(update={"run_jobs": False})
    with TestClient(create_app(settings, engine)) as test_client:
        yield test_client


@pytest.fixture
def setup(engine: Engine, city: TestCity, people: dict[str, int]) -> list[dict[str, object]]:  # noqa: F811
    with session_scope(engine) as s:
        build_roads(s)
        add_owner(s)
        streets.build_segments(s, actor=SYSTEM)
        return [
            camera(s, "c1", (100, 0), heading=90.0).model_dump(mode="json"),
            camera(s, "c2", (0, 200), fov=60.0, range_m=30.0, ptz=True).model_dump(mode="json"),
            camera(s, "e1", (2500, 0), heading=90.0).model_dump(mode="json"),
        ]


def test_register_list_and_scope(client: TestClient, setup: list[dict[str, object]]) -> None:
    officer = login(client, "west_officer")
    res = client.post("/api/v1/cameras", json=setup, headers=officer)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["created"] == 2 and body["rejected"] == 1  # e1 is in district E
    assert body["errors"][0]["line"] == 3
    chief = login(client, "chief")
    assert client.post("/api/v1/cameras", json=setup, headers=chief).json()["created"] == 1
    listed = client.get("/api/v1/cameras", headers=officer).json()
    assert sorted(c["owner_camera_id"] for c in listed) == ["c1", "c2"]
    east = login(client, "east_analyst")
    assert [c["owner_camera_id"] for c in client.get("/api/v1/cameras", headers=east).json()] == [
        "e1"
    ]
    cam_id = listed[0]["id"]
    res = client.get(f"/api/v1/cameras/{cam_id}", headers=east)
    assert res.status_code == 404
    assert res.headers["content-type"].startswith("application/problem+json")


def test_bad_input_is_problem_json(client: TestClient, setup: list[dict[str, object]]) -> None:
    chief = login(client, "chief")
    bad = {**setup[0], "fov_deg": 0}
    res = client.post("/api/v1/cameras", json=[bad], headers=chief)
    assert res.status_code == 422
    res = client.get("/api/v1/cameras/coverage/segments?bbox=1,2,3", headers=chief)
    assert res.status_code == 422
    assert res.headers["content-type"].startswith("application/problem+json")
    nobody = login(client, "nobody")
    assert client.get("/api/v1/cameras/coverage", headers=nobody).status_code == 403


def test_coverage_layers_and_moves(client: TestClient, setup: list[dict[str, object]]) -> None:
    chief = login(client, "chief")
    client.post("/api/v1/cameras", json=setup, headers=chief)
    rep = client.get("/api/v1/cameras/coverage?level=district", headers=chief).json()
    assert rep["covered_m"] == pytest.approx(110.0 + 50.0, abs=1e-6)
    assert {a["code"]: round(a["covered_m"], 6) for a in rep["areas"]} == {"DW": 110.0, "DE": 50.0}
    layer = client.get(f"/api/v1/cameras/coverage/segments?bbox={BBOX}", headers=chief)
    assert layer.headers["content-type"].startswith("application/geo+json")
    feats = layer.json()["features"]
    assert len(feats) == 240
    assert sum(f["properties"]["cover_count"] > 0 for f in feats) == 16
    spots = client.get("/api/v1/cameras/blind-spots?limit=10", headers=chief).json()
    assert len(spots["features"]) == 10
    assert all(f["properties"]["rank"] == i for i, f in enumerate(spots["features"], 1))
    cams = client.get(f"/api/v1/cameras/layer?bbox={BBOX}&sectors=true", headers=chief).json()
    assert {f["geometry"]["type"] for f in cams["features"]} == {"Polygon"}
    _check_tiles(client, chief)
    e1 = next(c for c in client.get("/api/v1/cameras", headers=chief).json()
              if c["owner_camera_id"] == "e1")  # fmt: skip
    assert client.delete(f"/api/v1/cameras/{e1['id']}", headers=chief).json()["status"] == "retired"
    rep = client.get("/api/v1/cameras/coverage", headers=chief).json()
    assert rep["covered_m"] == pytest.approx(110.0, abs=1e-6)


def test_plan_job_and_exports(
    client: TestClient,
    setup: list[dict[str, object]],
    engine: Engine,
) -> None:
    chief = login(client, "chief")
    client.post("/api/v1/cameras", json=setup[:2], headers=chief)
    res = client.post("/api/v1/cameras/plans", json={"sites": 3, "method": "both",
                                                      "range_m": 40.0}, headers=chief)  # fmt: skip
    assert res.status_code == 202, res.text
    jobs.run_pending(engine)
    job = client.get(res.json()["status_url"], headers=chief).json()
    assert job["status"] == "succeeded", job
    plan_id = job["result"]["plan_id"]
    plan = client.get(f"/api/v1/cameras/plans/{plan_id}", headers=chief).json()
    result = plan["result"]
    assert len(result["sites"]) == 3
    assert result["greedy_gap"] >= 0.0 and result["optimal"] is True
    gains = [s["gain_weight"] for s in result["sites"]]
    assert gains == sorted(gains, reverse=True)
    # Gains are new street only: never more than was uncovered (2400 - 110 m).
    assert 0 < sum(s["gain_m"] for s in result["sites"]) <= 2290.0 + 1e-6
    assert len({(s["lon"], s["lat"]) for s in result["sites"]}) == 3
    geo = client.get(f"/api/v1/cameras/plans/{plan_id}/sites.geojson", headers=chief).json()
    assert len(geo["features"]) == 3
    csv_text = client.get(f"/api/v1/cameras/plans/{plan_id}/sites.csv", headers=chief).text
    assert csv_text.splitlines()[0] == "order,lon,lat,district_id,gain_weight,gain_m"
    assert len(csv_text.splitlines()) == 4


def _check_tiles(client: TestClient, headers: dict[str, str]) -> None:
    tx, ty = lonlat_to_tile(np.array([120.007]), np.array([30.005]), 15)
    res = client.get(f"/api/v1/cameras/tiles/coverage/15/{tx[0]}/{ty[0]}.png", headers=headers)
    assert res.status_code == 200 and res.headers["content-type"] == "image/png"
    img = np.asarray(Image.open(io.BytesIO(res.content)).convert("RGBA"))
    colours = {tuple(int(v) for v in px) for px in img.reshape(-1, 4) if px[3] > 0}
    assert colours == {COVERED, BLIND}
    cams = client.get(f"/api/v1/cameras/tiles/cameras/15/{tx[0]}/{ty[0]}.png", headers=headers)
    img = np.asarray(Image.open(io.BytesIO(cams.content)).convert("RGBA"))
    assert (img[..., 3] > 0).sum() >= 4  # at least one camera dot
    far = client.get("/api/v1/cameras/tiles/coverage/15/0/0.png", headers=headers)
    assert np.asarray(Image.open(io.BytesIO(far.content)).convert("RGBA"))[..., 3].max() == 0
    bad = client.get("/api/v1/cameras/tiles/coverage/40/0/0.png", headers=headers)
    assert bad.status_code == 422


def test_file_upload_import(client: TestClient, setup: list[dict[str, object]]) -> None:
    chief = login(client, "chief")
    c1 = setup[0]
    text = (
        "owner_code,owner_camera_id,network,lon,lat,heading_deg\n"
        f"PSB,u1,social,{c1['lon']},{c1['lat']},90\n"
        f"PSB,u2,social,{c1['lon']},{c1['lat']},-5\n"
    )
    files = {"file": ("cams.csv", text.encode(), "text/csv")}
    res = client.post("/api/v1/cameras/import", files=files, headers=chief)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["created"] == 1 and [e["line"] for e in body["errors"]] == [3]
    again = client.post("/api/v1/cameras/import", files=files, headers=chief).json()
    assert (again["created"], again["unchanged"]) == (0, 1)
    bad = {"file": ("cams.xlsx", b"x", "application/octet-stream")}
    res = client.post("/api/v1/cameras/import", files=bad, headers=chief)
    assert res.status_code == 422
    assert res.headers["content-type"].startswith("application/problem+json")
