"""The dispatch API: scope, self-service by responders, bad input, the whole flow."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from pingan.kit.audit import AuditEntry
from pingan.kit.db import session_scope, utcnow
from tests.api.conftest import login
from tests.citykit import TestCity
from tests.dispatch.conftest import T0, K
from tests.dispatch.dispatchkit import add_responder, lonlat

API = "/api/v1/dispatch"


def test_anonymous_is_401(client: TestClient, world: dict[str, int]) -> None:
    response = client.get(f"{API}/responders")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_scope_hides_and_forbids(
    client: TestClient, world: dict[str, int], people: dict[str, int]
) -> None:
    west = login(client, "west_officer")
    listed = client.get(f"{API}/responders", headers=west).json()
    assert {r["id"] for r in listed} == {world[k] for k in "BACV"}  # D is in the east
    east = login(client, "east_analyst")
    assert client.get(f"{API}/responders/{world['B']}", headers=east).status_code == 404
    assert client.get(f"{API}/responders/{world['D']}", headers=east).status_code == 200
    # The analyst may read dispatch data in the east but not change it.
    put = client.put(
        f"{API}/responders/{world['D']}/availability", json={"availability": "busy"}, headers=east
    )
    assert put.status_code == 403
    incident = world["incident"]
    assert client.get(f"{API}/incidents/{incident}/timeline", headers=east).status_code == 404
    assert (
        client.post(f"{API}/incidents/{incident}/dispatch", json={}, headers=east).status_code
        == 404
    )


def test_flow_over_http(
    client: TestClient,
    engine: Engine,
    city: TestCity,
    world: dict[str, int],
    people: dict[str, int],
) -> None:
    west = login(client, "west_officer")
    incident = world["incident"]
    found = client.post(
        f"{API}/recommend", json={"incident_id": incident, "tier": 1, "k": 2}, headers=west
    ).json()
    assert [c["responder_id"] for c in found] == [world["B"], world["A"]]
    assert found[0]["route"]["type"] == "LineString"
    with session_scope(engine) as s:  # looking up where responders are is audited
        assert s.scalar(select(AuditEntry.id).where(AuditEntry.action == "dispatch.recommend"))
    made = client.post(f"{API}/incidents/{incident}/dispatch", json={}, headers=west)
    assert made.status_code == 201, made.text
    # In the west officer's scope the tier-2 slot goes to C: D belongs to the east.
    assert [a["responder_id"] for a in made.json()] == [world["B"], world["A"], world["C"]]
    first = made.json()[0]["id"]
    for status in ("acknowledged", "en_route", "on_scene", "cleared"):
        r = client.post(f"{API}/assignments/{first}/status", json={"status": status}, headers=west)
        assert r.status_code == 200, r.text
    again = client.post(
        f"{API}/assignments/{first}/status", json={"status": "en_route"}, headers=west
    )
    assert again.status_code == 409
    kinds = [
        e["kind"] for e in client.get(f"{API}/incidents/{incident}/timeline", headers=west).json()
    ]
    assert kinds[:2] == ["plan", "dispatched"] and kinds[-1] == "cleared"
    kpis = client.get(f"{API}/kpis", headers=west).json()
    assert any(row["tier"] == 1 for row in kpis)


def test_responder_acts_for_themself(
    client: TestClient,
    engine: Engine,
    city: TestCity,
    world: dict[str, int],
    people: dict[str, int],
) -> None:
    with session_scope(engine) as s:
        mine = add_responder(
            s, name="Grid worker W1", kind=K.GRID_WORKER, org_unit_id=city.id("W1"),
            at_m=(0, 50), now=T0, user_id=people["w1_worker"],
        )  # fmt: skip
    west, me = login(client, "west_officer"), login(client, "w1_worker")
    made = client.post(
        f"{API}/incidents/{world['incident']}/dispatch",
        json={"responder_ids": [mine]},
        headers=west,
    )
    assert made.status_code == 201, made.text
    inbox = client.get(f"{API}/me/assignments", headers=me).json()
    assert [a["id"] for a in inbox] == [made.json()[0]["id"]]
    assert client.get(f"{API}/me/assignments", headers=west).json() == []
    ack = client.post(
        f"{API}/assignments/{made.json()[0]['id']}/status",
        json={"status": "acknowledged"},
        headers=me,
    )
    assert ack.status_code == 200
    # Someone else's assignment is not theirs to touch.
    other = client.post(
        f"{API}/incidents/{world['incident']}/dispatch",
        json={"responder_ids": [world["A"]]},
        headers=west,
    ).json()[0]["id"]
    assert (
        client.post(
            f"{API}/assignments/{other}/status", json={"status": "acknowledged"}, headers=me
        ).status_code
        == 404
    )
    busy = client.put(
        f"{API}/responders/{mine}/availability", json={"availability": "off_duty"}, headers=me
    )
    assert busy.status_code == 409  # still holds an assignment
    # Their phone reports their own position, and nobody else's.
    with session_scope(engine) as s:
        lon, lat = lonlat(s, 0, 60)
    now = utcnow().isoformat()
    sent = client.post(
        f"{API}/positions",
        json={"responder_id": [mine, world["A"]], "lon": [lon, lon], "lat": [lat, lat],
              "at": [now, now]},
        headers=me,
    ).json()  # fmt: skip
    assert sent["accepted"] == 1 and sent["rejected"][0]["responder_id"] == world["A"]


def test_positions_batch_and_bad_input(
    client: TestClient, engine: Engine, world: dict[str, int], people: dict[str, int]
) -> None:
    west = login(client, "west_officer")
    off = client.put(
        f"{API}/responders/{world['V']}/availability",
        json={"availability": "off_duty"},
        headers=west,
    )
    assert off.status_code == 200
    with session_scope(engine) as s:
        lon, lat = lonlat(s, 5, 5)
    now = T0.isoformat()
    body = {
        "responder_id": [world["B"], world["V"], world["D"], world["A"]],
        "lon": [lon] * 4,
        "lat": [lat] * 4,
        "at": [now, now, now, "2020-01-01T00:00:00"],
    }
    result = client.post(f"{API}/positions", json=body, headers=west).json()
    assert result["accepted"] == 1
    reasons = {r["index"]: r["reason"] for r in result["rejected"]}
    assert "off duty" in reasons[1]
    assert reasons[2] == "unknown responder"  # D is outside the west officer's scope
    assert 3 in reasons  # no time zone
    uneven = client.post(f"{API}/positions", json={**body, "lon": [lon]}, headers=west)
    assert uneven.status_code == 422
    assert uneven.headers["content-type"].startswith("application/problem+json")
    nowhere = client.post(f"{API}/recommend", json={"k": 3}, headers=west)
    assert nowhere.status_code == 422
    bad_kind = client.post(
        f"{API}/responders",
        json={"display_name": "X", "kind": "spy", "org_unit_id": 1},
        headers=west,
    )
    assert bad_kind.status_code == 422


def test_events_stream_in_scope(
    client: TestClient, world: dict[str, int], people: dict[str, int]
) -> None:
    west, east = login(client, "west_officer"), login(client, "east_analyst")
    made = client.post(f"{API}/incidents/{world['incident']}/dispatch", json={}, headers=west)
    assert made.status_code == 201
    stream = client.get(f"{API}/events", params={"max_seconds": 0.1}, headers=west)
    assert stream.headers["content-type"].startswith("text/event-stream")
    kinds = [line[7:] for line in stream.text.splitlines() if line.startswith("event: ")]
    assert kinds == ["plan", "dispatched", "dispatched", "dispatched"]
    ids = [int(line[4:]) for line in stream.text.splitlines() if line.startswith("id: ")]
    later = client.get(
        f"{API}/events", params={"max_seconds": 0.1, "after_id": ids[1]}, headers=west
    )
    assert later.text.count("event: ") == 2
    # The incident is in the west: the east sees nothing of it.
    quiet = client.get(f"{API}/events", params={"max_seconds": 0.1}, headers=east)
    assert "event: " not in quiet.text
    assert client.get(f"{API}/events", params={"max_seconds": 0.1}).status_code == 401
