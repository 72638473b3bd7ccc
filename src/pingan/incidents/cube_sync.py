"""Bringing the cube snapshot up to date with the database, exactly.

Each sync reads, in one REPEATABLE READ transaction, the rows above the
snapshot's ``max_id`` and the rows inside its open gaps, and appends them as a
new segment. Why gaps: ids come from a sequence, and a transaction can commit
a lower id after a higher one is already visible, so an id missing below
``max_id`` may still appear. A gap is dropped (declared permanent) only when
no transaction that could hold one of its ids can still be running: every
transaction of this database started after the gap was observed (read before
the snapshot, from ``pg_stat_activity``) and the gap is older than a safety
margin (backends of other roles hide their ``xact_start``). On SQLite ids are
allocated inside the one write transaction, so they commit in order and holes
are permanent at once.

The snapshot is rebuilt from scratch when the database was rewritten under it:
the ``incidents.epoch`` counter moved (triggers of migration 0021 on DELETE,
TRUNCATE and UPDATE of cube columns), its last row is gone or changed, a file
is broken, or the gap list outgrew its cap.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from pingan.incidents.cube_store import (
    COLUMNS,
    EPOCH_KEY,
    INCARNATION_KEY,
    Columns,
    Manifest,
    Segment,
    SnapshotDir,
    incarnation,
)
from pingan.incidents.pgcopy import PG_EPOCH_US
from pingan.kit.pgbinary import iter_copy_records, record_dtype
from pingan.settings import get_settings

log = logging.getLogger(__name__)

SEGMENT_ROWS = 4_000_000  # a full build writes segments of this size: memory stays bounded
CHUNK_ROWS = 1_000_000
GAP_CAP = 10_000
COMPACT_OVER = 16
SMALL_SEGMENT = 1_000_000

_SELECT = (
    "id, x, y, occurred_at, lon, lat, type_id, grid_id, community_id, subdistrict_id, "
    "district_id, city_id, severity"
)
_PG_ROW = record_dtype(
    [
        ("id", ">i8"), ("x", ">f8"), ("y", ">f8"), ("t_us", ">i8"), ("lon", ">f8"),
        ("lat", ">f8"), ("type_id", ">i4"), ("grid_id", ">i4"), ("community_id", ">i4"),
        ("subdistrict_id", ">i4"), ("district_id", ">i4"), ("city_id", ">i4"),
        ("severity", ">i2"),
    ]
)  # fmt: skip
_US = "(extract(epoch FROM {}) * 1000000)::int8"  # exact: extract gives numeric


@dataclass(frozen=True)
class Snapshot:
    manifest: Manifest
    segments: list[Columns]


class IncarnationChanged(Exception):
    """The database got a new token (a restore) while we were about to sync."""


def current(session: Session) -> Snapshot | None:
    """The synced snapshot for the session's database; None to read the database directly."""
    base = Path(get_settings().cube_dir)
    engine = session.get_bind().engine
    token = incarnation(session)
    for _ in range(3):
        store = SnapshotDir(base, engine, token)
        try:
            with store.locked():
                return _synced(engine, store)
        except IncarnationChanged as changed:
            token = str(changed) or incarnation(session)
        except OSError:
            log.warning("cube snapshot unusable; reading the database", exc_info=True)
            return None
    return None


def _synced(engine: Engine, store: SnapshotDir) -> Snapshot | None:
    manifest = store.read_manifest()
    for _ in range(2):
        manifest = sync(engine, store, manifest)
        # Opened under the lock: a compaction can unlink them only after we hold the maps.
        opened = store.open(manifest.segments)
        if opened is not None:
            return Snapshot(manifest, opened)
        log.warning("cube snapshot %s has a broken file; rebuilding", store.path)
        manifest = None
    return None


def sync(engine: Engine, store: SnapshotDir, manifest: Manifest | None) -> Manifest:
    """Append what the database has and ``manifest`` lacks; commit the new manifest."""
    margin_us = int(get_settings().cube_gap_margin_s * 1_000_000)
    if engine.dialect.name == "postgresql":
        synced = _sync_postgres(engine, store, manifest, margin_us)
    else:
        synced = _sync_sqlite(engine, store, manifest)
    synced = _compact(store, synced)
    if synced != manifest:
        store.commit(synced)
    return synced


