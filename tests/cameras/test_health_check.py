"""Offline after silence, and reminders to the owner's contact after 1 h and 1 day, once each."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select

from pingan.cameras import health, health_intake, registry
from pingan.cameras.health_models import CameraLiveState, CameraOutage, CameraOutageNotice
from pingan.kit import jobs
from pingan.kit.db import session_scope
from tests.cameras.test_health_kit import SYSTEM, T0, add_cameras, add_owner, beat
from tests.citykit import TestCity

SILENCE = dt.timedelta(minutes=5)
MIN = dt.timedelta(minutes=1)


@pytest.fixture
def cams(engine: Engine, city: TestCity) -> dict[str, list[int]]:
    with session_scope(engine) as s:
        add_owner(s, "school", contact_name="Ms Li", contact_phone="138-0000")
        add_owner(s, "mall")
        return {
            "school": add_cameras(s, "school", "W1", 2),
            "agreed": add_cameras(s, "school", "W2", 1, prefix="a", contact="guard@school"),
            "mall": add_cameras(s, "mall", "E1", 1),
            "repair": add_cameras(s, "mall", "E2", 1, prefix="r", status="maintenance"),
        }


def _beats(engine: Engine, rows: list[dict[str, object]], now: dt.datetime) -> None:
    with session_scope(engine) as s:
        beats, rejected = health_intake.validate(rows, now=now)
        assert rejected == []
        health_intake.ingest(s, beats, actor=SYSTEM, now=now)


def _check(engine: Engine, now: dt.datetime) -> health.CheckReport:
    with session_scope(engine) as s:
        return health.check(s, now=now, silence=SILENCE)


def _notices(engine: Engine) -> list[tuple[int, str, str, dt.datetime]]:
    with session_scope(engine) as s:
        n, o = CameraOutageNotice, CameraOutage
        rows = s.execute(
            select(o.camera_id, n.kind, n.recipient, n.created_at)
            .join(o, o.id == n.outage_id)
            .order_by(n.id)
        ).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_silence_opens_an_outage_from_the_last_heartbeat(
    engine: Engine, cams: dict[str, list[int]]
) -> None:
    a, b = cams["school"]
    (repair,) = cams["repair"]  # in maintenance: not watched
    _beats(
        engine, [beat(a, T0), beat(b, T0), beat(b, T0 + 3 * MIN), beat(repair, T0)], T0 + 3 * MIN
    )
    # Exactly at the silence limit nothing happens; one second later a is offline.
    assert _check(engine, T0 + SILENCE).went_silent == []
    report = _check(engine, T0 + SILENCE + dt.timedelta(seconds=1))
    assert report.went_silent == [a]
    assert _check(engine, T0 + 20 * MIN).went_silent == [b]
    with session_scope(engine) as s:
        outages = {
            o.camera_id: (o.started_at, o.ended_at, o.cause)
            for o in s.scalars(select(CameraOutage))
        }
        assert outages == {a: (T0, None, "silent"), b: (T0 + 3 * MIN, None, "silent")}
        state = s.get(CameraLiveState, a)
        assert state is not None and (state.state, state.state_since) == ("offline", T0)
    # a comes back at T0 + 30 min: the outage ends then.
    _beats(engine, [beat(a, T0 + 30 * MIN)], T0 + 30 * MIN)
    with session_scope(engine) as s:
        closed = s.scalars(select(CameraOutage).where(CameraOutage.camera_id == a)).one()
        assert closed.ended_at == T0 + 30 * MIN
        # b is retired while down: nobody is reminded about it.
        registry.retire_camera(s, b, actor=SYSTEM)
    report = _check(engine, T0 + 2 * 60 * MIN)
    # a went silent again after 30 min and is reminded about; b is not.
    assert report.went_silent == [a]
    reminded = [c for c, kind, _, _ in _notices(engine) if kind.startswith("reminder")]
    assert reminded == [a]


def test_reminders_go_to_the_owner_contact_once_each(
    engine: Engine, cams: dict[str, list[int]]
) -> None:
    a = cams["school"][0]
    (agreed,) = cams["agreed"]
    (mall,) = cams["mall"]
    _beats(engine, [beat(a, T0), beat(agreed, T0), beat(mall, T0)], T0)
    _check(engine, T0 + 10 * MIN)  # all three silent since T0
    _beats(engine, [beat(mall, T0 + 50 * MIN)], T0 + 50 * MIN)  # mall back before an hour
    for minutes in (59, 61, 62, 60 * 23, 60 * 24 + 1, 60 * 24 + 2, 60 * 48):
        _check(engine, T0 + minutes * MIN)
    got = sorted(_notices(engine), key=lambda n: (n[3], n[0], n[1]))
    opened = T0 + 10 * MIN
    assert got == [
        (a, "opened", health.OPERATIONS, opened),
        (agreed, "opened", health.OPERATIONS, opened),
        (mall, "opened", health.OPERATIONS, opened),
        (mall, "recovered", health.OPERATIONS, T0 + 50 * MIN),
        # Silent again since 50 min: a second outage, with reminders of its own.
        (mall, "opened", health.OPERATIONS, T0 + 59 * MIN),
        (a, "reminder_1h", "138-0000", T0 + 61 * MIN),
        (agreed, "reminder_1h", "guard@school", T0 + 61 * MIN),
        (mall, "reminder_1h", "owner mall", T0 + 60 * 23 * MIN),
        (a, "reminder_1d", "138-0000", T0 + (60 * 24 + 1) * MIN),
        (agreed, "reminder_1d", "guard@school", T0 + (60 * 24 + 1) * MIN),
        (mall, "reminder_1d", "owner mall", T0 + 60 * 48 * MIN),
    ]


def test_the_check_runs_as_a_scheduled_job(engine: Engine, cams: dict[str, list[int]]) -> None:
    import pingan.schedules  # noqa: F401  (registers the job kinds)

    (mall,) = cams["mall"]
    _beats(engine, [beat(mall, T0)], T0)
    with session_scope(engine) as s:
        job = jobs.submit(s, kind=health.CHECK_KIND, params={}, created_by="test")
        job_id = job.id
    jobs.run_pending(engine)
    with session_scope(engine) as s:
        done = jobs.get(s, job_id)
        assert done.status == "succeeded", done.error
        # Real time is long past T0 + 1 day: the first check finds the outage and both
        # reminders due at once; the mall has no contact, so the owner is named.
        assert done.result_dict() == {
            "went_silent": 1, "notices": {"reminder_1h": 1, "reminder_1d": 1},
        }  # fmt: skip
    assert [(k, r) for _, k, r, _ in _notices(engine)] == [
        ("opened", health.OPERATIONS), ("reminder_1h", "owner mall"), ("reminder_1d", "owner mall"),
    ]  # fmt: skip


def test_demo_seeding_is_idempotent(engine: Engine, city: TestCity) -> None:
    from pingan.cameras.health_demo import seed_demo_health

    with session_scope(engine) as s:
        add_owner(s, "demo")
        add_cameras(s, "demo", "W1", 60)
    now = T0 + dt.timedelta(days=3)
    offline = seed_demo_health(engine, seed=3, now=now)
    assert offline > 0
    assert seed_demo_health(engine, seed=3, now=now) == 0
    with session_scope(engine) as s:
        open_outages = s.scalars(select(CameraOutage).where(CameraOutage.ended_at.is_(None))).all()
        assert len(open_outages) == offline
        # Every camera down for over an hour has had its owner reminded.
        reminded = set(
            s.scalars(
                select(CameraOutageNotice.outage_id).where(CameraOutageNotice.kind == "reminder_1h")
            )
        )
        assert reminded == {
            o.id for o in open_outages if now - o.started_at >= dt.timedelta(hours=1)
        }
