"""Cameras and street coverage as OGC collections, on the tiny synthetic city with demo cameras."""

from __future__ import annotations

from shapely.geometry import box, shape
from sqlalchemy import Engine, func, select

from pingan.cameras.demo import seed_demo_cameras
from pingan.cameras.models import Camera, StreetSegment
from pingan.kit.db import session_scope
from pingan.ogc import layers
from pingan.ogc.params import Query
from pingan.org.principal import Principal

SYSTEM = Principal.system("test")


def test_cameras_and_coverage_layers_page_and_filter(engine: Engine) -> None:
    from pingan.sim.city import build_city, recent_start

    build_city(engine, scale="tiny", seed=3, start=recent_start(30), days=30)
    assert seed_demo_cameras(engine, seed=3) > 0
    with session_scope(engine) as session:
        n_cameras = session.scalar(select(func.count(Camera.id)))
        n_segments = session.scalar(select(func.count(StreetSegment.id)))
        uncovered = session.scalar(
            select(func.count(StreetSegment.id)).where(StreetSegment.cover_count == 0)
        )
        cams = layers.LAYERS["cameras"]
        first = cams.read(session, SYSTEM, Query(limit=5, offset=0, extra={}))
        assert first.matched == n_cameras and len(first.features) == min(5, n_cameras or 0)
        everything = cams.read(session, SYSTEM, Query(limit=None, extra={})).features
        assert len({f["id"] for f in everything}) == n_cameras
        # A bbox around the first camera keeps it and drops cameras outside.
        lon, lat = everything[0]["geometry"]["coordinates"]
        window = (lon - 0.002, lat - 0.002, lon + 0.002, lat + 0.002)
        near = cams.read(session, SYSTEM, Query(limit=None, bbox=window, extra={})).features
        assert everything[0]["id"] in {f["id"] for f in near}
        assert all(shape(f["geometry"]).intersects(box(*window)) for f in near)
        assert len(near) < len(everything)

        cover = layers.LAYERS["coverage"]
        assert cover.read(session, SYSTEM, Query(limit=1, extra={})).matched == n_segments
        blind = cover.read(session, SYSTEM, Query(limit=None, extra={"uncovered": "true"}))
        assert blind.matched == uncovered
        assert all(f["properties"]["cover_count"] == 0 for f in blind.features)
