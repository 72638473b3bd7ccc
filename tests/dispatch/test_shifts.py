"""Duty rosters: shifts switch availability at their edges, once, never mid-job."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from pingan.cli import app
from pingan.dispatch import assignments, responders
from pingan.dispatch.responder_models import Availability, Responder, ResponderPosition
from pingan.dispatch.shift_models import Shift
from pingan.dispatch.shifts import ShiftIn, add_shifts, run_roster
from pingan.kit.db import session_scope
from pingan.kit.errors import Conflict, ValidationFailed
from pingan.org.principal import Principal
from tests.api.conftest import login
from tests.dispatch.conftest import T0

SYSTEM = Principal.system("test")
H = dt.timedelta(hours=1)


def _availability(engine: Engine, rid: int) -> str:
    with session_scope(engine) as s:
        responder = s.get(Responder, rid)
        assert responder is not None
        return responder.availability


def _off(engine: Engine, rid: int) -> None:
    with session_scope(engine) as s:
        responders.set_availability(
            s, responder_id=rid, availability=Availability.OFF_DUTY, actor=SYSTEM
        )


def test_shift_edges_apply_once(engine: Engine, world: dict[str, int]) -> None:
    rid = world["C"]
    _off(engine, rid)
    with session_scope(engine) as s:
        add_shifts(s, responder_id=rid, actor=SYSTEM, shifts=[ShiftIn(T0 + H, T0 + 9 * H)])
    assert run_roster(engine, now=T0).started == 0  # not yet
    assert _availability(engine, rid) == "off_duty"
    first = run_roster(engine, now=T0 + H)
    assert first.started == 1 and _availability(engine, rid) == "available"
    # The responder steps away during the shift: the roster does not override them.
    _off(engine, rid)
    assert run_roster(engine, now=T0 + 2 * H).started == 0
    assert _availability(engine, rid) == "off_duty"
    with session_scope(engine) as s:
        responders.set_availability(
            s, responder_id=rid, availability=Availability.AVAILABLE, actor=SYSTEM
        )
    ended = run_roster(engine, now=T0 + 9 * H)
    assert ended.ended == 1 and _availability(engine, rid) == "off_duty"
    assert run_roster(engine, now=T0 + 10 * H).ended == 0  # exactly once


def test_a_responder_on_a_job_goes_off_duty_after_clearing(
    engine: Engine, world: dict[str, int]
) -> None:
    rid = world["B"]  # on duty, nearest tier 1 to the fight
    with session_scope(engine) as s:
        add_shifts(s, responder_id=rid, actor=SYSTEM, shifts=[ShiftIn(T0 - H, T0 + H)])
        (sent,) = assignments.dispatch_incident(
            s, incident_id=world["incident"], actor=SYSTEM, now=T0, responder_ids=[rid]
        )
        aid = sent.id
    report = run_roster(engine, now=T0 + H)
    assert report.deferred == 1 and report.ended == 0
    assert _availability(engine, rid) == "busy"
    with session_scope(engine) as s:
        for status in ("on_scene", "cleared"):
            assignments.set_status(
                s, assignment_id=aid, status=assignments.S(status), actor=SYSTEM, now=T0 + H
            )
    assert run_roster(engine, now=T0 + H + dt.timedelta(minutes=1)).ended == 1
    assert _availability(engine, rid) == "off_duty"
    with session_scope(engine) as s:  # off duty: the position is forgotten
        assert s.get(ResponderPosition, rid) is None


def test_back_to_back_shifts_keep_the_responder_on(engine: Engine, world: dict[str, int]) -> None:
    rid = world["A"]
    with session_scope(engine) as s:
        add_shifts(
            s, responder_id=rid, actor=SYSTEM,
            shifts=[ShiftIn(T0 - H, T0 + H), ShiftIn(T0 + H, T0 + 3 * H)],
        )  # fmt: skip
    report = run_roster(engine, now=T0 + H)
    assert report.ended == 0 and _availability(engine, rid) == "available"
    assert run_roster(engine, now=T0 + 3 * H).ended == 1


def test_bad_shifts_are_refused(engine: Engine, world: dict[str, int]) -> None:
    rid = world["A"]
    with session_scope(engine) as s:
        add_shifts(s, responder_id=rid, actor=SYSTEM, shifts=[ShiftIn(T0, T0 + 8 * H)])
    cases: list[tuple[list[ShiftIn], type[Exception]]] = [
        ([ShiftIn(T0 + H, T0)], ValidationFailed),
        ([ShiftIn(T0, T0 + 25 * H)], ValidationFailed),
        ([ShiftIn(T0 + 7 * H, T0 + 9 * H)], Conflict),
        ([ShiftIn(T0 + 9 * H, T0 + 11 * H), ShiftIn(T0 + 10 * H, T0 + 12 * H)], Conflict),
        ([ShiftIn(T0.replace(tzinfo=None), T0.replace(tzinfo=None) + H)], ValidationFailed),
    ]
    for bad, error in cases:
        with session_scope(engine) as s, pytest.raises(error):
            add_shifts(s, responder_id=rid, actor=SYSTEM, shifts=bad)


def test_roster_over_http_and_csv(
    client: TestClient,
    engine: Engine,
    world: dict[str, int],
    people: dict[str, int],
    tmp_path: Path,
) -> None:
    west = login(client, "west_officer")
    start = (T0 + 24 * H).isoformat()
    end = (T0 + 32 * H).isoformat()
    made = client.post(
        f"/api/v1/dispatch/responders/{world['A']}/shifts",
        json=[{"starts_at": start, "ends_at": end, "kind": "on_call"}],
        headers=west,
    )
    assert made.status_code == 201, made.text
    listed = client.get(f"/api/v1/dispatch/responders/{world['A']}/shifts", headers=west).json()
    assert [s["kind"] for s in listed] == ["on_call"]
    east = login(client, "east_analyst")
    assert (
        client.get(f"/api/v1/dispatch/responders/{world['A']}/shifts", headers=east).status_code
        == 404
    )
    deleted = client.delete(f"/api/v1/dispatch/shifts/{listed[0]['id']}", headers=west)
    assert deleted.status_code == 204

    roster = tmp_path / "roster.csv"
    roster.write_text(
        "responder_id,starts_at,ends_at,kind\n"
        f"{world['A']},{start},{end},on_duty\n"
        f"{world['B']},{end},{start},on_duty\n"
    )
    runner = CliRunner(env={"COLUMNS": "200"})
    failed = runner.invoke(app, ["dispatch", "roster", str(roster)])
    assert failed.exit_code == 1 and "roster.csv line 3" in failed.output
    with session_scope(engine) as s:  # all or nothing: line 2 was not kept either
        assert s.scalars(select(Shift)).all() == []
    roster.write_text(f"responder_id,starts_at,ends_at\n{world['A']},{start},{end}\n")
    loaded = runner.invoke(app, ["dispatch", "roster", str(roster)])
    assert loaded.exit_code == 0 and "1 shifts added" in loaded.output
