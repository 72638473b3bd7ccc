"""The event cube's snapshot on disk gives exactly the rows of the direct query, on both backends.

Every comparison runs the same filter twice on the same committed data: once
through the snapshot (the direct query is made to fail, so the snapshot must
answer) and once with the snapshot disabled, and compares the arrays sorted by
a key.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from shapely import box
from sqlalchemy import Connection, Engine, text

from pingan.incidents import cube as cube_module
from pingan.incidents import cube_store, cube_sync, service
from pingan.incidents.cube import CubeFilter, EventCube, load_cube
from pingan.kit.db import engine_for, session_scope
from pingan.org.principal import Principal
from pingan.org.users import create_user, grant_role, principal_for
from pingan.settings import get_settings
from tests.citykit import TestCity, grid_centre, unit

SYSTEM = Principal.system("test")
UTC = dt.UTC
FIELDS = ("x", "y", "t", "type_id", "grid_id", "severity")
TYPES = ["theft.bicycle", "theft.pickpocket", "fire", "dispute.neighbour"]


def _rows(n: int, seed: int, prefix: str) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    rows: list[dict[str, object]] = []
    for i in range(n):
        lon, lat = grid_centre(["W1", "W2", "E1", "E2"][i % 4])
        # Microseconds on purpose: windows must cut exactly where SQL does.
        when = start + dt.timedelta(seconds=int(rng.integers(0, 100 * 86400)),
                                    microseconds=int(rng.integers(0, 1_000_000)))  # fmt: skip
        rows.append(
            {
                "type": TYPES[int(rng.integers(0, 4))],
                "occurred_at": when.isoformat(),
                "lon": lon + rng.uniform(-0.004, 0.004),
                "lat": lat + rng.uniform(-0.008, 0.008),
                "severity": int(rng.integers(1, 6)),
                "external_id": f"{prefix}{i}",
            }
        )
    return rows


def _intake(engine: Engine, n: int, seed: int, prefix: str) -> None:
    with session_scope(engine) as s:
        result = service.intake_batch(s, rows=_rows(n, seed, prefix), actor=SYSTEM)
        assert len(result.accepted) == n


def _set(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    get_settings.cache_clear()


def _from_snapshot(
    engine: Engine, flt: CubeFilter, actor: Principal, monkeypatch: pytest.MonkeyPatch
) -> EventCube:
    """A cold pull that only the snapshot may answer."""

    def refuse(*args: Any, **kwargs: Any) -> EventCube:
        raise AssertionError("the direct query ran; the snapshot should have answered")

    cube_module._cache.clear()
    with monkeypatch.context() as m:
        m.setattr(cube_module, "_query", refuse)
        with session_scope(engine) as s:
            return load_cube(s, flt, actor=actor)


def _direct(
    engine: Engine, flt: CubeFilter, actor: Principal, monkeypatch: pytest.MonkeyPatch
) -> EventCube:
    cube_module._cache.clear()
    cube_dir = get_settings().cube_dir
    _set(monkeypatch, "PINGAN_CUBE_DIR", "")
    try:
        with session_scope(engine) as s:
            return load_cube(s, flt, actor=actor)
    finally:
        _set(monkeypatch, "PINGAN_CUBE_DIR", cube_dir)


def _sorted(c: EventCube) -> list[np.ndarray]:
    order = np.lexsort((c.severity, c.type_id, c.grid_id, c.y, c.x))
    return [getattr(c, f)[order] for f in FIELDS]


def _assert_same(snap: EventCube, direct: EventCube, engine: Engine) -> None:
    assert len(snap) == len(direct)
    for name, a, b in zip(FIELDS, _sorted(snap), _sorted(direct), strict=True):
        assert a.dtype == b.dtype, name
        if name == "t" and engine.dialect.name == "sqlite":
            # The direct SQLite path goes through julianday (whole milliseconds).
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-3)
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)


def _compare(
    engine: Engine, flt: CubeFilter, actor: Principal, monkeypatch: pytest.MonkeyPatch
) -> int:
    snap = _from_snapshot(engine, flt, actor, monkeypatch)
    _assert_same(snap, _direct(engine, flt, actor, monkeypatch), engine)
    return len(snap)


def _store(engine: Engine) -> cube_store.SnapshotDir:
    with session_scope(engine) as s:
        token = cube_store.incarnation(s)
    return cube_store.SnapshotDir(Path(get_settings().cube_dir), engine, token)


def _manifest(engine: Engine) -> cube_store.Manifest:
    manifest = _store(engine).read_manifest()
    assert manifest is not None
    return manifest


def _snapshot_ids(engine: Engine) -> np.ndarray:
    store = _store(engine)
    manifest = _manifest(engine)
    opened = store.open(manifest.segments)
    assert opened is not None
    return np.concatenate([seg["id"] for seg in opened] or [np.empty(0, np.int64)])


def _db_ids(engine: Engine) -> np.ndarray:
    with engine.connect() as conn:
        return np.array(conn.execute(text("SELECT id FROM incidents ORDER BY id")).scalars().all())


def _clone(conn: Connection, n: int, prefix: str) -> list[int]:
    """Copy n stored incidents under new keys; ids come from the table's own default."""
    columns = (
        "type_id, occurred_at, reported_at, geom, lon, lat, x, y, severity, source, status, "
        "grid_id, community_id, subdistrict_id, district_id, city_id, created_at, updated_at"
    )
    ids = []
    for k in range(n):
        ids.append(
            conn.execute(
                text(
                    f"INSERT INTO incidents ({columns}, external_id) SELECT {columns}, :ext "
                    "FROM incidents ORDER BY id LIMIT 1 RETURNING id"
                ),
                {"ext": f"{prefix}{k}"},
            ).scalar_one()
        )
    return ids


