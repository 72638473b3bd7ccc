"""Briefings' street-coverage KPI: a run of briefings reads the street segments once."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from pingan.cameras import registry, streets
from pingan.kit.db import session_scope
from pingan.reports.kpis import compute_kpis, unit_for
from pingan.reports.periods import parse_period
from tests.cameras.camkit import SYSTEM, add_owner, build_roads, standard_cameras
from tests.citykit import TestCity

CODE = "cameras.street_coverage"


def _coverage_kpi(engine: Engine, unit_code: str) -> float | None:
    with session_scope(engine) as s:
        unit = unit_for(s, unit_code, SYSTEM)
        [(_, value)] = compute_kpis(
            s, actor=SYSTEM, unit=unit, period=parse_period("2026-03"), codes=[CODE]
        )
        return value.value


def test_briefings_read_the_segments_once_until_they_change(
    engine: Engine, city: TestCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(engine) as s:
        build_roads(s)
        add_owner(s)
        streets.build_segments(s, actor=SYSTEM)
    reads: list[int] = []
    real_read = streets.read_segment_arrays

    def counted(session: object) -> object:
        reads.append(1)
        return real_read(session)  # type: ignore[arg-type]

    monkeypatch.setattr(streets, "read_segment_arrays", counted)
    # Weekly and monthly briefings for the city and both districts: six KPIs, one read.
    shares = [_coverage_kpi(engine, code) for code in ("C", "DW", "DE") * 2]
    assert len(reads) == 1
    assert shares == [0.0] * 6
    with session_scope(engine) as s:
        registry.upsert_cameras(s, list(enumerate(standard_cameras(s), 1)), actor=SYSTEM)
    # The cameras changed the counts: the next briefing reads again, and sees them.
    west = _coverage_kpi(engine, "DW")
    assert len(reads) == 2
    assert west == pytest.approx((50.0 + 60.0) / 1400.0, abs=1e-4)
    assert _coverage_kpi(engine, "C") == pytest.approx(110.0 / 2400.0, abs=1e-4)
    assert len(reads) == 2
