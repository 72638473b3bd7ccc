"""CUSUM, the seasonal GLM and EARS C1/C2 in the daily run, chosen by its parameters."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import Engine, select

from pingan.alerts.detect import DailyParams, run_daily
from pingan.alerts.models import Alert
from pingan.alerts.runs import params_from
from pingan.analytics.aberration import poisson_cusum, seasonal_glm
from pingan.incidents.models import Incident
from pingan.incidents.service import city_zone
from pingan.kit.db import session_scope
from pingan.kit.errors import ValidationFailed
from pingan.org.principal import Principal
from tests.alerts.conftest import DAY, LOOKBACK
from tests.citykit import LAT0, LAT1, TestCity
from tests.incidents.analysis.conftest import intake

SYSTEM = Principal.system("test")


def _west_series(engine: Engine) -> np.ndarray:
    """Daily counts in the west community straight from the incidents (lon < 120.02)."""
    zone = city_zone()
    first = DAY - dt.timedelta(days=LOOKBACK - 1)
    series = np.zeros(LOOKBACK)
    with session_scope(engine) as session:
        for when, lon in session.execute(select(Incident.occurred_at, Incident.lon)):
            day = (when.astimezone(zone).date() - first).days
            if lon < 120.02 and 0 <= day < LOOKBACK:
                series[day] += 1
    return series


@pytest.fixture
def surge(engine: Engine, outbreak: dict[str, int]) -> None:
    """On top of the planted outbreak, 15 more thefts in W2 on the analysis day."""
    noon = dt.datetime.combine(DAY, dt.time(12), city_zone())
    rows: list[dict[str, object]] = [
        {
            "type": "theft.bicycle",
            "occurred_at": (noon + dt.timedelta(minutes=i)).isoformat(),
            "lon": 120.012 + 0.0004 * i,
            "lat": (LAT0 + LAT1) / 2,
            "severity": 2,
            "external_id": f"surge{i}",
        }
        for i in range(15)
    ]
    intake(engine, rows)


def _alerts(engine: Engine) -> list[Alert]:
    with session_scope(engine) as session:
        found = list(session.scalars(select(Alert).order_by(Alert.id)))
        session.expunge_all()
        return found


def test_cusum_and_glm_alert_on_the_outbreak_community(
    engine: Engine, city: TestCity, surge: None
) -> None:
    params = DailyParams(day=DAY, methods="cusum,glm", near_repeat_metres=0.0)
    with session_scope(engine) as session:
        summary = run_daily(session, params, actor=SYSTEM)
    assert summary["created"] >= 2
    found = {(a.method, a.org_unit_id): a for a in _alerts(engine)}
    # No scan or EARS alert: only the chosen methods ran.
    assert {m for m, _ in found} <= {"cusum.poisson", "glm.seasonal"}
    series = _west_series(engine)
    cusum = found[("cusum.poisson", city.id("MW"))]
    glm = found[("glm.seasonal", city.id("MW"))]
    assert cusum.window_end == glm.window_end == DAY
    assert cusum.observed == glm.observed == int(series[-1])
    expected_cusum = poisson_cusum(series, baseline_days=28, h=4.0)
    assert cusum.statistic == pytest.approx(expected_cusum.statistic[-1])
    assert cusum.expected == pytest.approx(expected_cusum.expected[-1])
    expected_glm = seasonal_glm(series, baseline_weeks=7, guard_days=7, alpha=0.01)
    assert glm.statistic == pytest.approx(expected_glm.statistic[-1])
    assert glm.statistic > expected_glm.threshold[-1]


def test_stricter_thresholds_silence_the_methods(
    engine: Engine, city: TestCity, outbreak: dict[str, int]
) -> None:
    params = DailyParams(
        day=DAY, methods="cusum,glm", cusum_h=49.0, glm_alpha=1e-12, near_repeat_metres=0.0
    )
    with session_scope(engine) as session:
        summary = run_daily(session, params, actor=SYSTEM)
    assert summary["created"] == 0 and _alerts(engine) == []


def test_methods_are_checked() -> None:
    assert params_from({"day": "2026-03-31", "methods": "ears_c1, cusum"}).method_list() == (
        "ears_c1",
        "cusum",
    )
    with pytest.raises(ValidationFailed, match="bogus"):
        params_from({"day": "2026-03-31", "methods": "cusum,bogus"})
    with pytest.raises(ValidationFailed, match="method"):
        params_from({"day": "2026-03-31", "methods": " , "})
    with pytest.raises(ValidationFailed, match="at least 31"):
        params_from({"day": "2026-03-31", "methods": "cusum", "lookback_days": 20})
