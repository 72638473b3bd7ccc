"""An outbreak planted in grid W2 over a quiet background, and the API users."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import Engine

from pingan.incidents.service import city_zone
from tests.citykit import LAT0, LAT1, TestCity
from tests.incidents.analysis.conftest import api, intake, keys  # noqa: F401  (shared fixtures)

DAY = dt.date(2026, 3, 31)  # the analysis day
LOOKBACK = 60


@pytest.fixture
def outbreak(engine: Engine, city: TestCity) -> dict[str, int]:
    """Thefts spread over 60 days and the whole city; 25 more in W2 on the last 3 days."""
    rng = np.random.default_rng(11)
    zone = city_zone()
    first = DAY - dt.timedelta(days=LOOKBACK - 1)
    rows: list[dict[str, object]] = []

    def add(i: int, lon: float, lat: float, day: dt.date, prefix: str) -> None:
        when = dt.datetime.combine(day, dt.time(8), zone) + dt.timedelta(
            hours=float(rng.uniform(0, 12))
        )
        rows.append(
            {
                "type": "theft.bicycle",
                "occurred_at": when.isoformat(),
                "lon": lon,
                "lat": lat,
                "severity": 2,
                "external_id": f"{prefix}{i}",
            }
        )

    for i in range(480):
        day = first + dt.timedelta(days=int(rng.integers(0, LOOKBACK)))
        add(
            i, rng.uniform(120.0005, 120.0395), rng.uniform(LAT0 + 0.0005, LAT1 - 0.0005), day, "bg"
        )
    for i in range(25):
        day = DAY - dt.timedelta(days=int(rng.integers(0, 3)))
        add(i, rng.uniform(120.011, 120.019), rng.uniform(LAT0 + 0.001, LAT1 - 0.001), day, "ob")
    intake(engine, rows)
    return {"W2": city.id("W2")}
