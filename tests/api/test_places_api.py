"""Key sites and compounds over HTTP, within org scope."""

from __future__ import annotations

from fastapi.testclient import TestClient
from shapely import Point, box
from sqlalchemy import Engine

from pingan.kit.db import session_scope
from pingan.places.models import Place, ResidentialCompound
from tests.api.conftest import login
from tests.citykit import TestCity, grid_centre


def _seed_places(engine: Engine, city: TestCity) -> None:
    with session_scope(engine) as session:
        for grid, kind, level in (("W1", "metro_station", 2), ("E1", "airport", 1)):
            lon, lat = grid_centre(grid)
            session.add(
                Place(code=f"P-{grid}", kind=kind, name_zh="站", name_en=f"Site {grid}",
                      protection_level=level, geom=Point(lon, lat), grid_id=city.id(grid))
            )  # fmt: skip
            session.add(
                ResidentialCompound(
                    code=f"R-{grid}", name_zh="小区", name_en=f"Compound {grid}",
                    geom=box(lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001),
                    grid_id=city.id(grid), households=300, buildings=6, built_year=1998,
                    management="unmanaged" if grid == "W1" else "property_company",
                )
            )  # fmt: skip


def test_places_and_compounds_follow_scope(
    client: TestClient, people: dict[str, int], engine: Engine, city: TestCity
) -> None:
    _seed_places(engine, city)
    chief = login(client, "chief")
    everything = client.get("/api/v1/places", headers=chief).json()["features"]
    assert sorted(f["properties"]["code"] for f in everything) == ["P-E1", "P-W1"]
    top = client.get("/api/v1/places?max_protection_level=1", headers=chief).json()["features"]
    assert [f["properties"]["kind"] for f in top] == ["airport"]
    officer = login(client, "west_officer")
    west = client.get("/api/v1/places", headers=officer).json()["features"]
    assert [f["properties"]["code"] for f in west] == ["P-W1"]
    assert west[0]["geometry"]["type"] == "Point"
    compounds = client.get("/api/v1/places/compounds", headers=officer).json()["features"]
    assert [c["properties"]["management"] for c in compounds] == ["unmanaged"]
    nobody = login(client, "nobody")
    assert client.get("/api/v1/places", headers=nobody).status_code == 403
    bad = client.get("/api/v1/places?kind=spaceport", headers=chief)
    assert bad.status_code == 422 and bad.json()["field"] == "kind"
