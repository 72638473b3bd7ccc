"""Command mode: activation, the shared log, the situation board, the after-action summary."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from pingan.dispatch import assignments, commands
from pingan.dispatch.assignment_models import AssignmentStatus
from pingan.dispatch.command_models import CommandKind, LogKind
from pingan.kit.audit import AuditEntry
from pingan.kit.db import session_scope
from pingan.kit.errors import Conflict, ValidationFailed
from pingan.org.principal import Principal
from tests.api.conftest import login
from tests.dispatch.conftest import T0
from tests.dispatch.dispatchkit import add_incident

API = "/api/v1/dispatch"
SYSTEM = Principal.system("test")
S = AssignmentStatus


def test_lifecycle_over_http(
    client: TestClient, engine: Engine, world: dict[str, int], people: dict[str, int]
) -> None:
    west = login(client, "west_officer")
    body = {"name": "Lantern festival", "kind": "event", "unit": "DW", "tiers": [1, 2, 3]}
    made = client.post(f"{API}/commands", json=body, headers=west)
    assert made.status_code == 201, made.text
    command = made.json()
    assert command["status"] == "active" and command["tiers"] == [1, 2, 3]
    # One active command per unit.
    again = client.post(f"{API}/commands", json=body, headers=west)
    assert again.status_code == 409
    cid = command["id"]
    entry = client.post(
        f"{API}/commands/{cid}/log",
        json={"kind": "decision", "text": "Close the east gate at 19:00"},
        headers=west,
    )
    assert entry.status_code == 201, entry.text
    log = client.get(f"{API}/commands/{cid}/log", headers=west).json()
    # Activation and tier call-up are logged by Pingan, then the officer's decision.
    assert [e["kind"] for e in log] == ["system", "system", "decision"]
    assert log[-1]["actor"] == "user:west_officer"
    board = client.get(f"{API}/commands/{cid}/board", headers=west).json()
    # Responders of the west district, all available: tiers 1 (A, B), 2 (C), 3 (V).
    assert board["available_by_tier"] == {"1": 2, "2": 1, "3": 1}
    assert board["latest_log"][0]["text"] == "Close the east gate at 19:00"

    # Out of scope: the east analyst does not see the west command at all.
    east = login(client, "east_analyst")
    assert client.get(f"{API}/commands/{cid}", headers=east).status_code == 404
    assert client.get(f"{API}/commands", headers=east).json() == []
    # A grid worker may not open a district command.
    worker = login(client, "w1_worker")
    assert client.post(f"{API}/commands", json=body, headers=worker).status_code == 403

    closed = client.post(
        f"{API}/commands/{cid}/deactivate", json={"note": "Event over, all clear"}, headers=west
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert closed.json()["summary"]["log_entries_by_kind"] == {"decision": 2, "system": 3}
    late = client.post(f"{API}/commands/{cid}/log", json={"text": "late"}, headers=west)
    assert late.status_code == 409
    with session_scope(engine) as s:
        actions = set(s.scalars(select(AuditEntry.action)))
    assert {"dispatch.command.activate", "dispatch.command.deactivate"} <= actions


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "kind": "event", "unit": "W1"}, "unit"),  # a grid is not a command level
        ({"name": "x", "kind": "event", "unit": "NOPE"}, "unit"),
        ({"name": "x", "kind": "parade", "unit": "DW"}, "kind"),
        ({"name": "x", "kind": "event", "unit": "DW", "tiers": [4]}, "tiers"),
        ({"name": "", "kind": "event", "unit": "DW"}, "name"),
    ],
)
def test_bad_activation(
    client: TestClient, world: dict[str, int], people: dict[str, int], body: dict, field: str
) -> None:
    response = client.post(f"{API}/commands", json=body, headers=login(client, "west_officer"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in response.text


def test_board_and_after_action_count_what_happened(engine: Engine, world: dict[str, int]) -> None:
    opened = T0 - dt.timedelta(seconds=120)
    with session_scope(engine) as s:
        command = commands.activate(
            s, actor=SYSTEM, name="Flood", kind=CommandKind.EMERGENCY, unit_code="C",
            tiers=[1, 2], now=opened,
        )  # fmt: skip
        cid = command.id
        # world["incident"] (a fight at T0 - 60 s) falls inside; one before activation does not.
        add_incident(s, type_code="fight", at_m=(0, 0), reported=opened - dt.timedelta(hours=1))
        sent = assignments.dispatch_incident(s, incident_id=world["incident"], actor=SYSTEM, now=T0)
        first, second, third = (a.id for a in sent)
        steps = {
            first: [(S.EN_ROUTE, 10), (S.ON_SCENE, 200)],  # travel 190 s: within 240 s
            second: [(S.EN_ROUTE, 20), (S.ON_SCENE, 320)],  # travel 300 s: over target
        }
        for aid, moves in steps.items():
            for status, after in moves:
                assignments.set_status(
                    s, assignment_id=aid, status=status, actor=SYSTEM,
                    now=T0 + dt.timedelta(seconds=after),
                )  # fmt: skip
        board = commands.board(s, command_id=cid, actor=SYSTEM, now=T0 + dt.timedelta(seconds=400))
        assert board["incidents_by_status"] == {"on_scene": 1}
        assert [i["id"] for i in board["open_incidents"]] == [world["incident"]]
        assert board["assignments_by_status"] == {"on_scene": 2, "dispatched": 1}
        assert third not in steps

    # The tier-2 worker (D) never acknowledges: the escalation run times the assignment
    # out and sends the next tier-2 candidate (C) instead.
    report = assignments.run_dispatch_escalations(engine, now=T0 + dt.timedelta(seconds=500))
    assert report.timed_out == 1

    with session_scope(engine) as s:
        closed = commands.deactivate(
            s, command_id=cid, actor=SYSTEM, now=T0 + dt.timedelta(seconds=600)
        )
        summary = closed.summary
    assert summary is not None
    assert summary["duration_s"] == 720.0
    assert summary["incidents"] == 1 and summary["incidents_by_type"] == {"fight": 1}
    assert summary["assignments"] == 4 and summary["timed_out"] == 1
    assert summary["reached_scene"] == 2
    assert summary["dispatch_to_scene_median_s"] == (200 + 320) / 2
    assert summary["travel_within_target_share"] == 0.5


def test_log_rejects_system_kind_and_long_text(engine: Engine, world: dict[str, int]) -> None:
    with session_scope(engine) as s:
        command = commands.activate(
            s, actor=SYSTEM, name="Summit", kind=CommandKind.EVENT, unit_code="C", tiers=[1]
        )
        with pytest.raises(ValidationFailed):
            commands.add_log(s, command_id=command.id, actor=SYSTEM, kind=LogKind.SYSTEM, text="x")
        with pytest.raises(ValidationFailed):
            commands.add_log(
                s, command_id=command.id, actor=SYSTEM, kind=LogKind.NOTE, text="x" * 2001
            )
        commands.deactivate(s, command_id=command.id, actor=SYSTEM)
        with pytest.raises(Conflict):
            commands.deactivate(s, command_id=command.id, actor=SYSTEM)
