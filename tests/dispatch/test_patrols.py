"""Patrol planning over the river network: routes to the Gi* hotspots within a shift."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pingan.dispatch.patrols import plan_patrols
from pingan.kit.db import session_scope
from pingan.org.principal import Principal
from tests.api.conftest import login
from tests.citykit import TestCity
from tests.dispatch.conftest import T0
from tests.dispatch.dispatchkit import add_incident

SYSTEM = Principal.system("test")


def _clusters(engine: Engine) -> None:
    """Two tight clusters (by N1 and by N5) over a thin scatter, all in the last week."""
    rng = np.random.default_rng(3)
    with session_scope(engine) as s:
        for centre, n in (((1000, 0), 25), ((3000, 400), 25)):
            for dx, dy in rng.normal(0, 30, size=(n, 2)):
                when = T0 - dt.timedelta(days=float(rng.uniform(1, 7)))
                add_incident(s, type_code="theft", at_m=(centre[0] + dx, centre[1] + dy),
                             reported=when)  # fmt: skip
        for x, y in rng.uniform((0, 0), (3000, 1500), size=(15, 2)):
            add_incident(s, type_code="theft", at_m=(x, y), reported=T0 - dt.timedelta(days=2))


def test_routes_cover_hotspots_within_the_shift(
    engine: Engine, city: TestCity, world: dict[str, int]
) -> None:
    _clusters(engine)
    with session_scope(engine) as s:
        plan = plan_patrols(
            s, actor=SYSTEM, responder_ids=[world["B"]], org_unit_id=city.id("C"),
            shift_s=7200, dwell_s=60, now=T0,
        )  # fmt: skip
    assert plan.hotspots >= 2
    (route,) = plan.routes
    # Two hours are plenty for a 6 km network: every hot cell is visited.
    assert plan.covered == plan.hotspots and plan.prize_share == pytest.approx(1.0)
    assert route.seconds <= 7200
    arrivals = [stop.arrive_s for stop in route.stops]
    assert arrivals == sorted(arrivals)
    # Both clusters are on the route: some stop near each.
    lons = sorted(stop.lon for stop in route.stops)
    assert lons[-1] - lons[0] > 0.015
    assert route.route is not None and route.route.geom_type == "LineString"

    with session_scope(engine) as s:
        short = plan_patrols(
            s, actor=SYSTEM, responder_ids=[world["B"]], org_unit_id=city.id("C"),
            shift_s=600, dwell_s=600, now=T0,
        )  # fmt: skip
    # Ten minutes with ten minutes at each stop: one stop, right where the unit is.
    assert short.covered <= 1 and short.routes[0].seconds <= 600


def test_patrol_api_scope_and_bad_input(
    client: TestClient, city: TestCity, world: dict[str, int], people: dict[str, int]
) -> None:
    _clusters(client.app.state.engine)  # type: ignore[attr-defined]
    west = login(client, "west_officer")
    body = {"responder_ids": [world["A"], world["B"]], "org_unit_id": city.id("DW"),
            "shift_s": 3600, "dwell_s": 120}  # fmt: skip
    made = client.post("/api/v1/dispatch/patrols/plan", json=body, headers=west)
    assert made.status_code == 200, made.text
    doc = made.json()
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 2
    assert doc["summary"]["covered"] >= 1
    # The east analyst cannot see the west's units.
    east = login(client, "east_analyst")
    assert client.post("/api/v1/dispatch/patrols/plan", json=body, headers=east).status_code == 404
    bad = client.post("/api/v1/dispatch/patrols/plan", json={**body, "shift_s": 10}, headers=west)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    no_area = {"responder_ids": [world["A"]]}
    assert (
        client.post("/api/v1/dispatch/patrols/plan", json=no_area, headers=west).status_code == 422
    )
