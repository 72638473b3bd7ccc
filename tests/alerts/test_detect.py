"""Daily detection on the test city: the planted W2 outbreak becomes one alert, re-runs merge."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import Engine

from pingan.alerts.detect import DailyParams, run_daily
from pingan.alerts.models import Alert
from pingan.alerts.service import list_alerts
from pingan.incidents.service import city_zone
from pingan.kit.db import session_scope
from pingan.org.principal import Principal
from tests.alerts.conftest import DAY
from tests.citykit import LAT0, LAT1, TestCity
from tests.incidents.analysis.conftest import intake

SYSTEM = Principal.system("test")


def _run(engine: Engine, day: dt.date = DAY, **extra: float) -> dict[str, object]:
    params = DailyParams(day=day, replications=99, seed=1, **extra)  # type: ignore[arg-type]
    with session_scope(engine) as session:
        return run_daily(session, params, actor=SYSTEM)


def _scan_alerts(engine: Engine, method: str = "scan.space_time_permutation") -> list[Alert]:
    with session_scope(engine) as session:
        found = list_alerts(session, actor=SYSTEM, method=method)
        session.expunge_all()
        return found


def test_planted_outbreak_becomes_an_alert(engine: Engine, outbreak: dict[str, int]) -> None:
    summary = _run(engine)
    assert summary["incidents"] == 505
    scans = _scan_alerts(engine)
    assert len(scans) == 1
    alert = scans[0]
    assert alert.area_dict()["grid_ids"] == [outbreak["W2"]]
    assert alert.org_unit_id == outbreak["W2"]
    assert alert.window_end == DAY
    # The window covers the three outbreak days (a busy background day before may join).
    assert DAY - dt.timedelta(days=3) <= alert.window_start <= DAY - dt.timedelta(days=2)
    assert alert.p_value is not None and alert.p_value <= 0.01
    assert alert.observed > 2 * alert.expected


def test_rerun_merges_instead_of_flooding(engine: Engine, outbreak: dict[str, int]) -> None:
    _run(engine)
    second = _run(engine)
    assert second["created"] == 0 and second["merged"] >= 1
    scans = _scan_alerts(engine)
    assert len(scans) == 1 and scans[0].signal_count == 2


def test_quiet_day_raises_no_scan_alert(engine: Engine, outbreak: dict[str, int]) -> None:
    # Thirty days earlier only the uniform background exists.
    _run(engine, DAY - dt.timedelta(days=30))
    assert _scan_alerts(engine) == []


@pytest.fixture
def near_repeats(engine: Engine, city: TestCity) -> set[int]:
    """Burglaries where 120 follow-ups hit within ~40 m and 1-5 days of an earlier one."""
    rng = np.random.default_rng(21)
    zone = city_zone()
    first = DAY - dt.timedelta(days=59)
    lon = list(rng.uniform(120.0005, 120.0395, 200))
    lat = list(rng.uniform(LAT0 + 0.0005, LAT1 - 0.0005, 200))
    days = [int(d) for d in rng.integers(0, 55, 200)]
    for _ in range(120):
        src = int(rng.integers(0, len(days)))
        lon.append(lon[src] + float(rng.uniform(-0.0004, 0.0004)))
        lat.append(lat[src] + float(rng.uniform(-0.0003, 0.0003)))
        days.append(min(days[src] + int(rng.integers(1, 6)), 59))
    rows = [
        {
            "type": "theft.bicycle",
            "occurred_at": dt.datetime.combine(
                first + dt.timedelta(days=d), dt.time(10), zone
            ).isoformat(),
            "lon": lo,
            "lat": la,
            "severity": 2,
            "external_id": f"nr{i}",
        }
        for i, (lo, la, d) in enumerate(zip(lon, lat, days, strict=True))
    ]
    intake(engine, rows)
    west = [city.id("W1"), city.id("W2")]
    east = [city.id("E1"), city.id("E2")]
    edges = [120.0, 120.01, 120.02, 120.03, 120.04]
    grids = west + east
    return {
        grids[int(np.searchsorted(edges, lo, side="right")) - 1]
        for lo, d in zip(lon, days, strict=True)
        if d == 59
    }


def test_near_repeats_flag_the_grids_of_the_day(engine: Engine, near_repeats: set[int]) -> None:
    assert near_repeats  # the plant put incidents on the analysis day
    _run(engine)
    flagged = _scan_alerts(engine, "nearrepeat.knox")
    assert {a.org_unit_id for a in flagged} == near_repeats
    for alert in flagged:
        assert (alert.window_start, alert.window_end) == (DAY, DAY + dt.timedelta(days=7))
        assert alert.statistic > 1.2 and alert.p_value is not None and alert.p_value <= 0.05


def test_near_repeats_can_be_turned_off(engine: Engine, near_repeats: set[int]) -> None:
    _run(engine, near_repeat_metres=0)
    assert _scan_alerts(engine, "nearrepeat.knox") == []


def test_no_near_repeat_alerts_without_the_pattern(
    engine: Engine, outbreak: dict[str, int]
) -> None:
    # A 3-day outbreak over a whole grid is not a near-repeat pattern at 200 m / 7 days.
    _run(engine)
    assert _scan_alerts(engine, "nearrepeat.knox") == []
