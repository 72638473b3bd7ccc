"""Uptime % and MTTR from outage intervals, against hand-computed cases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import Engine

from pingan.cameras import health_intake
from pingan.cameras.health_availability import GroupBy, availability, outage_totals
from pingan.kit.db import session_scope
from pingan.kit.errors import ValidationFailed
from pingan.org.levels import Level
from tests.cameras.test_health_kit import SYSTEM, T0, add_cameras, add_owner, beat
from tests.citykit import TestCity

H = dt.timedelta(hours=1)
NAN = np.nan


def test_outage_totals_by_hand() -> None:
    # Period [0, 100) s. Camera 0 (group 0) watched from 0: outages [-50,-40] (outside),
    # [-30,5] (5 s inside, repaired at 5 after 35 s), [10,20] (10 s, repaired), [90, open)
    # (10 s). Camera 1 (group 0) watched from 50: [60,75] (15 s, repaired).
    # Camera 2 (group 1) first seen at 150, after the period: not watched.
    totals = outage_totals(
        camera_group=np.array([0, 0, 1]),
        first_seen=np.array([0.0, 50.0, 150.0]),
        outage_camera=np.array([0, 0, 0, 0, 1]),
        outage_start=np.array([-50.0, -30.0, 10.0, 90.0, 60.0]),
        outage_end=np.array([-40.0, 5.0, 20.0, NAN, 75.0]),
        period_start=0.0,
        period_end=100.0,
        groups=2,
    )
    assert totals.monitored_s.tolist() == [150.0, 0.0]
    assert totals.down_s.tolist() == [40.0, 0.0]  # 5 + 10 + 10 + 15
    assert totals.outages.tolist() == [4, 0]
    assert totals.repaired.tolist() == [3, 0]
    assert totals.repair_s.tolist() == [60.0, 0.0]  # 35 + 10 + 15


def test_an_outage_ending_at_the_period_start_is_outside() -> None:
    totals = outage_totals(
        camera_group=np.array([0]), first_seen=np.array([-100.0]),
        outage_camera=np.array([0]), outage_start=np.array([-10.0]),
        outage_end=np.array([0.0]), period_start=0.0, period_end=10.0, groups=1,
    )  # fmt: skip
    assert (totals.down_s[0], totals.outages[0], totals.repaired[0]) == (0.0, 0, 0)


@pytest.fixture
def cams(engine: Engine, city: TestCity) -> dict[str, int]:
    """a: public HD in W1; b and c: a school's, in E1 and E2."""
    with session_scope(engine) as s:
        add_owner(s, "pso")
        add_owner(s, "school")
        (a,) = add_cameras(s, "pso", "W1", 1)
        (b,) = add_cameras(s, "school", "E1", 1, network="school")
        (c,) = add_cameras(s, "school", "E2", 1, network="school", prefix="x")
    # a: seen from T0, down 1:00-1:30 (reported), down again from 9:00 on.
    # b: seen from 2:00, never down. c: never heard from.
    plan = [
        ([beat(a, T0)], T0),
        ([beat(a, T0 + H, online=False), beat(a, T0 + 1.5 * H)], T0 + 2 * H),
        ([beat(b, T0 + 2 * H), beat(b, T0 + 8 * H)], T0 + 8 * H),
        ([beat(a, T0 + 9 * H, online=False)], T0 + 9 * H),
    ]
    for rows, now in plan:
        with session_scope(engine) as s:
            beats, rejected = health_intake.validate(rows, now=now)
            assert rejected == []
            health_intake.ingest(s, beats, actor=SYSTEM, now=now)
    return {"a": a, "b": b, "c": c}


def _rows(engine: Engine, group_by: GroupBy, **kw: object) -> dict[str, tuple[object, ...]]:
    with session_scope(engine) as s:
        found = availability(
            s,
            actor=SYSTEM,
            since=T0,
            group_by=group_by,
            now=T0 + 10 * H,
            **kw,  # type: ignore[arg-type]
        )
    return {
        r.key: (r.cameras, round(r.monitored_hours, 9), round(r.down_hours, 9),
                None if r.uptime_pct is None else round(r.uptime_pct, 9), r.outages, r.repaired,
                None if r.mttr_minutes is None else round(r.mttr_minutes, 9))
        for r in found
    }  # fmt: skip


def test_per_camera_network_and_area(engine: Engine, cams: dict[str, int]) -> None:
    a, b = str(cams["a"]), str(cams["b"])
    # a: watched 10 h, down 0.5 + 1 h -> 85 %; one repair of 30 min. b: 8 h, 100 %.
    expected_a = (1, 10.0, 1.5, 85.0, 2, 1, 30.0)
    expected_b = (1, 8.0, 0.0, 100.0, 0, 0, None)
    assert _rows(engine, GroupBy.CAMERA) == {a: expected_a, b: expected_b}
    assert _rows(engine, GroupBy.NETWORK) == {"public_hd": expected_a, "school": expected_b}
    with session_scope(engine) as s:
        from tests.citykit import unit

        dw, de, w1 = (str(unit(s, c).id) for c in ("DW", "DE", "W1"))
    assert _rows(engine, GroupBy.AREA, level=Level.DISTRICT) == {dw: expected_a, de: expected_b}
    assert set(_rows(engine, GroupBy.AREA, level=Level.GRID)) == {w1, str(unit_id(engine, "E1"))}


def test_a_shorter_period_clips_the_intervals(engine: Engine, cams: dict[str, int]) -> None:
    # [T0 + 1:15, T0 + 9:30): a watched 8.25 h, down 0.25 + 0.5 h; the repair ended inside.
    with session_scope(engine) as s:
        (row,) = [
            r
            for r in availability(
                s,
                actor=SYSTEM,
                since=T0 + 1.25 * H,
                until=T0 + 9.5 * H,
                group_by=GroupBy.CAMERA,
                now=T0 + 10 * H,
            )
            if r.key == str(cams["a"])
        ]
    assert row.monitored_hours == pytest.approx(8.25)
    assert row.down_hours == pytest.approx(0.75)
    assert row.uptime_pct == pytest.approx(100 * (1 - 0.75 / 8.25))
    assert (row.outages, row.repaired, row.mttr_minutes) == (2, 1, pytest.approx(30.0))
    with session_scope(engine) as s, pytest.raises(ValidationFailed):
        availability(s, actor=SYSTEM, since=T0, until=T0 - H)


def unit_id(engine: Engine, code: str) -> int:
    from tests.citykit import unit

    with session_scope(engine) as s:
        return unit(s, code).id