# --- PostgreSQL -------------------------------------------------------------------------


def _sync_postgres(
    engine: Engine, store: SnapshotDir, manifest: Manifest | None, margin_us: int
) -> Manifest:
    with engine.connect() as conn:
        # Before the snapshot below: a transaction that ended by now has its rows in it.
        oldest_us, before_us = conn.execute(
            text(
                f"SELECT {_US.format('min(xact_start)')}, {_US.format('clock_timestamp()')} "
                "FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
        ).one()
        conn.commit()
        conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            # clock_timestamp() runs after this statement took the snapshot: any
            # transaction holding an id we see missing started before it.
            now_us, token, epoch = conn.execute(
                text(
                    f"SELECT {_US.format('clock_timestamp()')}, "
                    "(SELECT value FROM pingan_meta WHERE key = :tk), "
                    "(SELECT value FROM pingan_meta WHERE key = :ek)"
                ),
                {"tk": INCARNATION_KEY, "ek": EPOCH_KEY},
            ).one()
            if token != store.token:
                raise IncarnationChanged(token or "")
            epoch = epoch or "0"
            if manifest is not None and not _still_valid(conn, manifest, epoch, now_us, margin_us):
                manifest = None
            dbapi = conn.connection.dbapi_connection

            def rows(sql: str) -> Iterator[Columns]:
                for chunk in iter_copy_records(dbapi, sql, _PG_ROW, CHUNK_ROWS):
                    yield _pg_columns(chunk)

            if manifest is None:
                fresh = Manifest(incarnation=token, epoch=epoch, built_at_us=now_us)
                writer = _write(store, rows(f"COPY (SELECT {_SELECT} FROM incidents) {_BINARY}"))
                ids = writer.sorted_ids()
                holes = _holes(ids, after=0)
                cutoff = min(before_us if oldest_us is None else oldest_us, before_us) - margin_us
                holes = _drop_settled_holes(conn, holes, cutoff)
                return _extended(fresh, writer, [[lo, hi, now_us] for lo, hi in holes])

            def settled(gap: list[int]) -> bool:
                observed = gap[2]
                quiet = oldest_us is None or oldest_us > observed
                return bool(quiet and observed < before_us - margin_us)

            writer = _write(store, rows(_append_sql(manifest)))
            ids = writer.sorted_ids()
            found = ids[ids <= manifest.max_id]
            kept = [g for g in _subtract(manifest.gaps, found) if not settled(g)]
            fresh_ids = ids[ids > manifest.max_id]
            dated = [[lo, hi, now_us] for lo, hi in _holes(fresh_ids, after=manifest.max_id)]
            return _extended(manifest, writer, kept + dated)


_BINARY = "TO STDOUT (FORMAT binary)"


def _append_sql(manifest: Manifest) -> str:
    parts = [f"SELECT {_SELECT} FROM incidents WHERE id > {int(manifest.max_id)}"]
    if manifest.gaps:
        lows = ",".join(str(int(g[0])) for g in manifest.gaps)
        highs = ",".join(str(int(g[1])) for g in manifest.gaps)
        prefixed = ", ".join(f"i.{c.strip()}" for c in _SELECT.split(","))
        parts.append(
            f"SELECT {prefixed} FROM unnest('{{{lows}}}'::int8[], '{{{highs}}}'::int8[]) "
            "AS g(lo, hi) JOIN incidents i ON i.id BETWEEN g.lo AND g.hi"
        )
    return f"COPY ({' UNION ALL '.join(parts)}) {_BINARY}"


def _still_valid(
    conn: Connection, manifest: Manifest, epoch: str, now_us: int, margin_us: int
) -> bool:
    if manifest.epoch != epoch:
        return False
    if len(manifest.gaps) > GAP_CAP and manifest.built_at_us < now_us - margin_us:
        return False  # a rebuild settles old holes at once (see _drop_settled_holes)
    if manifest.last_t_us is None:
        return manifest.max_id == 0
    stored = conn.execute(
        text(f"SELECT {_US.format('occurred_at')} FROM incidents WHERE id = :id"),
        {"id": manifest.max_id},
    ).scalar()
    return stored is not None and int(stored) == manifest.last_t_us


def _drop_settled_holes(
    conn: Connection, holes: list[tuple[int, int]], cutoff_us: int
) -> list[tuple[int, int]]:
    """Holes found by a full build that no running transaction can still fill.

    A build has not seen the holes appear, so it dates them by the row just
    above: its id was allocated after the hole's, and ``created_at`` is set
    after allocation. If that row was created before every running
    transaction started (less the margin), the hole's transaction has ended.
    """
    if not holes:
        return holes
    above = [hi + 1 for _lo, hi in holes]
    found = conn.execute(
        text(f"SELECT id, {_US.format('created_at')} FROM incidents WHERE id = ANY(:ids)"),
        {"ids": above},
    )
    created = {int(row[0]): int(row[1]) for row in found}
    return [(lo, hi) for lo, hi in holes if created.get(hi + 1, cutoff_us) >= cutoff_us]


def _pg_columns(chunk: NDArray[Any]) -> Columns:
    columns = {name: chunk[name].astype(dtype) for name, dtype in COLUMNS.items()}
    columns["t_us"] += PG_EPOCH_US
    return columns


# --- SQLite -----------------------------------------------------------------------------


def _sync_sqlite(engine: Engine, store: SnapshotDir, manifest: Manifest | None) -> Manifest:
    with engine.connect() as conn:
        dbapi: Any = conn.connection.dbapi_connection
        cursor = dbapi.cursor()
        # One read transaction: every statement below sees the same committed state.
        cursor.execute("BEGIN")
        try:
            meta = dict(
                cursor.execute(
                    "SELECT key, value FROM pingan_meta WHERE key IN (?, ?)",
                    (INCARNATION_KEY, EPOCH_KEY),
                ).fetchall()
            )
            token = meta.get(INCARNATION_KEY)
            if token != store.token:
                raise IncarnationChanged(token or "")
            epoch = meta.get(EPOCH_KEY) or "0"
            if manifest is not None and not _sqlite_still_valid(cursor, manifest, epoch):
                manifest = None
            base = manifest or Manifest(incarnation=token, epoch=epoch)
            cursor.execute(f"SELECT {_SELECT} FROM incidents WHERE id > ?", (base.max_id,))
            writer = _write(store, _sqlite_chunks(cursor))
            # Ids commit in order here: a hole can never fill, so no gaps are kept.
            return _extended(base, writer, [])
        finally:
            dbapi.rollback()


def _sqlite_still_valid(cursor: Any, manifest: Manifest, epoch: str) -> bool:
    if manifest.epoch != epoch or manifest.gaps:
        return False
    if manifest.last_t_us is None:
        return manifest.max_id == 0
    row = cursor.execute("SELECT occurred_at FROM incidents WHERE id = ?", (manifest.max_id,))
    stored = row.fetchone()
    return stored is not None and int(_sqlite_us([stored[0]])[0]) == manifest.last_t_us


def _sqlite_chunks(cursor: Any) -> Iterator[Columns]:
    while rows := cursor.fetchmany(CHUNK_ROWS // 4):
        cells = list(zip(*rows, strict=True))
        columns: Columns = {}
        for name, values in zip(COLUMNS, cells, strict=True):
            if name == "t_us":
                columns[name] = _sqlite_us(values)
            else:
                columns[name] = np.array(values, dtype=COLUMNS[name])
        yield columns


def _sqlite_us(values: Any) -> NDArray[np.int64]:
    """SQLAlchemy's naive-UTC text ('YYYY-MM-DD HH:MM:SS.ffffff') to exact microseconds."""
    return np.array(values, dtype="datetime64[us]").astype(np.int64)


# --- shared -----------------------------------------------------------------------------


class _SegmentWriter:
    """Collects chunks into segments of at most about SEGMENT_ROWS rows."""

    def __init__(self, store: SnapshotDir) -> None:
        self.store = store
        self.segments: list[Segment] = []
        self._pending: list[Columns] = []
        self._pending_rows = 0
        self._ids: list[NDArray[np.int64]] = []
        self.top: tuple[int, int] | None = None  # (id, t_us) of the highest id written

    def add(self, columns: Columns) -> None:
        if not len(columns["id"]):
            return
        self._pending.append(columns)
        self._pending_rows += len(columns["id"])
        self._ids.append(columns["id"])
        at = int(np.argmax(columns["id"]))
        if self.top is None or columns["id"][at] > self.top[0]:
            self.top = (int(columns["id"][at]), int(columns["t_us"][at]))
        if self._pending_rows >= SEGMENT_ROWS:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            merged = {c: np.concatenate([p[c] for p in self._pending]) for c in COLUMNS}
            self.segments.append(self.store.write_segment(merged))
        self._pending, self._pending_rows = [], 0

    def sorted_ids(self) -> NDArray[np.int64]:
        ids = np.concatenate(self._ids) if self._ids else np.empty(0, np.int64)
        # Read in physical order, which is nearly id order: timsort is linear on it.
        return np.sort(ids, kind="stable")


def _write(store: SnapshotDir, chunks: Iterator[Columns]) -> _SegmentWriter:
    writer = _SegmentWriter(store)
    for columns in chunks:
        writer.add(columns)
    writer.flush()
    return writer


def _extended(base: Manifest, writer: _SegmentWriter, gaps: list[list[int]]) -> Manifest:
    max_id, last_t_us = base.max_id, base.last_t_us
    if writer.top is not None and writer.top[0] > max_id:
        max_id, last_t_us = writer.top
    return dataclasses.replace(
        base,
        max_id=max_id,
        last_t_us=last_t_us,
        gaps=_merged(gaps),
        segments=[*base.segments, *writer.segments],
    )


def _holes(ids: NDArray[np.int64], after: int) -> list[tuple[int, int]]:
    """Inclusive id ranges above ``after`` and below the last of ``ids`` (sorted) not in it."""
    if not len(ids):
        return []
    edges = np.concatenate([[after], ids])
    at = np.flatnonzero(np.diff(edges) > 1)
    return [(int(edges[k]) + 1, int(edges[k + 1]) - 1) for k in at]


def _subtract(gaps: list[list[int]], found: NDArray[np.int64]) -> list[list[int]]:
    """The parts of ``gaps`` that ``found`` (sorted ids) did not fill; each keeps its date."""
    left: list[list[int]] = []
    for lo, hi, observed in gaps:
        inside = found[np.searchsorted(found, lo) : np.searchsorted(found, hi, side="right")]
        if not len(inside):
            left.append([lo, hi, observed])
            continue
        bounded = np.concatenate([inside, [hi + 1]])
        left += [[a, b, observed] for a, b in _holes(bounded, after=lo - 1)]
    return left


def _merged(gaps: list[list[int]]) -> list[list[int]]:
    """Adjacent ranges as one; the later date, so a merged gap never settles early."""
    out: list[list[int]] = []
    for lo, hi, observed in sorted(gaps):
        if out and out[-1][1] + 1 >= lo:
            out[-1][1] = max(out[-1][1], hi)
            out[-1][2] = max(out[-1][2], observed)
        else:
            out.append([lo, hi, observed])
    return out


def _compact(store: SnapshotDir, manifest: Manifest) -> Manifest:
    """Merge the small segments into one when there are too many segments."""
    if len(manifest.segments) <= COMPACT_OVER:
        return manifest
    small = [s for s in manifest.segments if s.rows < SMALL_SEGMENT]
    if len(small) < 2:
        return manifest
    opened = store.open(small)
    if opened is None:
        return manifest  # the open after sync finds the broken file and rebuilds
    merged = store.write_segment({c: np.concatenate([seg[c] for seg in opened]) for c in COLUMNS})
    big = [s for s in manifest.segments if s.rows >= SMALL_SEGMENT]
    return dataclasses.replace(manifest, segments=[*big, merged])
