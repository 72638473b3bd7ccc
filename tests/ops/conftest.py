"""Shared helpers for the operations tests: a little data in the test city."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from pingan.incidents import service as incidents_service
from pingan.kit.db import session_scope
from pingan.org.principal import Principal
from tests.api.conftest import client, people  # noqa: F401  (fixtures for the API tests here)
from tests.citykit import grid_centre

SYSTEM = Principal.system("ops-test")


def add_incidents(engine: Engine, n: int, *, prefix: str = "inc", grid: str = "W1") -> list[int]:
    """Store ``n`` incidents through the real intake (each batch is also an audit entry)."""
    lon, lat = grid_centre(grid)
    rows = [
        {
            "type": "theft.bicycle",
            "occurred_at": dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC) + dt.timedelta(hours=i),
            "lon": lon + 0.00001 * i,
            "lat": lat,
            "external_id": f"{prefix}-{i}",
            "summary": f"bicycle {i} taken",
        }
        for i in range(n)
    ]
    with session_scope(engine) as session:
        result = incidents_service.intake_batch(session, rows=rows, actor=SYSTEM)
    assert not result.rejected
    return [a.id for a in result.accepted]
