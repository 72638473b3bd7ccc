"""Registry upserts, owner scope, and street coverage kept current, on a hand-computed layout."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from shapely import Polygon
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pingan.cameras import coverage, registry, streets
from pingan.cameras.models import Camera, StreetSegment
from pingan.cameras.schemas import CameraPatch
from pingan.kit.db import session_scope, utcnow
from pingan.kit.errors import Conflict, Forbidden, NotFound
from pingan.org import users
from pingan.org.levels import Level
from pingan.org.principal import Principal
from pingan.org.service import require_projector
from pingan.org.users import principal_for
from tests.cameras.camkit import (
    ORIGIN,
    SYSTEM,
    add_incident,
    add_owner,
    add_site,
    build_roads,
    camera,
    lonlat,
    standard_cameras,
)
from tests.citykit import TestCity, unit


@pytest.fixture
def roads(engine: Engine, city: TestCity) -> TestCity:
    with session_scope(engine) as s:
        build_roads(s)
        add_owner(s)
        add_owner(s, "SCH", "No. 1 Middle School")
        streets.build_segments(s, actor=SYSTEM)
    return city


def _origin(s: Session) -> tuple[float, float]:
    proj = require_projector(s)
    x, y = proj.to_metric(np.array([ORIGIN[0]]), np.array([ORIGIN[1]]))
    return float(x[0]), float(y[0])


def _covered(engine: Engine) -> dict[str, float]:
    with session_scope(engine) as s:
        report = coverage.coverage_report(s, actor=SYSTEM, incident_days=None)
    return {a.code: a.covered_m for a in report.areas}


def test_segments_are_cut_from_the_roads(engine: Engine, roads: TestCity) -> None:
    with session_scope(engine) as s:
        n = s.scalar(select(func.count()).select_from(StreetSegment))
        total = s.scalar(select(func.sum(StreetSegment.length_m)))
        assert n == 100 + 40 + 100
        assert total == pytest.approx(2400.0, abs=1e-3)
        grids = set(s.scalars(select(StreetSegment.grid_id)).all())
        assert grids <= {roads.id("W1"), roads.id("W2"), roads.id("E1"), roads.id("E2")}


def test_hand_computed_coverage(engine: Engine, roads: TestCity) -> None:
    when = utcnow() - dt.timedelta(days=10)
    with session_scope(engine) as s:
        report = registry.upsert_cameras(s, list(enumerate(standard_cameras(s), 1)), actor=SYSTEM)
        assert (report.created, report.rejected) == (2, 0)
        assert report.segments_updated == 5 + 6
        add_incident(s, (120, 2), when)  # on a covered piece of R0
        add_incident(s, (500, 0), when)  # on uncovered R0
        add_incident(s, (500, 300), when)  # 300 m from any street: not on a street
        add_incident(s, (2500, 0), when)  # district E, uncovered
    with session_scope(engine) as s:
        rep = coverage.coverage_report(s, actor=SYSTEM, level=Level.DISTRICT)
    assert rep.total_m == pytest.approx(2400.0, abs=1e-3)
    assert rep.covered_m == pytest.approx(50.0 + 60.0, abs=1e-6)
    by = {a.code: a for a in rep.areas}
    assert by["DW"].total_m == pytest.approx(1400.0, abs=1e-3)
    assert by["DW"].covered_m == pytest.approx(110.0, abs=1e-6)
    assert by["DE"].covered_m == 0.0
    assert (by["DW"].incidents, by["DW"].incidents_covered) == (2, 1)
    assert by["DW"].incident_share == pytest.approx(0.5)
    assert (by["DE"].incidents, by["DE"].incidents_covered) == (1, 0)
    classes = {c.road_class: c for c in rep.road_classes}
    assert classes["residential"].covered_m == pytest.approx(60.0, abs=1e-6)
    assert classes["primary"].covered_m == pytest.approx(50.0, abs=1e-6)


def test_upsert_is_idempotent_and_reports_bad_rows(engine: Engine, roads: TestCity) -> None:
    with session_scope(engine) as s:
        rows = list(enumerate(standard_cameras(s), 1))
        bad = camera(s, "x9", (10, 0), owner="NOPE")
        dup = camera(s, "c1", (300, 0))
        first = registry.upsert_cameras(s, [*rows, (3, bad), (4, dup)], actor=SYSTEM)
        assert (first.created, first.rejected) == (2, 2)
        assert sorted(e.line for e in first.errors) == [3, 4]
        again = registry.upsert_cameras(s, rows, actor=SYSTEM)
        assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
        assert again.segments_updated == 0
    assert _covered(engine)["DW"] == pytest.approx(110.0, abs=1e-6)


def test_move_and_retire_update_only_affected_segments(engine: Engine, roads: TestCity) -> None:
    with session_scope(engine) as s:
        registry.upsert_cameras(s, list(enumerate(standard_cameras(s), 1)), actor=SYSTEM)
        cam_id = s.scalar(select(Camera.id).where(Camera.owner_camera_id == "c1"))
        assert cam_id is not None
    with session_scope(engine) as s:
        # Turn c1 west: it now sees x 55..95 (5 pieces) instead of 105..145.
        registry.update_camera(s, cam_id, CameraPatch(heading_deg=270.0), actor=SYSTEM)
        ox, oy = _origin(s)
        seen = s.scalars(
            select(StreetSegment.x).where(
                StreetSegment.cover_count > 0, func.abs(StreetSegment.y - oy) < 1
            )
        ).all()
        assert sorted(round(x - ox) for x in seen) == [55, 65, 75, 85, 95]
    with session_scope(engine) as s:
        registry.retire_camera(s, cam_id, actor=SYSTEM)
    assert _covered(engine)["DW"] == pytest.approx(60.0, abs=1e-6)
    with session_scope(engine) as s:
        # The incremental counts agree with a recount from scratch.
        assert streets.recompute(s) == 0


def test_owner_users_manage_only_their_own_cameras(engine: Engine, roads: TestCity) -> None:
    with session_scope(engine) as s:
        registry.upsert_cameras(s, list(enumerate(standard_cameras(s), 1)), actor=SYSTEM)
        guard = users.create_user(s, username="school_guard", password="pw-long-enough-1",
                                  actor=SYSTEM)  # fmt: skip
        registry.link_owner_user(s, "SCH", "school_guard", actor=SYSTEM)
        actor = principal_for(s, guard, via="test")
        mine = camera(s, "s1", (600, 0), owner="SCH")
        theirs = camera(s, "c9", (700, 0), owner="PSB")
        report = registry.upsert_cameras(s, [(1, mine), (2, theirs)], actor=actor)
        assert report.created == 1
        assert [e.line for e in report.errors] == [2]
        visible = registry.list_cameras(s, actor=actor)
        assert [c.owner_camera_id for c in visible] == ["s1"]
        psb_cam = s.scalar(select(Camera.id).where(Camera.owner_camera_id == "c1"))
        assert psb_cam is not None
        with pytest.raises(NotFound):
            registry.update_camera(s, psb_cam, CameraPatch(heading_deg=0.0), actor=actor)


def test_org_scope_limits_officers(engine: Engine, roads: TestCity) -> None:
    with session_scope(engine) as s:
        officer = users.create_user(s, username="w_off", password="pw-long-enough-1", actor=SYSTEM)
        users.grant_role(s, user=officer, role_name="officer", unit=unit(s, "DW"), actor=SYSTEM)
        actor = principal_for(s, officer, via="test")
        west = camera(s, "w1", (600, 0))
        east = camera(s, "e1", (2500, 0))
        report = registry.upsert_cameras(s, [(1, west), (2, east)], actor=actor)
        assert report.created == 1 and [e.line for e in report.errors] == [2]
        rep = coverage.coverage_report(s, actor=actor, incident_days=None)
        assert {a.code for a in rep.areas} == {"DW"}
        nobody = Principal(user_id=None, username="anon")
        with pytest.raises(Forbidden):
            coverage.coverage_report(s, actor=nobody)


def test_duplicate_owner_is_a_conflict(engine: Engine, roads: TestCity) -> None:
    with session_scope(engine) as s, pytest.raises(Conflict):
        add_owner(s)


def test_key_site_coverage_and_backup(engine: Engine, roads: TestCity) -> None:
    with session_scope(engine) as s:
        cams = [
            camera(s, "a", (100, 0), heading=90.0),
            camera(s, "b", (150, 0), heading=270.0),  # sees 105..145 again: backup there
        ]
        registry.upsert_cameras(s, list(enumerate(cams, 1)), actor=SYSTEM)
        add_site(s, "SCHOOL1", (120, 0), level=1)
    with session_scope(engine) as s:
        seg = streets.segment_arrays(s)
        sites = coverage.site_coverage(s, seg, radius_m=50.0, scope=None)
    (site,) = sites
    # Within 50 m of x=120: midpoints 75, 85, ..., 165 -> 10 pieces, 100 m.
    assert site.total_m == pytest.approx(100.0, abs=1e-6)
    # a sees 105..145, b sees 105..145 too (facing west from 150): 5 pieces, both twice.
    assert site.covered_m == pytest.approx(50.0, abs=1e-6)
    assert site.backup_share == pytest.approx(0.5)


def test_a_site_far_from_every_street_has_no_coverage(engine: Engine, roads: TestCity) -> None:
    with session_scope(engine) as s:
        registry.upsert_cameras(s, [(1, camera(s, "a", (100, 0), heading=90.0))], actor=SYSTEM)
        add_site(s, "FARM1", (120, 5000), level=2)  # 5 km from the street
    with session_scope(engine) as s:
        (site,) = coverage.site_coverage(s, streets.segment_arrays(s), radius_m=50.0, scope=None)
    assert site.total_m == 0.0 and site.share == 0.0


def test_blind_spots_rank_by_incidents(engine: Engine, roads: TestCity) -> None:
    when = utcnow() - dt.timedelta(days=3)
    with session_scope(engine) as s:
        registry.upsert_cameras(s, list(enumerate(standard_cameras(s), 1)), actor=SYSTEM)
        for _ in range(3):
            add_incident(s, (2505, 0), when)
        add_incident(s, (805, 0), when)
    with session_scope(engine) as s:
        doc = coverage.blind_spots(s, actor=SYSTEM, limit=5)
    feats = doc["features"]
    assert len(feats) == 5
    assert feats[0]["properties"]["incidents_near"] == 3
    assert [f["properties"]["rank"] for f in feats] == [1, 2, 3, 4, 5]
    counts = [f["properties"]["incidents_near"] for f in feats]
    assert counts == sorted(counts, reverse=True)


def test_buildings_occlude_and_updates_stay_exact(engine: Engine, roads: TestCity) -> None:
    with session_scope(engine) as s:
        registry.upsert_cameras(s, list(enumerate(standard_cameras(s), 1)), actor=SYSTEM)
        # A building across R0 from x = 120 to 130: c1 (at 100, facing east) keeps 105 and 115.
        corners = [lonlat(s, x, y) for x, y in ((120, -5), (130, -5), (130, 5), (120, 5))]
        assert streets.load_footprints(s, [Polygon(corners)], source="test", actor=SYSTEM) == 1
    assert _covered(engine)["DW"] == pytest.approx(20.0 + 60.0, abs=1e-6)
    with session_scope(engine) as s:
        cam_id = s.scalar(select(Camera.id).where(Camera.owner_camera_id == "c1"))
        assert cam_id is not None
        # Move c1 past the building (to 140, still facing east): sees 145..185.
        lon, lat = lonlat(s, 140, 0)
        registry.update_camera(s, cam_id, CameraPatch(lon=lon, lat=lat), actor=SYSTEM)
    assert _covered(engine)["DW"] == pytest.approx(50.0 + 60.0, abs=1e-6)
    with session_scope(engine) as s:
        registry.update_camera(s, cam_id, CameraPatch(heading_deg=270.0), actor=SYSTEM)
    # Facing west from 140: 135 lies between the building (120-130) and the camera and is
    # seen; 125 (inside the footprint) and everything west of it are behind the wall.
    assert _covered(engine)["DW"] == pytest.approx(10.0 + 60.0, abs=1e-6)
    with session_scope(engine) as s:
        assert streets.recompute(s) == 0
