"""Emerging hotspots over HTTP: a spot that starts late comes out as a new or consecutive one."""

from __future__ import annotations

import datetime as dt

import numpy as np
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape
from sqlalchemy import Engine

from pingan.analytics.emerging import CATEGORY_NAMES
from tests.citykit import LAT0, LAT1, TestCity
from tests.incidents.analysis.conftest import intake

ZONE = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 1, 5, tzinfo=ZONE)  # a Monday
WEEKS = 12
LATE_SPOT = (120.032, 30.012)


def test_late_spot_is_an_emerging_hotspot(
    api: TestClient, engine: Engine, city: TestCity, keys: dict[str, dict[str, str]]
) -> None:
    rng = np.random.default_rng(8)
    rows: list[dict[str, object]] = []
    for i in range(360):
        when = START + dt.timedelta(seconds=float(rng.uniform(0, WEEKS * 7 * 86400)))
        lon, lat = rng.uniform(120.0005, 120.0395), rng.uniform(LAT0 + 0.0005, LAT1 - 0.0005)
        rows.append({"type": "fire", "occurred_at": when.isoformat(), "lon": lon, "lat": lat,
                     "external_id": f"bg{i}"})  # fmt: skip
    for i in range(36):  # twelve a week in the last three weeks
        when = START + dt.timedelta(weeks=WEEKS - 3, hours=14 * i + 1)
        lon, lat = LATE_SPOT[0] + rng.uniform(-3e-4, 3e-4), LATE_SPOT[1] + rng.uniform(-3e-4, 3e-4)
        rows.append({"type": "robbery", "occurred_at": when.isoformat(), "lon": lon, "lat": lat,
                     "external_id": f"late{i}"})  # fmt: skip
    intake(engine, rows)
    query = {
        "since": START.isoformat(),
        "until": (START + dt.timedelta(weeks=WEEKS)).isoformat(),
        "cell_size_m": 250,
        "time_window": 0,
    }
    response = api.get("/api/v1/analysis/emerging", params=query, headers=keys["chief"])
    assert (
        response.status_code == 200 and response.headers["content-type"] == "application/geo+json"
    )
    doc = response.json()
    steps = doc["summary"]["steps"]
    assert steps["count"] == WEEKS and sum(steps["events"]) == 396
    assert steps["starts"][0] == "2026-01-04T16:00:00+00:00"
    names = set(CATEGORY_NAMES.values())
    assert all(f["properties"]["category_name"] in names for f in doc["features"])
    spot = next(
        f for f in doc["features"] if shape(f["geometry"]).contains(shapely.Point(LATE_SPOT))
    )
    props = spot["properties"]
    assert props["category_name"] in ("new hot spot", "consecutive hot spot"), props
    assert props["hot_steps"] in (1, 2, 3) and props["count"] >= 36
