"""One-tap acknowledgement links: no login, one assignment, once, before expiry."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from pingan.dispatch import onetap
from pingan.dispatch.command_models import AckLink
from pingan.kit.db import session_scope
from pingan.kit.errors import NotFound
from pingan.org.principal import Principal
from tests.api.conftest import login

API = "/api/v1/dispatch"


def _send_volunteer(client: TestClient, world: dict[str, int], headers: dict[str, str]) -> int:
    made = client.post(
        f"{API}/incidents/{world['incident']}/dispatch",
        json={"responder_ids": [world["V"]]},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    return int(made.json()[0]["id"])


def test_tap_acknowledges_once(
    client: TestClient, engine: Engine, world: dict[str, int], people: dict[str, int]
) -> None:
    west = login(client, "west_officer")
    assignment = _send_volunteer(client, world, west)
    link = client.post(f"{API}/assignments/{assignment}/ack-link", headers=west)
    assert link.status_code == 201, link.text
    token, path = link.json()["token"], link.json()["path"]
    # The phone has no login: the link alone shows the job and acknowledges it.
    shown = client.get(path)
    assert shown.status_code == 200, shown.text
    assert shown.json()["incident_type"] == "fight" and shown.json()["status"] == "dispatched"
    tapped = client.post(path)
    assert tapped.status_code == 200
    assert tapped.json() == {"assignment_id": assignment, "status": "acknowledged"}
    assert client.post(path).status_code == 404  # spent
    timeline = client.get(f"{API}/incidents/{world['incident']}/timeline", headers=west).json()
    assert timeline[-1]["kind"] == "acknowledged"
    assert timeline[-1]["actor"] == f"system:onetap:responder:{world['V']}"
    with session_scope(engine) as s:
        stored = list(s.scalars(select(AckLink.token_sha256)))
    assert len(stored) == 1 and token not in stored[0]  # only the hash is kept


def test_links_expire_and_need_scope(
    client: TestClient, engine: Engine, world: dict[str, int], people: dict[str, int]
) -> None:
    west = login(client, "west_officer")
    assignment = _send_volunteer(client, world, west)
    east = login(client, "east_analyst")
    assert client.post(f"{API}/assignments/{assignment}/ack-link", headers=east).status_code in (
        403,
        404,
    )
    assert client.get("/api/v1/public/ack/not-a-token").status_code == 404
    with session_scope(engine) as s:
        token, expires = onetap.create_link(
            s, assignment_id=assignment, actor=Principal.system("test")
        )
    with session_scope(engine) as s:
        try:
            onetap.acknowledge(s, token, now=expires + dt.timedelta(seconds=1))
            raise AssertionError("an expired link acknowledged")
        except NotFound:
            pass
    # Acknowledged by other means: a new link is refused.
    ack = client.post(
        f"{API}/assignments/{assignment}/status", json={"status": "acknowledged"}, headers=west
    )
    assert ack.status_code == 200
    again = client.post(f"{API}/assignments/{assignment}/ack-link", headers=west)
    assert again.status_code == 409
