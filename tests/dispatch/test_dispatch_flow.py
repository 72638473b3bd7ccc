"""Recommendation, dispatch, status, escalation and KPIs on the river network."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import Engine, select

from pingan.dispatch import assignments as dispatch
from pingan.dispatch import responders as responders_service
from pingan.dispatch.assignment_models import Assignment, AssignmentStatus
from pingan.dispatch.kpis import Targets, response_kpis
from pingan.dispatch.positions import ingest_positions
from pingan.dispatch.recommend import Filters, recommend
from pingan.dispatch.responder_models import (
    Availability,
    Responder,
    ResponderPosition,
    TrailPoint,
)
from pingan.incidents.models import Incident
from pingan.kit.audit import verify_chain
from pingan.kit.db import session_scope
from pingan.kit.errors import Conflict
from tests.dispatch.conftest import T0, K
from tests.dispatch.dispatchkit import (
    SPEED_MS,
    SYSTEM,
    lonlat,
)


def availability(engine: Engine, responder_id: int) -> str:
    with session_scope(engine) as s:
        return str(s.scalar(select(Responder.availability).where(Responder.id == responder_id)))


def incident_status(engine: Engine, incident_id: int) -> str:
    with session_scope(engine) as s:
        return str(s.scalar(select(Incident.status).where(Incident.id == incident_id)))


def test_road_time_beats_straight_line(engine: Engine, world: dict[str, int]) -> None:
    with session_scope(engine) as s:
        lon, lat = lonlat(s, 0, 0)
        found = recommend(s, lon=lon, lat=lat, actor=SYSTEM, k=2, filters=Filters(tier=1), now=T0)
    # A is 400 m away across the river (6,400 m by road); B is 1,000 m down the road.
    assert [c.responder_id for c in found] == [world["B"], world["A"]]
    assert found[0].eta_s == pytest.approx(1000 / SPEED_MS, abs=0.5)
    assert found[1].eta_s == pytest.approx(6400 / SPEED_MS, abs=0.5)
    assert found[1].straight_m < found[0].straight_m
    route = found[0].route
    assert route is not None and route.coords[-1] == pytest.approx((lon, lat))


def test_filters_by_skill_radius_and_kind(engine: Engine, world: dict[str, int]) -> None:
    with session_scope(engine) as s:
        lon, lat = lonlat(s, 0, 0)
        aid = recommend(s, lon=lon, lat=lat, actor=SYSTEM,
                        filters=Filters(skill="first_aid", within_m=400), now=T0)  # fmt: skip
        workers = recommend(s, lon=lon, lat=lat, actor=SYSTEM,
                            filters=Filters(kind=K.GRID_WORKER), now=T0)  # fmt: skip
    assert [c.responder_id for c in aid] == [world["V"]]
    # Walking: 100 m off the road at 5 km/h.
    assert aid[0].eta_s == pytest.approx(100 / (5 / 3.6), abs=0.5)
    # D (3,000 m by road) before C (5,400 m), though C is nearer as the crow flies.
    assert [c.responder_id for c in workers] == [world["D"], world["C"]]


def test_stale_and_unavailable_responders_are_not_recommended(
    engine: Engine, world: dict[str, int]
) -> None:
    with session_scope(engine) as s:
        responders_service.set_availability(
            s, responder_id=world["B"], availability=Availability.BUSY, actor=SYSTEM
        )
        lon, lat = lonlat(s, 0, 0)
        now_found = recommend(s, lon=lon, lat=lat, actor=SYSTEM, filters=Filters(tier=1), now=T0)
        later = recommend(s, lon=lon, lat=lat, actor=SYSTEM, now=T0 + dt.timedelta(minutes=11))
    assert [c.responder_id for c in now_found] == [world["A"]]
    assert later == []


def test_positions_of_off_duty_responders_are_rejected(
    engine: Engine, world: dict[str, int]
) -> None:
    with session_scope(engine) as s:
        responders_service.set_availability(
            s, responder_id=world["V"], availability=Availability.OFF_DUTY, actor=SYSTEM
        )
        # Going off duty forgets where they were.
        assert s.get(ResponderPosition, world["V"]) is None
        assert not s.scalars(select(TrailPoint).where(TrailPoint.responder_id == world["V"])).all()
        lon, lat = lonlat(s, 10, 10)
        later = T0 + dt.timedelta(seconds=30)
        report = ingest_positions(
            s,
            responder_ids=[world["V"], world["B"], 999_999, world["B"], world["A"]],
            lon=[lon, lon, lon, lon + 0.001, 500.0],
            lat=[lat, lat, lat, lat, lat],
            at=[later, later, later, T0 + dt.timedelta(seconds=10), later],
            actor=SYSTEM,
            now=later,
        )
    assert report.accepted == 2
    reasons = {i: reason for i, _, reason in report.rejected}
    assert set(reasons) == {0, 2, 4}
    assert "off duty" in reasons[0] and "unknown" in reasons[2] and "range" in reasons[4]
    with session_scope(engine) as s:
        assert s.get(ResponderPosition, world["V"]) is None
        latest = s.get(ResponderPosition, world["B"])
        assert latest is not None and latest.at == later and latest.lon == pytest.approx(lon)
        trail = s.scalars(select(TrailPoint).where(TrailPoint.responder_id == world["B"])).all()
        assert len(trail) == 3  # the seed fix and both new ones


def test_fight_plan_dispatch_ack_and_status_flow(engine: Engine, world: dict[str, int]) -> None:
    with session_scope(engine) as s:
        made = dispatch.dispatch_incident(s, incident_id=world["incident"], actor=SYSTEM, now=T0)
        sent = [(a.responder_id, a.tier, a.ack_seconds) for a in made]
        b_id = made[0].id
    # fight = 2 tier-1 + 1 tier-2, each the fastest by road.
    assert sent == [(world["B"], 1, 30), (world["A"], 1, 30), (world["D"], 2, 60)]
    assert availability(engine, world["B"]) == Availability.BUSY
    assert incident_status(engine, world["incident"]) == "dispatched"
    steps = [
        (AssignmentStatus.ACKNOWLEDGED, 10),
        (AssignmentStatus.EN_ROUTE, 20),
        (AssignmentStatus.ON_SCENE, 100),
        (AssignmentStatus.CLEARED, 400),
    ]
    for status, seconds in steps:
        with session_scope(engine) as s:
            dispatch.set_status(s, assignment_id=b_id, status=status, actor=SYSTEM,
                                now=T0 + dt.timedelta(seconds=seconds))  # fmt: skip
        expected = Availability.AVAILABLE if status == "cleared" else Availability.BUSY
        assert availability(engine, world["B"]) == expected
    with session_scope(engine) as s, pytest.raises(Conflict):
        dispatch.set_status(s, assignment_id=b_id, status=AssignmentStatus.EN_ROUTE, actor=SYSTEM)
    assert incident_status(engine, world["incident"]) == "on_scene"  # follows, never goes back
    with session_scope(engine) as s:
        kinds = [e.kind for e in dispatch.incident_timeline(s, incident_id=world["incident"],
                                                            actor=SYSTEM)]  # fmt: skip
        hour = dt.timedelta(hours=1)
        rows = response_kpis(
            s, actor=SYSTEM, since=T0 - hour, until=T0 + hour, targets=Targets(turnout_s=15)
        )
        assert verify_chain(s).ok
    assert kinds == ["plan", "dispatched", "dispatched", "dispatched", "acknowledged",
                     "en_route", "on_scene", "cleared"]  # fmt: skip
    tier1 = next(r for r in rows if r.tier == 1)
    assert tier1.assignments == 2
    assert tier1.intervals["call_to_dispatch"].median_s == 60.0
    assert tier1.intervals["turnout"].n == 1 and tier1.intervals["turnout"].median_s == 20.0
    assert tier1.intervals["turnout"].share_within == 0.0
    assert tier1.intervals["travel"].median_s == 80.0
    assert tier1.intervals["on_scene"].median_s == 300.0


def test_escalation_applies_exactly_once_with_a_controlled_clock(
    engine: Engine, world: dict[str, int]
) -> None:
    with session_scope(engine) as s:
        made = dispatch.dispatch_incident(s, incident_id=world["incident"], actor=SYSTEM, now=T0)
        b_assignment = made[0].id
        dispatch.set_status(s, assignment_id=b_assignment, status=AssignmentStatus.ACKNOWLEDGED,
                            actor=SYSTEM, now=T0 + dt.timedelta(seconds=10))  # fmt: skip

    def run(seconds: int) -> tuple[int, int, int]:
        r = dispatch.run_dispatch_escalations(engine, now=T0 + dt.timedelta(seconds=seconds))
        return r.timed_out, r.replaced, r.to_supervisor

    assert run(29) == (0, 0, 0)  # nobody is late yet
    # A (tier 1) is silent past 30 s; no tier-1 left, so the next tier: C.
    assert run(31) == (1, 1, 0)
    assert run(31) == (0, 0, 0)  # exactly once
    assert availability(engine, world["A"]) == Availability.AVAILABLE
    assert availability(engine, world["C"]) == Availability.BUSY
    # D (tier 2, 60 s) silent: tier 2 is exhausted, so tier 3 (the volunteer).
    assert run(61) == (1, 1, 0)
    # C's own 60 s run out at 91 s: nobody untried is left, so the supervisor is told.
    assert run(92) == (1, 0, 1)
    # V (tier 3, sent at 61 s with 120 s) runs out at 181 s: the supervisor again.
    assert run(181) == (1, 0, 1)
    assert run(600) == (0, 0, 0)
    with session_scope(engine) as s:
        rows = s.scalars(
            select(Assignment)
            .where(Assignment.incident_id == world["incident"])
            .order_by(Assignment.id)
        ).all()
        timeline = dispatch.incident_timeline(s, incident_id=world["incident"], actor=SYSTEM)
        assert verify_chain(s).ok
    by_responder = {r.responder_id: r.status for r in rows}
    assert by_responder[world["B"]] == AssignmentStatus.ACKNOWLEDGED
    assert by_responder[world["A"]] == AssignmentStatus.TIMED_OUT
    assert by_responder[world["D"]] == AssignmentStatus.TIMED_OUT
    assert by_responder[world["C"]] == AssignmentStatus.TIMED_OUT
    assert by_responder[world["V"]] == AssignmentStatus.TIMED_OUT
    assert len(rows) == 5  # B, A, D, then C and V as replacements: no duplicates
    timeouts = [e for e in timeline if e.kind == "ack_timeout"]
    assert len({json.loads(e.detail)["responder_id"] for e in timeouts}) == len(timeouts)
    assert any(e.kind == "supervisor" for e in timeline)


def test_acknowledging_a_timed_out_assignment_is_refused(
    engine: Engine, world: dict[str, int]
) -> None:
    with session_scope(engine) as s:
        made = dispatch.dispatch_incident(
            s, incident_id=world["incident"], actor=SYSTEM, now=T0, responder_ids=[world["A"]]
        )
    dispatch.run_dispatch_escalations(engine, now=T0 + dt.timedelta(seconds=31))
    with session_scope(engine) as s, pytest.raises(Conflict):
        dispatch.set_status(
            s, assignment_id=made[0].id, status=AssignmentStatus.ACKNOWLEDGED, actor=SYSTEM
        )


def test_a_second_plan_dispatch_is_refused(engine: Engine, world: dict[str, int]) -> None:
    with session_scope(engine) as s:
        dispatch.dispatch_incident(s, incident_id=world["incident"], actor=SYSTEM, now=T0)
    with session_scope(engine) as s, pytest.raises(Conflict):
        dispatch.dispatch_incident(s, incident_id=world["incident"], actor=SYSTEM, now=T0)
    # Naming a responder still adds one.
    with session_scope(engine) as s:
        more = dispatch.dispatch_incident(
            s, incident_id=world["incident"], actor=SYSTEM, now=T0, responder_ids=[world["V"]]
        )
    assert [a.responder_id for a in more] == [world["V"]]
