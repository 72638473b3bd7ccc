"""A real server on a free port over the small test city, with incidents, a hotspot run and alerts.

The OGC tests talk to it over real HTTP, as QGIS or OWSLib would.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from sqlalchemy import Engine

from pingan.alerts.models import Alert
from pingan.app import create_app
from pingan.incidents import service as incidents_service
from pingan.kit import jobs
from pingan.kit.db import session_scope, utcnow
from pingan.org import auth, users
from pingan.org.models import User
from pingan.org.principal import Principal
from pingan.settings import get_settings
from tests.api.conftest import PEOPLE, people  # noqa: F401  (fixture)
from tests.citykit import TestCity, grid_centre, unit

# Incidents per grid, each on its own day of March 2026 (UTC noon).
PLAN = {"W1": 3, "W2": 2, "E1": 1, "E2": 4}


@dataclass
class Server:
    url: str
    keys: dict[str, str]  # username -> API key
    incidents: dict[str, list[int]]  # grid code -> ids, in id order
    days: dict[int, dt.date]  # incident id -> day it occurred
    hotspot_runs: dict[str, int]  # username -> job id of a stored run
    alerts: dict[str, int]  # district code -> alert id


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _hotspot_result(grid: str) -> dict[str, object]:
    lon, lat = grid_centre(grid)
    square = [
        [lon - 0.002, lat - 0.002],
        [lon + 0.002, lat - 0.002],
        [lon + 0.002, lat + 0.002],
        [lon - 0.002, lat + 0.002],
        [lon - 0.002, lat - 0.002],
    ]
    feature = {
        "type": "Feature",
        "id": f"cell-{grid}",
        "geometry": {"type": "Polygon", "coordinates": [square]},
        "properties": {"id": f"cell-{grid}", "count": 5, "z": 3.1, "label": "hot spot 99%"},
    }
    return {"type": "FeatureCollection", "features": [feature], "summary": {"n_locations": 1}}


def _seed(engine: Engine) -> Server:
    system = Principal.system("ogc-test")
    keys: dict[str, str] = {}
    placed: dict[str, list[int]] = {}
    days: dict[int, dt.date] = {}
    runs: dict[str, int] = {}
    alerts: dict[str, int] = {}
    with session_scope(engine) as session:
        # A district administrator too: administrators see others' runs only city-wide.
        west_admin = users.create_user(session, username="west_admin", password=None,
                                       is_service=True, actor=system)  # fmt: skip
        users.grant_role(session, user=west_admin, role_name="admin", unit=unit(session, "DW"),
                         actor=system)  # fmt: skip
        for name in [*PEOPLE, "west_admin"]:
            user = session.query(User).filter_by(username=name).one()
            keys[name], _key = auth.create_api_key(session, user=user, name="qgis", actor=system)
        day = 0
        for grid, n in PLAN.items():
            lon, lat = grid_centre(grid)
            rows = []
            for k in range(n):
                day += 1
                when = dt.datetime(2026, 3, day, 12, tzinfo=dt.UTC)
                rows.append(
                    {
                        "type": "theft.bicycle",
                        "occurred_at": when,
                        "lon": lon + 0.0005 * k,
                        "lat": lat,
                        "external_id": f"{grid}-{k}",
                    }
                )
            result = incidents_service.intake_batch(session, rows=rows, actor=system)
            assert not result.rejected, result.rejected
            placed[grid] = [a.id for a in result.accepted]
            for a, row in zip(result.accepted, rows, strict=True):
                days[a.id] = row["occurred_at"].date()  # type: ignore[attr-defined]
        # Two stored hotspot runs: one asked for by the west officer, one by the east analyst.
        for username, grid in (("west_officer", "W1"), ("east_analyst", "E2")):
            job = jobs.Job(
                kind="analysis.hotspots",
                params=json.dumps({"params": {}, "requested_by": {"username": username}}),
                status=jobs.JobStatus.SUCCEEDED,
                result=json.dumps(_hotspot_result(grid)),
                created_by=f"user:{username}",
                finished_at=utcnow(),
            )
            session.add(job)
            session.flush()
            runs[username] = job.id
        for district, grid in (("DW", "W2"), ("DE", "E1")):
            g = unit(session, grid)
            alert = Alert(
                method="ears_c3",
                org_unit_id=g.id,
                org_path=g.path,
                area_key=str(g.id),
                area=json.dumps({"grid_ids": [g.id]}),
                incident_types=json.dumps(["theft.bicycle"]),
                window_start=dt.date(2026, 3, 5),
                window_end=dt.date(2026, 3, 6),
                statistic=4.2,
                p_value=0.01,
                observed=6,
                expected=1.5,
            )
            session.add(alert)
            session.flush()
            alerts[district] = alert.id
    return Server("", keys, placed, days, runs, alerts)


@pytest.fixture
def server(engine: Engine, city: TestCity, people: dict[str, int]) -> Iterator[Server]:  # noqa: F811
    seeded = _seed(engine)
    settings = get_settings().model_copy(update={"run_jobs": False})
    port = _free_port()
    uv = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < deadline, "the OGC test server did not start"
        time.sleep(0.05)
    seeded.url = f"http://127.0.0.1:{port}"
    try:
        yield seeded
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(autouse=True)
def _owslib_headers() -> Iterator[None]:
    """OWSLib keeps request headers in a module-level dict; give each test a clean one."""
    from owslib import ogcapi

    saved = dict(ogcapi.REQUEST_HEADERS)
    yield
    ogcapi.REQUEST_HEADERS.clear()
    ogcapi.REQUEST_HEADERS.update(saved)
