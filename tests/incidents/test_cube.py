"""The event cube gives the same numbers as reading rows one by one, on both backends."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from shapely import Point, box
from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.incidents import service
from pingan.incidents.cube import CubeFilter, load_cube
from pingan.incidents.models import Incident, IncidentType
from pingan.kit.errors import ValidationFailed
from pingan.org.principal import Principal
from pingan.org.users import create_user, grant_role, principal_for
from tests.citykit import TestCity, grid_centre, unit

SYSTEM = Principal.system("test")
UTC = dt.UTC


def _fill(session: Session) -> None:
    rng = np.random.default_rng(5)
    rows = []
    for i in range(400):
        grid = ["W1", "W2", "E1", "E2"][i % 4]
        lon, lat = grid_centre(grid)
        rows.append(
            {
                "type": ["theft.bicycle", "theft.pickpocket", "fire", "dispute.neighbour"][i % 3],
                "occurred_at": (
                    dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(hours=int(i * 7))
                ).isoformat(),
                "lon": lon + rng.uniform(-0.004, 0.004),
                "lat": lat + rng.uniform(-0.008, 0.008),
                "severity": int(rng.integers(1, 6)),
                "external_id": f"c{i}",
            }
        )
    result = service.intake_batch(session, rows=rows, actor=SYSTEM)
    assert len(result.accepted) == 400


def test_cube_matches_rows(session: Session, city: TestCity) -> None:
    _fill(session)
    flt = CubeFilter(
        since=dt.datetime(2026, 1, 10, tzinfo=UTC),
        until=dt.datetime(2026, 2, 10, tzinfo=UTC),
        types=("theft",),
        org_unit_id=city.id("DW"),
        org_level="district",
    )
    cube = load_cube(session, flt, actor=SYSTEM)
    expected = session.scalars(
        select(Incident)
        .where(
            Incident.occurred_at >= flt.since,
            Incident.occurred_at < flt.until,
            Incident.district_id == city.id("DW"),
        )
        .order_by(Incident.id)
    ).all()
    theft_types = set(
        session.scalars(select(IncidentType.id).where(IncidentType.code.startswith("theft")))
    )
    expected = [e for e in expected if e.type_id in theft_types]
    assert len(cube) == len(expected) > 10
    order = np.lexsort((cube.y, cube.x))
    want = sorted(expected, key=lambda e: (e.x, e.y))
    np.testing.assert_allclose(cube.x[order], [e.x for e in want], rtol=0, atol=1e-9)
    np.testing.assert_allclose(cube.t[order], [e.occurred_at.timestamp() for e in want], atol=1e-3)
    assert cube.severity[order].tolist() == [e.severity for e in want]
    assert cube.grid_id[order].tolist() == [e.grid_id for e in want]
    assert cube.type_id.dtype == np.int32 and cube.x.dtype == np.float64


def test_cube_area_and_scope(session: Session, city: TestCity) -> None:
    _fill(session)
    lon, lat = grid_centre("E1")
    area = box(lon - 0.003, lat - 0.006, lon + 0.003, lat + 0.006)
    cube = load_cube(session, CubeFilter(area=area), actor=SYSTEM)
    stored = session.execute(select(Incident.lon, Incident.lat)).all()
    inside = sum(1 for lo, la in stored if area.contains(Point(lo, la)))
    assert len(cube) == inside > 0
    user = create_user(session, username="east", password="password-1", actor=SYSTEM)
    grant_role(session, user=user, role_name="analyst", unit=unit(session, "E2"), actor=SYSTEM)
    east = principal_for(session, user, via="session")
    scoped = load_cube(session, CubeFilter(), actor=east)
    assert set(scoped.grid_id.tolist()) == {city.id("E2")}
    assert len(scoped) == 100


def test_cube_cache_follows_intake(session: Session, city: TestCity) -> None:
    _fill(session)
    session.commit()
    first = load_cube(session, CubeFilter(), actor=SYSTEM)
    assert load_cube(session, CubeFilter(), actor=SYSTEM) is first
    lon, lat = grid_centre("W1")
    service.intake_batch(
        session,
        rows=[{"type": "fire", "occurred_at": "2026-03-03T03:03:03Z", "lon": lon, "lat": lat}],
        actor=SYSTEM,
    )
    # Its own uncommitted row is seen at once (read directly, never cached)...
    assert len(load_cube(session, CubeFilter(), actor=SYSTEM)) == len(first) + 1
    session.commit()
    # ...and once committed, the version moves on and the cache follows.
    again = load_cube(session, CubeFilter(), actor=SYSTEM)
    assert len(again) == len(first) + 1
    assert load_cube(session, CubeFilter(), actor=SYSTEM) is again


def test_empty_window_is_rejected(session: Session, city: TestCity) -> None:
    when = dt.datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationFailed, match="empty"):
        load_cube(session, CubeFilter(since=when, until=when), actor=SYSTEM)