@pytest.fixture
def filled(engine: Engine, city: TestCity) -> TestCity:
    _intake(engine, 500, seed=1, prefix="a")
    return city


def test_snapshot_equals_the_direct_query_for_many_filters(
    engine: Engine, filled: TestCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    city = filled
    jan = dt.datetime(2026, 1, 20, 13, 7, 1, 123456, tzinfo=UTC)
    lon, lat = grid_centre("E1")
    filters = [
        CubeFilter(),
        CubeFilter(since=jan),
        CubeFilter(until=jan),
        CubeFilter(since=jan, until=jan + dt.timedelta(days=17, microseconds=3)),
        CubeFilter(types=("theft",)),
        CubeFilter(types=("theft.bicycle", "fire")),
        CubeFilter(org_unit_id=city.id("DW"), org_level="district"),
        CubeFilter(org_unit_id=city.id("E2"), org_level="grid"),
        CubeFilter(area=box(lon - 0.003, lat - 0.006, lon + 0.003, lat + 0.006), area_key="e1"),
        CubeFilter(since=dt.datetime(2030, 1, 1, tzinfo=UTC)),  # nothing in it
        CubeFilter(types=("dispute",), org_unit_id=city.id("DE"), org_level="district"),
    ]
    counts = [_compare(engine, flt, SYSTEM, monkeypatch) for flt in filters]
    assert counts[0] == 500 and counts[-2] == 0
    assert all(0 < c < 500 for c in counts[1:9])
    with session_scope(engine) as s:
        user = create_user(s, username="east", password="password-1", actor=SYSTEM)
        grant_role(s, user=user, role_name="analyst", unit=unit(s, "E2"), actor=SYSTEM)
        grant_role(s, user=user, role_name="analyst", unit=unit(s, "DW"), actor=SYSTEM)
    with session_scope(engine) as s:
        east = principal_for(s, user, via="session")
    scoped = _compare(engine, CubeFilter(), east, monkeypatch)
    assert 0 < scoped < 500
    assert _compare(engine, CubeFilter(types=("theft",), since=jan), east, monkeypatch) > 0


def test_times_are_exact_microseconds(
    engine: Engine, filled: TestCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    cube = _from_snapshot(engine, CubeFilter(), SYSTEM, monkeypatch)
    with session_scope(engine) as s:
        stored = [
            dt.datetime.fromisoformat(str(r["occurred_at"])) for r in _rows(500, seed=1, prefix="")
        ]
        assert s.execute(text("SELECT count(*) FROM incidents")).scalar_one() == 500
    want = np.sort([(w - dt.datetime(1970, 1, 1, tzinfo=UTC)) / dt.timedelta(seconds=1)
                    for w in stored])  # fmt: skip
    np.testing.assert_allclose(np.sort(cube.t), want, rtol=0, atol=1e-7)
    # A window bound one microsecond after a stored time keeps it; on it, drops it.
    first = min(stored)
    at = CubeFilter(since=first)
    after = CubeFilter(since=first + dt.timedelta(microseconds=1))
    assert _compare(engine, at, SYSTEM, monkeypatch) == 500
    assert _compare(engine, after, SYSTEM, monkeypatch) == 499


def test_incremental_sync_appends_a_segment(
    engine: Engine, filled: TestCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _compare(engine, CubeFilter(), SYSTEM, monkeypatch) == 500
    first = _manifest(engine)
    _intake(engine, 40, seed=2, prefix="b")
    assert _compare(engine, CubeFilter(types=("fire",)), SYSTEM, monkeypatch) > 0
    assert _compare(engine, CubeFilter(), SYSTEM, monkeypatch) == 540
    second = _manifest(engine)
    assert second.segments[: len(first.segments)] == first.segments  # kept, not rebuilt
    assert len(second.segments) == len(first.segments) + 1
    assert second.max_id == int(_db_ids(engine).max())
    ids = _snapshot_ids(engine)
    assert len(ids) == len(np.unique(ids)) == 540


def test_the_cache_serves_repeats_and_intake_refreshes_it(engine: Engine, filled: TestCity) -> None:
    cube_module._cache.clear()
    with session_scope(engine) as s:
        first = load_cube(s, CubeFilter(), actor=SYSTEM)
    with session_scope(engine) as s:
        assert load_cube(s, CubeFilter(), actor=SYSTEM) is first
    _intake(engine, 3, seed=9, prefix="c")
    with session_scope(engine) as s:
        assert len(load_cube(s, CubeFilter(), actor=SYSTEM)) == 503


def test_a_session_sees_its_own_uncommitted_rows(engine: Engine, filled: TestCity) -> None:
    cube_module._cache.clear()
    with session_scope(engine) as s:
        assert len(load_cube(s, CubeFilter(), actor=SYSTEM)) == 500
    with session_scope(engine) as s:
        service.intake_batch(s, rows=_rows(7, seed=4, prefix="own"), actor=SYSTEM)
        assert len(load_cube(s, CubeFilter(), actor=SYSTEM)) == 507
        s.rollback()
    with session_scope(engine) as s:
        cube_module._cache.clear()
        assert len(load_cube(s, CubeFilter(), actor=SYSTEM)) == 500


def test_a_lower_id_committed_after_a_higher_one_is_picked_up(
    engine: Engine, filled: TestCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite allocates ids inside its one write transaction: they commit in order")
    assert _compare(engine, CubeFilter(), SYSTEM, monkeypatch) == 500
    with engine.connect() as slow:
        slow.begin()
        low = _clone(slow, 3, "slow")  # ids taken, not committed
        with engine.begin() as quick:
            high = _clone(quick, 2, "quick")
        assert min(high) > max(low)
        assert _compare(engine, CubeFilter(), SYSTEM, monkeypatch) == 502
        gaps = _manifest(engine).gaps
        assert [g[:2] for g in gaps] == [[min(low), max(low)]]
        slow.commit()
    # The margin is no reason to give up: the rows are back before it.
    assert _compare(engine, CubeFilter(), SYSTEM, monkeypatch) == 505
    assert _manifest(engine).gaps == []
    ids = _snapshot_ids(engine)
    assert sorted(ids.tolist()) == _db_ids(engine).tolist()


def test_rolled_back_ids_become_permanent_only_when_the_rule_allows(
    engine: Engine, filled: TestCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no gaps: a rolled-back id is simply allocated again")
    _compare(engine, CubeFilter(), SYSTEM, monkeypatch)
    with engine.connect() as doomed:
        doomed.begin()
        lost = _clone(doomed, 4, "lost")
        doomed.rollback()
    with engine.begin() as conn:
        _clone(conn, 1, "after")
    assert _compare(engine, CubeFilter(), SYSTEM, monkeypatch) == 501
    assert [g[:2] for g in _manifest(engine).gaps] == [[min(lost), max(lost)]]
    # Within the margin the gap stays open, however quiet the database.
    assert _compare(engine, CubeFilter(), SYSTEM, monkeypatch) == 501
    assert len(_manifest(engine).gaps) == 1
    # Past the margin, with no transaction older than the gap running, it is given up.
    _set(monkeypatch, "PINGAN_CUBE_GAP_MARGIN_S", "0")
    assert _compare(engine, CubeFilter(), SYSTEM, monkeypatch) == 501
    assert _manifest(engine).gaps == []


def test_an_old_open_transaction_keeps_a_gap_open(
    engine: Engine, filled: TestCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no gaps")
    _set(monkeypatch, "PINGAN_CUBE_GAP_MARGIN_S", "0")
    _compare(engine, CubeFilter(), SYSTEM, monkeypatch)
    with engine.connect() as old:
        old.execute(text("SELECT 1"))  # a transaction open from before the gap appears
        with engine.connect() as doomed:
            doomed.begin()
            _clone(doomed, 2, "lost")
            doomed.rollback()
        with engine.begin() as conn:
            _clone(conn, 1, "after")
        for _ in range(2):
            assert _compare(engine, CubeFilter(), SYSTEM, monkeypatch) == 501
            assert len(_manifest(engine).gaps) == 1
        old.rollback()
    _compare(engine, CubeFilter(), SYSTEM, monkeypatch)
    assert _manifest(engine).gaps == []


def test_a_full_build_settles_only_holes_older_than_every_transaction(
    engine: Engine, filled: TestCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no gaps")
    with engine.connect() as doomed:
        doomed.begin()
        lost = _clone(doomed, 3, "lost")
        doomed.rollback()
    with engine.begin() as conn:
        _clone(conn, 1, "after")
    # A build cannot know when these holes appeared: the row above them was just made.
    assert _compare(engine, CubeFilter(), SYSTEM, monkeypatch) == 501
    assert [g[:2] for g in _manifest(engine).gaps] == [[min(lost), max(lost)]]
    # The same holes under a row created long ago are settled by the build at once.
    with engine.begin() as conn:
        conn.execute(text("UPDATE incidents SET created_at = '2020-01-01T00:00:00Z'"))
    (_store(engine).path / cube_store.MANIFEST).unlink()
    assert _compare(engine, CubeFilter(), SYSTEM, monkeypatch) == 501
    assert _manifest(engine).gaps == []


@pytest.mark.parametrize(
    "rewrite",
    [
        "DELETE FROM incidents WHERE id IN (SELECT id FROM incidents ORDER BY id LIMIT 3)",
        "UPDATE incidents SET severity = 5 WHERE id IN (SELECT id FROM incidents LIMIT 50)",
        "UPDATE incidents SET lon = lon + 0.001 WHERE id = (SELECT max(id) FROM incidents)",
        "TRUNCATE incidents CASCADE",
    ],
)
def test_deletes_updates_and_truncate_force_a_rebuild(
    engine: Engine, filled: TestCity, monkeypatch: pytest.MonkeyPatch, rewrite: str
) -> None:
    if rewrite.startswith("TRUNCATE") and engine.dialect.name != "postgresql":
        rewrite = "DELETE FROM incidents"
    _compare(engine, CubeFilter(), SYSTEM, monkeypatch)
    before = _manifest(engine)
    with engine.begin() as conn:
        conn.execute(text(rewrite))
    left = _compare(engine, CubeFilter(), SYSTEM, monkeypatch)
    _compare(engine, CubeFilter(area=box(116.0, 39.0, 117.0, 41.0)), SYSTEM, monkeypatch)
    after = _manifest(engine)
    assert after.epoch != before.epoch
    assert not set(s.name for s in after.segments) & set(s.name for s in before.segments)
    assert left == len(_db_ids(engine))


def test_status_changes_and_intake_leave_the_epoch_alone(
    engine: Engine, filled: TestCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    _compare(engine, CubeFilter(), SYSTEM, monkeypatch)
    before = _manifest(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE incidents SET status = 'closed', summary = 'done'"))
    _intake(engine, 5, seed=6, prefix="d")
    _compare(engine, CubeFilter(), SYSTEM, monkeypatch)
    after = _manifest(engine)
    assert after.epoch == before.epoch
    assert after.segments[: len(before.segments)] == before.segments


def test_a_row_rewritten_behind_the_triggers_is_noticed(
    engine: Engine, filled: TestCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even with the epoch triggers gone, a changed last row forces a rebuild."""
    _compare(engine, CubeFilter(), SYSTEM, monkeypatch)
    postgres = engine.dialect.name == "postgresql"
    earlier = "occurred_at - interval '1 day'" if postgres else "'2025-01-01 00:00:00.000000'"
    with engine.begin() as conn:
        if postgres:
            conn.execute(text("ALTER TABLE incidents DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER incidents_epoch_update"))
        conn.execute(
            text(
                f"UPDATE incidents SET occurred_at = {earlier} "
                "WHERE id = (SELECT max(id) FROM incidents)"
            )
        )
    snap = _from_snapshot(engine, CubeFilter(), SYSTEM, monkeypatch)
    assert len(snap) == 500
    _assert_same(snap, _direct(engine, CubeFilter(), SYSTEM, monkeypatch), engine)


def test_restore_starts_a_new_incarnation(
    engine: Engine, filled: TestCity, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pingan.ops import backup

    _compare(engine, CubeFilter(), SYSTEM, monkeypatch)
    old_dir = _store(engine).path
    file = tmp_path / "before.backup"
    url = get_settings().database_url
    backup.backup(url, file)
    _intake(engine, 30, seed=7, prefix="e")
    assert _compare(engine, CubeFilter(), SYSTEM, monkeypatch) == 530
    backup.restore(url, file)
    engine = engine_for(url)
    assert _store(engine).path != old_dir
    assert _compare(engine, CubeFilter(), SYSTEM, monkeypatch) == 500


def _sync_in_child(url: str, cube_dir: str, rounds: int) -> int:
    os.environ["PINGAN_DATABASE_URL"] = url
    os.environ["PINGAN_CUBE_DIR"] = cube_dir
    get_settings.cache_clear()
    total = 0
    for _ in range(rounds):
        cube_module._cache.clear()
        with session_scope(engine_for(url)) as s:
            total = len(load_cube(s, CubeFilter(), actor=SYSTEM))
    return total


def test_two_processes_syncing_at_once_agree(
    engine: Engine, filled: TestCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cube_dir = get_settings().database_url, get_settings().cube_dir
    engine.dispose()  # no pooled connections across the fork
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        pending = [pool.apply_async(_sync_in_child, (url, cube_dir, 3)) for _ in range(2)]
        _intake(engine, 60, seed=8, prefix="f")  # while they sync
        counts = [p.get(timeout=120) for p in pending]
    assert all(c in (500, 560) for c in counts)
    assert _compare(engine, CubeFilter(), SYSTEM, monkeypatch) == 560
    ids = _snapshot_ids(engine)
    assert len(ids) == len(np.unique(ids))
    assert np.array_equal(np.sort(ids), _db_ids(engine))


def test_compaction_keeps_every_row(
    engine: Engine, filled: TestCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cube_sync, "COMPACT_OVER", 3)
    _compare(engine, CubeFilter(), SYSTEM, monkeypatch)
    for k in range(5):
        _intake(engine, 10, seed=20 + k, prefix=f"g{k}-")
        _compare(engine, CubeFilter(), SYSTEM, monkeypatch)
        assert len(_manifest(engine).segments) <= 3
    assert _compare(engine, CubeFilter(types=("theft",)), SYSTEM, monkeypatch) > 0
    ids = _snapshot_ids(engine)
    assert np.array_equal(np.sort(ids), _db_ids(engine)) and len(ids) == 550
    # Files of merged segments are gone: only the manifest's remain.
    names = {p.name for p in _store(engine).path.iterdir()}
    assert len(names) == 2 + len(_manifest(engine).segments) * len(cube_store.COLUMNS)


def _break_file(path: Path, how: str) -> None:
    if how == "missing":
        path.unlink()
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    else:
        path.write_bytes(b"not numpy at all")


@pytest.mark.parametrize("how", ["missing", "truncated", "garbage"])
def test_a_broken_segment_file_leads_to_a_rebuild(
    engine: Engine, filled: TestCity, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    _compare(engine, CubeFilter(), SYSTEM, monkeypatch)
    _intake(engine, 10, seed=30, prefix="h")
    _compare(engine, CubeFilter(), SYSTEM, monkeypatch)
    store, manifest = _store(engine), _manifest(engine)
    _break_file(store.path / f"{manifest.segments[0].name}.x.npy", how)
    assert _compare(engine, CubeFilter(), SYSTEM, monkeypatch) == 510
    ids = _snapshot_ids(engine)
    assert np.array_equal(np.sort(ids), _db_ids(engine))


@pytest.mark.parametrize("body", ["", "{not json", json.dumps({"format": 99})])
def test_a_broken_manifest_leads_to_a_rebuild(
    engine: Engine, filled: TestCity, monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    _compare(engine, CubeFilter(), SYSTEM, monkeypatch)
    (_store(engine).path / cube_store.MANIFEST).write_text(body)
    assert _compare(engine, CubeFilter(), SYSTEM, monkeypatch) == 500


def test_an_empty_setting_disables_the_snapshot(
    engine: Engine, filled: TestCity, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cube_dir = Path(get_settings().cube_dir)
    _set(monkeypatch, "PINGAN_CUBE_DIR", "")
    cube_module._cache.clear()
    with session_scope(engine) as s:
        assert len(load_cube(s, CubeFilter(), actor=SYSTEM)) == 500
    assert not cube_dir.exists()


def test_old_incarnations_are_removed(engine: Engine, filled: TestCity, tmp_path: Path) -> None:
    base = Path(get_settings().cube_dir)
    paths = []
    for k in range(cube_store.KEEP_INCARNATIONS + 2):
        store = cube_store.SnapshotDir(base, engine, f"token{k}")
        with store.locked():
            store.commit(cube_store.Manifest(incarnation=f"token{k}", epoch="0"))
        paths.append(store.path)
        os.utime(store.path / cube_store.MANIFEST, (1000 + k, 1000 + k))
    left = {p for p in base.iterdir() if p.is_dir()}
    assert len(left) == cube_store.KEEP_INCARNATIONS
    assert paths[-1] in left and paths[0] not in left


@pytest.fixture(autouse=True)
def _no_leftover_cache() -> Iterator[None]:
    yield
    cube_module._cache.clear()
