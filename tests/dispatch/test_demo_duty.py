"""Demo responders keep reporting, so the demo's dispatch board still has candidates later."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select, update

from pingan.dispatch import demo_duty
from pingan.dispatch.recommend import recommend
from pingan.dispatch.responder_models import Availability, Responder, ResponderPosition
from pingan.kit import jobs
from pingan.kit.db import session_scope, utcnow
from pingan.org.principal import Principal
from tests.dispatch.dispatchkit import lonlat

SYSTEM = Principal.system("test")


def _positions(engine: Engine) -> dict[int, tuple[dt.datetime, float, float]]:
    with session_scope(engine) as s:
        rows = s.execute(select(ResponderPosition)).scalars().all()
        return {p.responder_id: (p.at, p.lon, p.lat) for p in rows}


def test_stale_demo_positions_are_reported_again(engine: Engine, world: dict[str, int]) -> None:
    # An hour later nobody has reported: recommendation rightly finds no one.
    with session_scope(engine) as s:
        s.execute(update(ResponderPosition).values(at=utcnow() - dt.timedelta(hours=1)))
        s.execute(
            update(Responder)
            .where(Responder.id == world["D"])
            .values(availability=Availability.OFF_DUTY.value)
        )
        lon, lat = lonlat(s, 0, 0)
        assert recommend(s, lon=lon, lat=lat, actor=SYSTEM, with_routes=False) == []
    before = _positions(engine)

    reported = demo_duty.keep_on_duty_reporting(engine, seed=1)

    assert reported == len(before) - 1  # everyone on duty, not the one off duty
    after = _positions(engine)
    for rid, (at, lon0, lat0) in after.items():
        if rid == world["D"]:
            assert at == before[rid][0]
            continue
        assert utcnow() - at < dt.timedelta(minutes=1)
        # Nudged a few metres, never moved across town.
        assert abs(lon0 - before[rid][1]) <= 0.0002 + 1e-12
        assert abs(lat0 - before[rid][2]) <= 0.0002 + 1e-12
    with session_scope(engine) as s:
        found = recommend(s, lon=lon, lat=lat, actor=SYSTEM, with_routes=False)
    assert {c.responder_id for c in found} >= {world["A"], world["B"]}


def test_demo_duty_runs_as_a_scheduled_job(
    engine: Engine, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "_schedules", {})  # only the demo's schedule
    demo_duty.schedule()
    assert jobs.enqueue_due(engine), "the demo duty job was not enqueued"
    assert jobs.run_pending(engine) == 1
    with session_scope(engine) as s:
        job = s.scalar(select(jobs.Job).where(jobs.Job.kind == demo_duty.KIND))
        assert job is not None and job.status == jobs.JobStatus.SUCCEEDED
        assert job.result_dict() == {"reported": 5}
