"""Incidents on the hand-built test city, an HTTP client without a job worker, and users."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pingan.app import create_app
from pingan.incidents import service
from pingan.kit.db import session_scope
from pingan.org import auth, users
from pingan.org.principal import Principal
from pingan.settings import get_settings
from tests.citykit import LAT0, LAT1, TestCity, unit

SYSTEM = Principal.system("test")
UTC = dt.UTC
# A dense spot in grid W2 (west district) and where it is.
SPOT = (120.015, 30.010)
SPOT_EVENTS = 40
BACKGROUND_EVENTS = 300
WINDOW = (dt.datetime(2026, 3, 1, tzinfo=UTC), dt.datetime(2026, 4, 1, tzinfo=UTC))

# name -> (role, org unit code); each acts through an API key of a service account.
PEOPLE = {
    "chief": ("admin", "C"),
    "west_officer": ("officer", "DW"),
    "east_analyst": ("analyst", "DE"),
    "nobody": (None, None),
}


@dataclass(frozen=True)
class Planted:
    """What the tests planted: positions and how many fell in each district."""

    lon: np.ndarray
    lat: np.ndarray
    west: int
    east: int

    @property
    def total(self) -> int:
        return self.west + self.east


def intake(engine: Engine, rows: list[dict[str, object]]) -> None:
    with session_scope(engine) as session:
        result = service.intake_batch(session, rows=rows, actor=SYSTEM)
    assert not result.rejected, result.rejected[:3]


def _row(
    i: int, lon: float, lat: float, when: dt.datetime, kind: str, prefix: str
) -> dict[str, object]:
    return {
        "type": kind,
        "occurred_at": when.isoformat(),
        "lon": lon,
        "lat": lat,
        "severity": 1 + i % 5,
        "external_id": f"{prefix}{i}",
    }


@pytest.fixture
def planted(engine: Engine, city: TestCity) -> Planted:
    """Uniform background over the city plus a dense spot of thefts in W2, in March 2026."""
    rng = np.random.default_rng(3)
    n = BACKGROUND_EVENTS
    lon = rng.uniform(120.0005, 120.0395, n)
    lat = rng.uniform(LAT0 + 0.0005, LAT1 - 0.0005, n)
    spot_lon = SPOT[0] + rng.uniform(-0.0003, 0.0003, SPOT_EVENTS)
    spot_lat = SPOT[1] + rng.uniform(-0.0003, 0.0003, SPOT_EVENTS)
    seconds = (WINDOW[1] - WINDOW[0]).total_seconds()
    times = [
        WINDOW[0] + dt.timedelta(seconds=float(s)) for s in rng.uniform(0, seconds, n + SPOT_EVENTS)
    ]
    kinds = ["fire", "theft.bicycle", "dispute.neighbour"]
    rows = [_row(i, lon[i], lat[i], times[i], kinds[i % 3], "bg") for i in range(n)]
    rows += [
        _row(i, spot_lon[i], spot_lat[i], times[n + i], "theft.pickpocket", "spot")
        for i in range(SPOT_EVENTS)
    ]
    intake(engine, rows)
    all_lon = np.concatenate([lon, spot_lon])
    all_lat = np.concatenate([lat, spot_lat])
    west = int(np.sum(all_lon < 120.02))
    return Planted(all_lon, all_lat, west, len(all_lon) - west)


@pytest.fixture
def api(engine: Engine) -> Iterator[TestClient]:
    """The real app without its background worker: tests run jobs with ``run_pending``."""
    settings = get_settings().model_copy(update={"run_jobs": False})
    with TestClient(create_app(settings, engine)) as client:
        yield client


@pytest.fixture
def keys(engine: Engine, city: TestCity) -> dict[str, dict[str, str]]:
    """Request headers per person. API keys of service accounts need no password hashing,
    which keeps each test's setup short; the grants and scope checks are the real ones."""
    headers = {}
    with session_scope(engine) as session:
        for name, (role, code) in PEOPLE.items():
            user = users.create_user(
                session, username=name, password=None, is_service=True, actor=SYSTEM
            )
            if role is not None and code is not None:
                users.grant_role(
                    session, user=user, role_name=role, unit=unit(session, code), actor=SYSTEM
                )
            secret, _ = auth.create_api_key(session, user=user, name="tests", actor=SYSTEM)
            headers[name] = {"X-API-Key": secret}
    return headers
