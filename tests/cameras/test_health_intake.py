"""Heartbeat intake: column validation, live state, outages from reports, scope."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pingan.cameras import health_intake
from pingan.cameras.health_models import CameraLiveState, CameraOutage, CameraOutageNotice
from pingan.kit.audit import AuditEntry
from pingan.kit.db import session_scope
from pingan.kit.errors import ValidationFailed
from pingan.org import users
from pingan.org.principal import Principal
from tests.cameras.test_health_kit import SYSTEM, T0, add_cameras, add_owner, beat
from tests.citykit import TestCity, unit

NOW = T0 + dt.timedelta(hours=2)


@pytest.fixture
def cams(engine: Engine, city: TestCity) -> list[int]:
    with session_scope(engine) as s:
        add_owner(s, "pso", contact_phone="110-0001")
        return add_cameras(s, "pso", "W1", 3) + add_cameras(s, "pso", "E1", 2, prefix="e")


def _ingest(engine: Engine, rows: list[object], actor: Principal = SYSTEM):  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        beats, rejected = health_intake.validate(rows, now=NOW)
        report = health_intake.ingest(s, beats, actor=actor, now=NOW)
        report.rejected = rejected + report.rejected
        return report


def _state(session: Session, camera_id: int) -> CameraLiveState:
    found = session.get(CameraLiveState, camera_id)
    assert found is not None
    return found


def test_validation_names_each_bad_row_and_field() -> None:
    rows: list[object] = [
        beat(1, T0),
        {"camera_id": "7", "at": "2026-11-02T08:00:00Z", "online": True},
        {"camera_id": 2, "at": "2026-11-02T08:00:00", "online": True},
        {"camera_id": 3, "at": "yesterday", "online": True},
        {"camera_id": 4, "at": "2026-11-02T08:00:00Z", "online": "yes"},
        {"camera_id": 5, "at": "2026-11-02T08:00:00+08:00", "online": True, "fps": -1},
        {"camera_id": 6, "at": 1793606400.5, "online": False, "bitrate_kbps": "fast"},
        [1, 2, 3],
        {"camera_id": 8, "at": (NOW + dt.timedelta(hours=1)).isoformat(), "online": True},
        {"camera_id": 9, "online": True},
        {"camera_id": True, "at": "2026-11-02T08:00:00Z", "online": True},
        {"camera_id": 10, "at": "2026-11-02T09:30:00.250+08:00", "online": False, "fps": 12.5},
    ]
    beats, rejected = health_intake.validate(rows, now=NOW)
    got = {r.index: r.field for r in rejected}
    assert got == {
        1: "camera_id", 2: "at", 3: "at", 4: "online", 5: "fps", 6: "bitrate_kbps", 7: None,
        8: "at", 9: "at", 10: "camera_id",
    }  # fmt: skip
    assert "time zone" in next(r.reason for r in rejected if r.index == 2)
    assert "future" in next(r.reason for r in rejected if r.index == 8)
    assert beats.index.tolist() == [0, 11]
    # 09:30:00.250 at +08:00 is 01:30:00.250 UTC.
    expected = dt.datetime(2026, 11, 2, 1, 30, 0, 250_000, tzinfo=dt.UTC)
    assert health_intake.from_us(int(beats.at_us[1])) == expected
    assert health_intake.from_us(int(beats.at_us[0])) == T0
    assert beats.online.tolist() == [True, False]
    assert beats.fps[1] == 12.5


def test_ndjson_bad_lines_are_rejected_and_the_rest_kept() -> None:
    body = b'{"camera_id": 1, "at": 0, "online": true}\n{oops\n\n{"camera_id": 2}\n'
    rows, bad = health_intake.parse_body(body, ndjson=True)
    assert len(rows) == 3
    assert [(r.index, r.reason[:6]) for r in bad] == [(1, "line 2")]
    # Two values on one line must not shift the indexes of the lines after it.
    rows, bad = health_intake.parse_body(b'{"a": 1}, {"b": 2}\n{"c": 3}\n', ndjson=True)
    assert rows[1] == {"c": 3} and [r.index for r in bad] == [0]
    with pytest.raises(ValidationFailed):
        health_intake.parse_body(b'{"camera_id": 1}', ndjson=False)


def test_latest_report_wins_and_late_reports_never_move_time_back(
    engine: Engine, cams: list[int]
) -> None:
    a, b = cams[0], cams[1]
    t1, t2 = T0 + dt.timedelta(minutes=1), T0 + dt.timedelta(minutes=2)
    report = _ingest(
        engine,
        [beat(a, t2, fps=25, bitrate_kbps=4000), beat(a, T0, fps=10), beat(a, t1), beat(b, T0)],
    )
    assert (report.accepted, report.cameras, report.rejected) == (4, 2, [])
    _ingest(engine, [beat(a, t1, fps=5)])  # late
    with session_scope(engine) as s:
        sa = _state(s, a)
        assert (sa.first_seen_at, sa.last_seen_at, sa.fps, sa.bitrate_kbps) == (T0, t2, 25, 4000)
        assert (sa.state, sa.state_since, sa.reports) == ("online", T0, 4)
        assert _state(s, b).reports == 1
        assert s.scalars(select(CameraOutage)).all() == []


def test_reported_offline_opens_and_online_closes_an_outage(
    engine: Engine, cams: list[int]
) -> None:
    a, b, c = cams[0], cams[1], cams[2]
    m = [T0 + dt.timedelta(minutes=k) for k in range(10)]
    # a: online, offline at m1 and m2, back at m3 (one batch); b: offline at m4, stays down;
    # c: its very first report says offline, which is an outage too.
    first = _ingest(
        engine,
        [beat(a, m[0]), beat(a, m[2], online=False), beat(a, m[1], online=False), beat(a, m[3]),
         beat(b, m[0]), beat(b, m[4], online=False), beat(c, m[2], online=False)],
    )  # fmt: skip
    assert sorted(first.went_offline) == [a, b, c]
    assert first.recovered == [a]
    second = _ingest(engine, [beat(b, m[5], online=False), beat(b, m[7]), beat(a, m[8])])
    assert second.recovered == [b] and second.went_offline == []
    with session_scope(engine) as s:
        outages = {
            o.camera_id: (o.started_at, o.ended_at, o.cause)
            for o in s.scalars(select(CameraOutage))
        }
        assert outages == {
            a: (m[1], m[3], "reported"), b: (m[4], m[7], "reported"), c: (m[2], None, "reported"),
        }  # fmt: skip
        assert (_state(s, a).state, _state(s, a).state_since) == ("online", m[3])
        assert (_state(s, b).state, _state(s, b).state_since) == ("online", m[7])
        assert (_state(s, c).state, _state(s, c).state_since) == ("offline", m[2])
        kinds = sorted(s.scalars(select(CameraOutageNotice.kind)))
        assert kinds == ["opened", "opened", "opened", "recovered", "recovered"]


def test_unknown_and_out_of_scope_cameras_are_rejected_by_row(
    engine: Engine, cams: list[int]
) -> None:
    with session_scope(engine) as s:
        user = users.create_user(
            s, username="w_officer", password=None, is_service=True, actor=SYSTEM
        )
        users.grant_role(s, user=user, role_name="officer", unit=unit(s, "DW"), actor=SYSTEM)
        officer = users.principal_for(s, user, via="session")
    west, east = cams[0], cams[3]
    report = _ingest(engine, [beat(west, T0), beat(east, T0), beat(99_999, T0)], actor=officer)
    assert report.accepted == 1
    assert [(r.index, r.field) for r in report.rejected] == [(1, "camera_id"), (2, "camera_id")]
    with session_scope(engine) as s:
        assert s.get(CameraLiveState, east) is None
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "cameras.health.ingest")
        ).one()
        assert entry.actor == "user:w_officer"
