"""The dispatch event stream sends new timeline steps live, each only to readers in scope.

Streams are held open while a dispatch happens; the safety poll is set to 10
minutes, so what arrives came over the event bus through the process's hub.
"""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pingan.dispatch.assignment_models import TimelineEntry
from pingan.dispatch.events import DispatchHub
from pingan.kit.db import session_factory, session_scope, utcnow
from tests.api.conftest import login
from tests.dispatch.conftest import world  # noqa: F401  (responders and an incident in the west)

API = "/api/v1/dispatch"


@pytest.fixture(autouse=True)
def _no_safety_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGAN_EVENTS_SAFETY_POLL_S", "600")


def _kinds(stream: str) -> list[str]:
    return [line[7:] for line in stream.splitlines() if line.startswith("event: ")]


def test_live_dispatch_steps_reach_in_scope_streams_only(
    client: TestClient,
    world: dict[str, int],  # noqa: F811  (the fixture imported above)
    people: dict[str, int],
) -> None:
    west, east = login(client, "west_officer"), login(client, "east_analyst")
    assert client.app.state.settings.events_safety_poll_s == 600  # type: ignore[attr-defined]
    streams: dict[str, str] = {}

    def hold(name: str, headers: dict[str, str]) -> None:
        response = client.get(f"{API}/events", params={"max_seconds": 6}, headers=headers)
        streams[name] = response.text

    readers = [threading.Thread(target=hold, args=(n, h)) for n, h in (("w", west), ("e", east))]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + 30
    while getattr(client.app.state, "dispatch_hub", None) is None or (  # type: ignore[attr-defined]
        client.app.state.dispatch_hub.connections < 2  # type: ignore[attr-defined]
    ):
        assert time.monotonic() < deadline, "the streams did not open"
        time.sleep(0.05)
    made = client.post(f"{API}/incidents/{world['incident']}/dispatch", json={}, headers=west)
    assert made.status_code == 201, made.text
    for reader in readers:
        reader.join(timeout=30)
    assert _kinds(streams["w"]) == ["plan", "dispatched", "dispatched", "dispatched"]
    assert _kinds(streams["e"]) == [], "an out-of-scope dispatch step was sent"


def test_hub_sends_a_step_that_commits_after_a_later_one(
    engine: Engine,
    world: dict[str, int],  # noqa: F811
) -> None:
    hub = DispatchHub(session_factory(engine), safety_poll_s=600)
    hub.prime()
    first = hub.cursor + 1

    def add(entry_id: int) -> None:
        # Explicit ids stand in for two transactions that took ids 1 and 2 and
        # committed in the other order.
        with session_scope(engine) as session:
            session.add(TimelineEntry(id=entry_id, incident_id=world["incident"], kind="note",
                                      actor="t", at=utcnow(), detail="{}"))  # fmt: skip

    add(first + 1)
    assert [(i.id, i.late) for i in hub.read_new()] == [(first + 1, False)]
    assert hub.read_new() == []
    add(first)
    assert [(i.id, i.late) for i in hub.read_new()] == [(first, True)]
    assert hub.read_new() == [] and hub.holes == {}
