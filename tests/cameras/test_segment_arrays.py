"""Segment arrays: the binary COPY reader, the in-process cache and who invalidates it,
and the bulk cover-count writer, on the hand-computed layout of ``camkit``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from shapely import Polygon
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.orm import Session

from pingan.cameras import registry, streets
from pingan.cameras.models import Camera, StreetSegment
from pingan.cameras.schemas import CameraPatch
from pingan.dispatch.models import RoadEdge
from pingan.dispatch.roads import ROADS_VERSION_KEY
from pingan.kit import meta
from pingan.kit.db import session_scope
from tests.cameras.camkit import SYSTEM, add_owner, build_roads, lonlat, standard_cameras
from tests.citykit import TestCity


@pytest.fixture
def roads(engine: Engine, city: TestCity) -> TestCity:
    with session_scope(engine) as s:
        build_roads(s)
        add_owner(s)
        streets.build_segments(s, actor=SYSTEM)
    return city


def _arrays(engine: Engine) -> dict[str, NDArray[Any]]:
    with session_scope(engine) as s:
        return streets.segment_arrays(s)


def _uncached(engine: Engine) -> dict[str, NDArray[Any]]:
    with session_scope(engine) as s:
        return streets.read_segment_arrays(s)


def _same(a: dict[str, NDArray[Any]], b: dict[str, NDArray[Any]]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def _with_cameras(engine: Engine) -> None:
    with session_scope(engine) as s:
        registry.upsert_cameras(s, list(enumerate(standard_cameras(s), 1)), actor=SYSTEM)


def test_copy_reader_equals_fetchall_reader(engine: Engine, roads: TestCity, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("binary COPY is PostgreSQL's; SQLite reads through the driver")
    _with_cameras(engine)
    with session_scope(engine) as s:
        # A segment with no grid and a class that needs quoting in SQL.
        first = s.scalar(select(StreetSegment.id).order_by(StreetSegment.id).limit(1))
        s.execute(update(StreetSegment).where(StreetSegment.id == first).values(grid_id=None))
        s.execute(
            update(StreetSegment)
            .where(StreetSegment.id == first + 1)
            .values(road_class="o'clock lane")
        )
    with session_scope(engine) as s:
        by_copy = streets._read_copy(s)
        by_fetch = streets._read_fetchall(s)
    assert _same(by_copy, by_fetch)
    assert {k: v.dtype for k, v in by_copy.items()} == {k: v.dtype for k, v in by_fetch.items()}
    assert by_copy["grid"][0] == -1 and by_copy["road_class"][1] == "o'clock lane"
    assert int(by_copy["count"].sum()) > 0 and len(by_copy["id"]) == 240


def test_unchanged_segments_are_read_once_and_shared_read_only(
    engine: Engine, roads: TestCity
) -> None:
    first, second = _arrays(engine), _arrays(engine)
    assert first["x"] is second["x"]  # the cached arrays, not a second read
    assert _same(first, _uncached(engine))
    with pytest.raises(ValueError, match="read-only"):
        first["count"][0] = 7


def test_build_segments_invalidates(engine: Engine, roads: TestCity) -> None:
    before = _arrays(engine)
    with session_scope(engine) as s:
        streets.build_segments(s, actor=SYSTEM, piece_m=20.0)
    after = _arrays(engine)
    assert len(after["id"]) == 50 + 20 + 50 != len(before["id"])
    assert _same(after, _uncached(engine))


def test_registering_cameras_invalidates(engine: Engine, roads: TestCity) -> None:
    assert int(_arrays(engine)["count"].sum()) == 0
    _with_cameras(engine)  # the incremental path (streets.apply_changes)
    after = _arrays(engine)
    assert int((after["count"] > 0).sum()) == 5 + 6
    assert _same(after, _uncached(engine))


def test_moving_a_camera_invalidates(engine: Engine, roads: TestCity) -> None:
    _with_cameras(engine)
    before = _arrays(engine)
    with session_scope(engine) as s:
        cam_id = s.scalar(select(Camera.id).where(Camera.owner_camera_id == "c1"))
        assert cam_id is not None
        registry.update_camera(s, cam_id, CameraPatch(heading_deg=270.0), actor=SYSTEM)
    after = _arrays(engine)
    assert not np.array_equal(before["count"], after["count"])
    assert _same(after, _uncached(engine))


def test_recompute_invalidates(engine: Engine, roads: TestCity) -> None:
    _with_cameras(engine)
    before = _arrays(engine)
    with session_scope(engine) as s:
        # A change the incremental path did not see (a camera turned off by hand).
        s.execute(update(Camera).where(Camera.owner_camera_id == "c1").values(status="maintenance"))
        assert streets.recompute(s) == 5
    after = _arrays(engine)
    assert int((after["count"] > 0).sum()) == int((before["count"] > 0).sum()) - 5
    assert _same(after, _uncached(engine))


def test_loading_footprints_invalidates(engine: Engine, roads: TestCity) -> None:
    _with_cameras(engine)
    before = _arrays(engine)
    with session_scope(engine) as s:
        corners = [lonlat(s, x, y) for x, y in ((120, -5), (130, -5), (130, 5), (120, 5))]
        streets.load_footprints(s, [Polygon(corners)], source="test", actor=SYSTEM)
    after = _arrays(engine)
    assert int((after["count"] > 0).sum()) == int((before["count"] > 0).sum()) - 3
    assert _same(after, _uncached(engine))


def test_deleting_roads_invalidates(engine: Engine, roads: TestCity) -> None:
    assert len(_arrays(engine)["id"]) == 240
    with session_scope(engine) as s:
        # As a roads re-import does: edges go (their segments with them), the version moves.
        edge = s.scalar(select(RoadEdge.id).order_by(RoadEdge.id).limit(1))
        s.execute(delete(StreetSegment).where(StreetSegment.edge_id == edge))  # SQLite's cascade
        s.execute(delete(RoadEdge).where(RoadEdge.id == edge))
        meta.bump_version(s, ROADS_VERSION_KEY)
    assert len(_arrays(engine)["id"]) == 140


def test_a_rolled_back_write_leaves_no_stale_cache(engine: Engine, roads: TestCity) -> None:
    committed = _arrays(engine)
    s: Session
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        registry.upsert_cameras(s, list(enumerate(standard_cameras(s), 1)), actor=SYSTEM)
        # Read (and cached) inside the transaction, which then fails.
        assert int(streets.segment_arrays(s)["count"].sum()) > 0
        raise RuntimeError("the job failed after the write")
    after = _arrays(engine)
    assert _same(after, committed) and int(after["count"].sum()) == 0


def test_bulk_counts_equal_per_row_counts(engine: Engine, roads: TestCity) -> None:
    rng = np.random.default_rng(3)
    with session_scope(engine) as s:
        ids = np.sort(s.scalars(select(StreetSegment.id)).all())
    pick = np.sort(rng.choice(ids, size=150, replace=False))
    counts = rng.integers(0, 9, size=pick.size)
    written = {}
    for name, writer in (("bulk", streets.write_counts), ("per row", streets.write_counts_per_row)):
        with session_scope(engine) as s:
            s.execute(update(StreetSegment).values(cover_count=0))
            writer(s, pick, counts)
            rows = s.execute(text("SELECT id, cover_count FROM camera_street_segments")).all()
            written[name] = dict(rows)
    assert written["bulk"] == written["per row"]
    expected = dict.fromkeys(ids.tolist(), 0) | dict(
        zip(pick.tolist(), counts.tolist(), strict=True)
    )
    assert written["bulk"] == expected


def test_fresh_segments_are_written_with_their_counts(engine: Engine, roads: TestCity) -> None:
    _with_cameras(engine)
    with session_scope(engine) as s:
        streets.build_segments(s, actor=SYSTEM)
        rows = s.execute(select(StreetSegment.cover_count)).scalars().all()
        assert sum(1 for c in rows if c) == 5 + 6
        assert streets.recompute(s) == 0  # a recount from scratch agrees


def test_copy_reader_refuses_rows_that_do_not_fit(
    engine: Engine, roads: TestCity, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("binary COPY is PostgreSQL's")
    from pingan.kit.pgbinary import copy_columns

    with session_scope(engine) as s:
        dbapi = s.connection().connection.dbapi_connection
        ok = copy_columns(dbapi, "SELECT id::int8 FROM camera_street_segments", [("id", "int8")])
        assert len(ok["id"]) == 240 and ok["id"].dtype == np.dtype("int64")
        # A NULL (length -1, no value) or a column of another width is refused, not misread.
        with pytest.raises(ValueError, match="do not match"):
            copy_columns(dbapi, "SELECT NULL::int8 FROM camera_street_segments", [("v", "int8")])
        with pytest.raises(ValueError, match="do not match"):
            copy_columns(dbapi, "SELECT id::int4 FROM camera_street_segments", [("v", "int8")])
