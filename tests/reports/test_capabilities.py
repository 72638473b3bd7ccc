"""KPIs read from other domains: camera availability by hand, and honest gaps."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from pingan.cameras import health_intake
from pingan.kit.db import session_scope
from pingan.reports.kpis import REGISTRY, compute_kpis
from pingan.reports.kpis.registry import CAPABILITIES, NOT_INSTALLED, KpiContext, compute_one
from pingan.reports.periods import Period
from tests.cameras.test_health_kit import T0, add_cameras, add_owner, beat
from tests.citykit import TestCity, unit
from tests.reports.conftest import SYSTEM

H = dt.timedelta(hours=1)
WINDOW = Period("last24h", "10 h", T0, T0 + 10 * H)
EXTERNAL = (
    "cameras.availability",
    "cameras.street_coverage",
    "governance.mediation_success_rate",
    "governance.complaints_within_deadline",
)


def _values(engine: Engine, code: str) -> dict[str, object]:
    with session_scope(engine) as session:
        found = compute_kpis(
            session, actor=SYSTEM, unit=unit(session, code), period=WINDOW, codes=list(EXTERNAL)
        )
    return {v.code: v for _, v in found}


def test_camera_availability_and_gaps(engine: Engine, city: TestCity) -> None:
    with session_scope(engine) as s:
        add_owner(s, "pso")
        (a,) = add_cameras(s, "pso", "W1", 1)
        (b,) = add_cameras(s, "pso", "E1", 1, prefix="e")
    # a: seen from T0, down 1:00-1:30, down again from 9:00 on: 1.5 h of 10 h -> 85%.
    # b: seen from 2:00, never down: 100%.
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
    west, east, whole = _values(engine, "DW"), _values(engine, "DE"), _values(engine, "C")
    assert west["cameras.availability"].value == pytest.approx(0.85)  # type: ignore[attr-defined]
    assert east["cameras.availability"].value == pytest.approx(1.0)  # type: ignore[attr-defined]
    # Weighted by camera time: (10 + 8 - 1.5) / 18.
    assert whole["cameras.availability"].value == pytest.approx(16.5 / 18, abs=1e-4)  # type: ignore[attr-defined]
    # No street segments built yet, no disputes, no complaints: said, never a zero.
    for code in EXTERNAL[1:]:
        value = whole[code]
        assert value.value is None, code  # type: ignore[attr-defined]
        assert value.note, code  # type: ignore[attr-defined]


def test_a_missing_capability_reads_not_installed(
    engine: Engine, city: TestCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(CAPABILITIES, "cameras.health", ("pingan.no_such_module", "availability"))
    with session_scope(engine) as session:
        ctx = KpiContext(session=session, actor=SYSTEM, unit=unit(session, "C"), period=WINDOW)
        value = compute_one(ctx, REGISTRY["cameras.availability"])
    assert (value.available, value.value, value.note) == (False, None, NOT_INSTALLED)
