"""Registry filters the console's Cameras screen uses: area (org unit subtree) and free text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pingan.kit.db import session_scope
from tests.api.conftest import login, people  # noqa: F401  (fixture)
from tests.cameras.camkit import camera, standard_cameras
from tests.cameras.layouts import jobless_client, street_grid
from tests.citykit import TestCity


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with jobless_client(engine) as test_client:
        yield test_client


@pytest.fixture
def chief(
    client: TestClient,
    engine: Engine,
    city: TestCity,
    people: dict[str, int],  # noqa: F811
) -> dict[str, str]:
    with session_scope(engine) as s:
        street_grid(s)
        # tests/cameras/camkit.py's standard pair: they see 50 m of R0 and 60 m of R1.
        c1, c2 = standard_cameras(s)
        rows = [
            c1.model_dump(mode="json") | {"name": "North Gate 50%"},
            c2.model_dump(mode="json") | {"name": "Bridge"},
            camera(s, "e1", (2500, 0)).model_dump(mode="json"),
        ]
    headers = login(client, "chief")
    res = client.post("/api/v1/cameras", json=rows, headers=headers)
    assert res.status_code == 200 and res.json()["created"] == 3, res.text
    return headers


def ids(client: TestClient, headers: dict[str, str], **query: object) -> list[str]:
    res = client.get("/api/v1/cameras", params=query, headers=headers)
    assert res.status_code == 200, res.text
    return sorted(c["owner_camera_id"] for c in res.json())


def test_area_filter_takes_the_whole_subtree(
    client: TestClient, chief: dict[str, str], city: TestCity
) -> None:
    # A camera's unit is its grid; a district, subdistrict or the grid itself all find it.
    assert ids(client, chief, org_unit_id=city.id("DW")) == ["c1", "c2"]
    assert ids(client, chief, org_unit_id=city.id("SW")) == ["c1", "c2"]
    assert ids(client, chief, org_unit_id=city.id("DE")) == ["e1"]
    assert ids(client, chief, org_unit_id=city.id("C")) == ["c1", "c2", "e1"]
    # A grid with no camera in it.
    assert ids(client, chief, org_unit_id=city.id("W2")) == []
    # Combined with keyset paging: the second page of the west district.
    first = client.get(
        "/api/v1/cameras", params={"org_unit_id": city.id("DW"), "limit": 1}, headers=chief
    ).json()
    rest = ids(client, chief, org_unit_id=city.id("DW"), after_id=first[0]["id"])
    assert [first[0]["owner_camera_id"], *rest] == ["c1", "c2"]


def test_unknown_area_is_a_problem_not_an_empty_list(
    client: TestClient, chief: dict[str, str]
) -> None:
    res = client.get("/api/v1/cameras", params={"org_unit_id": 987654}, headers=chief)
    assert res.status_code == 404
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["field"] == "org_unit_id"


def test_text_matches_name_or_owner_id_literally(client: TestClient, chief: dict[str, str]) -> None:
    assert ids(client, chief, q="gate") == ["c1"]  # case-insensitive, in the name
    assert ids(client, chief, q="E1") == ["e1"]  # in the owner's camera id
    assert ids(client, chief, q="50%") == ["c1"]  # % is a character, not a wildcard
    assert ids(client, chief, q="%") == ["c1"]
    assert ids(client, chief, q="_") == []  # _ too
    assert ids(client, chief, q="c", network="public_hd") == ["c1", "c2"]
    res = client.get("/api/v1/cameras", params={"q": "x" * 101}, headers=chief)
    assert res.status_code == 422


def test_coverage_by_area_and_road_class(client: TestClient, chief: dict[str, str]) -> None:
    # District W holds R0 (primary, 1000 m) and R1 (residential, 400 m); E holds R2 (primary).
    res = client.get("/api/v1/cameras/coverage", params={"incident_days": 1}, headers=chief)
    assert res.status_code == 200, res.text
    body = res.json()
    by_area = {a["code"]: {c["road_class"]: c for c in a["road_classes"]} for a in body["areas"]}
    assert set(by_area["DW"]) == {"primary", "residential"}
    assert set(by_area["DE"]) == {"primary"}
    assert by_area["DW"]["primary"]["total_m"] == pytest.approx(1000.0, abs=1e-3)
    assert by_area["DW"]["residential"]["total_m"] == pytest.approx(400.0, abs=1e-3)
    assert by_area["DE"]["primary"]["total_m"] == pytest.approx(1000.0, abs=1e-3)
    assert by_area["DW"]["primary"]["covered_m"] == pytest.approx(50.0, abs=1e-6)
    assert by_area["DW"]["residential"]["covered_m"] == pytest.approx(60.0, abs=1e-6)
    assert by_area["DE"]["primary"]["covered_m"] == 0.0
    # Per class within each area adds up to the area, and across areas to the city's classes.
    for area in body["areas"]:
        classes = by_area[area["code"]].values()
        assert sum(c["covered_m"] for c in classes) == pytest.approx(area["covered_m"])
        assert sum(c["total_m"] for c in classes) == pytest.approx(area["total_m"])
    for city_class in body["road_classes"]:
        name = city_class["road_class"]
        seen = sum(a[name]["covered_m"] for a in by_area.values() if name in a)
        assert seen == pytest.approx(city_class["covered_m"])
        for a in by_area.values():
            if name in a:
                c = a[name]
                assert c["share"] == pytest.approx(c["covered_m"] / c["total_m"])
