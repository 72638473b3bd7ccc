"""The daily scan's circle bound: applied to every reported cluster, and validated."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pingan.alerts.detect import MAX_RADIUS_KM_DEFAULT, DailyParams, run_daily
from pingan.alerts.run_schedules import ScheduleConfigError, parse_schedules
from pingan.alerts.runs import params_from
from pingan.alerts.service import list_alerts
from pingan.incidents.service import city_zone
from pingan.kit.db import session_scope
from pingan.kit.errors import ValidationFailed
from pingan.org.principal import Principal
from tests.alerts.conftest import DAY, LOOKBACK
from tests.citykit import LAT0, LAT1, TestCity
from tests.incidents.analysis.conftest import intake

SYSTEM = Principal.system("test")


@pytest.fixture
def two_grid_outbreak(engine: Engine, city: TestCity) -> set[int]:
    """A quiet background, and 40 thefts on the last 3 days across W2 and E1 (~1 km apart).

    The outer grids W1 and E2 are busier, so the two middle ones together hold
    well under half the cases (the scan's population bound stays out of the way).
    """
    rng = np.random.default_rng(5)
    zone = city_zone()
    first = DAY - dt.timedelta(days=LOOKBACK - 1)
    rows: list[dict[str, object]] = []

    def add(n: int, lon: tuple[float, float], days: tuple[int, int], prefix: str) -> None:
        for i in range(n):
            day = first + dt.timedelta(days=int(rng.integers(*days)))
            when = dt.datetime.combine(day, dt.time(9), zone) + dt.timedelta(
                hours=float(rng.uniform(0, 10))
            )
            rows.append(
                {"type": "theft.bicycle", "occurred_at": when.isoformat(), "severity": 2,
                 "lon": float(rng.uniform(*lon)),
                 "lat": float(rng.uniform(LAT0 + 0.001, LAT1 - 0.001)),
                 "external_id": f"{prefix}{i}"}
            )  # fmt: skip

    add(300, (120.0005, 120.0395), (0, LOOKBACK), "bg")
    add(150, (120.0005, 120.0095), (0, LOOKBACK), "w1-")
    add(150, (120.0305, 120.0395), (0, LOOKBACK), "e2-")
    add(20, (120.012, 120.019), (LOOKBACK - 3, LOOKBACK), "w2-")
    add(20, (120.021, 120.028), (LOOKBACK - 3, LOOKBACK), "e1-")
    intake(engine, rows)
    return {city.id("W2"), city.id("E1")}


def _scan_areas(engine: Engine, **params: Any) -> list[dict[str, Any]]:
    with session_scope(engine) as session:
        run_daily(
            session,
            DailyParams(day=DAY, replications=99, seed=1, methods="scan", **params),
            actor=SYSTEM,
        )
        alerts = list_alerts(session, actor=SYSTEM, method="scan.space_time_permutation")
        out = [a.area_dict() for a in alerts]
        session.rollback()  # each call starts from no alerts
    return out


def test_no_reported_cluster_is_wider_than_the_radius(
    engine: Engine, two_grid_outbreak: set[int]
) -> None:
    # Unbounded by distance, the two outbreak grids form one cluster ~1 km across.
    wide = _scan_areas(engine, max_radius_km=0)
    assert any(set(a["grid_ids"]) == two_grid_outbreak for a in wide)
    assert max(a["radius_m"] for a in wide) > 500
    # Half a kilometre lets no circle reach a neighbouring grid's centroid.
    narrow = _scan_areas(engine, max_radius_km=0.5)
    assert narrow, "the outbreak grids are still found, one circle each"
    assert all(a["radius_m"] <= 500 and len(a["grid_ids"]) == 1 for a in narrow)
    assert {g for a in narrow for g in a["grid_ids"]} <= two_grid_outbreak


def test_the_default_bound_is_applied(engine: Engine, two_grid_outbreak: set[int]) -> None:
    assert DailyParams(day=DAY).max_radius_km == MAX_RADIUS_KM_DEFAULT
    found = _scan_areas(engine)
    assert found and all(a["radius_m"] <= MAX_RADIUS_KM_DEFAULT * 1000 for a in found)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"max_radius_km": -1}, "max_radius_km"),
        ({"max_radius_km": 101}, "max_radius_km"),
        ({"max_radius_km": math.nan}, "max_radius_km"),
        ({"max_radius_km": "far"}, "params"),
        ({"max_case_fraction": 0}, "max_case_fraction"),
        ({"max_case_fraction": 0.6}, "max_case_fraction"),
        ({"max_case_fraction": math.inf}, "max_case_fraction"),
    ],
)
def test_bad_bounds_are_refused(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        params_from({"day": DAY.isoformat(), **raw})
    assert caught.value.field == field


def test_bounds_are_accepted_as_json_numbers() -> None:
    params = params_from({"day": DAY.isoformat(), "max_radius_km": 2, "max_case_fraction": 0.1})
    assert params.max_radius_km == 2.0 and params.max_case_fraction == 0.1


def test_a_bad_bound_over_http_is_problem_json(
    api: TestClient, keys: dict[str, dict[str, str]], city: TestCity
) -> None:
    bad = api.post(
        "/api/v1/alerts/runs",
        json={"params": {"day": DAY.isoformat(), "max_radius_km": -3}},
        headers=keys["chief"],
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["field"] == "max_radius_km"
    assert "max_radius_km must be 0..100" in bad.json()["detail"]


def test_a_schedule_with_a_bad_bound_is_refused_at_startup() -> None:
    good = parse_schedules('[{"name": "alerts.daily", "max_radius_km": 2}]')
    assert good[0].params == {"max_radius_km": 2}
    with pytest.raises(ScheduleConfigError, match=r"max_radius_km must be 0\.\.100"):
        parse_schedules('[{"name": "wide", "max_radius_km": 500}]')
