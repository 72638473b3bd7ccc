"""The console's responders layer: latest positions of on-duty responders, in scope, audited."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from pingan.dispatch.responder_models import Availability
from pingan.dispatch.responders import set_availability
from pingan.kit.audit import AuditEntry
from pingan.kit.db import session_scope
from pingan.org.principal import Principal
from tests.api.conftest import login
from tests.dispatch.dispatchkit import lonlat

LAYER = "/api/v1/map/responders.geojson"


def test_positions_in_scope_and_audited(
    client: TestClient, engine: Engine, world: dict[str, int], people: dict[str, int]
) -> None:
    assert client.get(LAYER).status_code == 401
    west = login(client, "west_officer")
    answer = client.get(LAYER, headers=west)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/geo+json")
    features = {f["properties"]["responder_id"]: f for f in answer.json()["features"]}
    assert set(features) == {world[k] for k in "BACV"}  # D stands in the east
    car_a = features[world["A"]]
    assert car_a["properties"]["display_name"] == "Car A"
    assert car_a["properties"]["availability"] == "available"
    with session_scope(engine) as session:
        expected = lonlat(session, 0, 400)  # where the world put Car A
    got = car_a["geometry"]["coordinates"]
    assert abs(got[0] - expected[0]) < 1e-7 and abs(got[1] - expected[1]) < 1e-7

    east = login(client, "east_analyst")
    east_layer = client.get(LAYER, headers=east).json()
    assert [f["properties"]["responder_id"] for f in east_layer["features"]] == [world["D"]]
    # No dispatch grant at all: refused.
    assert client.get(LAYER, headers=login(client, "w1_worker")).status_code == 403
    with session_scope(engine) as session:
        reads = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "dispatch.positions.read")
        ).all()
    assert len(reads) == 2


def test_off_duty_leaves_the_layer(
    client: TestClient, engine: Engine, world: dict[str, int], people: dict[str, int]
) -> None:
    with session_scope(engine) as session:
        set_availability(
            session, responder_id=world["B"], availability=Availability.OFF_DUTY,
            actor=Principal.system("test"),
        )  # fmt: skip
    west = login(client, "west_officer")
    layer = client.get(LAYER, headers=west).json()
    ids = {f["properties"]["responder_id"] for f in layer["features"]}
    assert world["B"] not in ids and world["A"] in ids
