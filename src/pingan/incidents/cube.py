"""The event cube: the arrays an analysis needs, pulled straight into numpy.

An analysis asks for a filter (time window, incident types, org unit, key
area); it gets parallel arrays of projected x/y (metres), time (epoch
seconds), type id, grid id and severity. PostgreSQL streams them with binary
COPY, parsed by numpy without a Python object per row; SQLite is read through
the driver. Results are cached per filter and dropped when intake bumps the
incidents version.

On PostgreSQL a large pull is split by id range over ``readers`` connections
(threads: the driver releases the GIL while it waits), all reading one
exported snapshot, so the arrays hold exactly the rows one stream would.
Time travels as the raw ``timestamptz`` (int8 microseconds since 2000-01-01):
the server's ``extract(epoch ...)`` goes through ``numeric`` and was a large
share of the server's time.

With ``PINGAN_CUBE_DIR`` set (the default), a cold pull does not re-read the
table: it syncs the columnar snapshot on local disk (``cube_store``,
``cube_sync``) and filters it in numpy (``cube_masks``). A session that has
written incidents in its open transaction reads the database directly, so it
still sees its own rows.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, and_, func, select, text, true
from sqlalchemy.orm import Session

from pingan.incidents import cube_masks, cube_store, cube_sync
from pingan.incidents.models import Incident
from pingan.incidents.pgcopy import PG_EPOCH_US
from pingan.incidents.service import _LEVEL_COLUMN, _type_and_descendants, scope_clause
from pingan.incidents.store import INCIDENTS_VERSION_KEY
from pingan.kit import meta
from pingan.kit.errors import ValidationFailed
from pingan.kit.pgbinary import copy_records, copy_sql, record_dtype
from pingan.org.permissions import Perm
from pingan.org.principal import Principal

# Our six columns (eight with lon/lat) are fixed-width and NOT NULL, so one
# binary COPY row is one numpy record (see kit/pgbinary).
_CUBE_FIELDS = [
    ("x", ">f8"), ("y", ">f8"),
    ("t", ">i8"),  # timestamptz: microseconds since 2000-01-01
    ("type_id", ">i4"), ("grid_id", ">i4"), ("severity", ">i2"),
]  # fmt: skip
_ROW_DTYPE = record_dtype(_CUBE_FIELDS)
_ROW_DTYPE_LONLAT = record_dtype([*_CUBE_FIELDS, ("lon", ">f8"), ("lat", ">f8")])

MAX_CACHED_CUBES = 16
_UNIX_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# Parallel reads pay a connection and a snapshot per reader: only for big pulls, and
# only where PostgreSQL has cores of its own. With the server on the same 2 cores,
# 10 M rows took 6.4 s in one stream and 9.2 s over two readers (quiet machine).
DEFAULT_READERS = 1
PARALLEL_MIN_ROWS = 500_000


@dataclass(frozen=True)
class CubeFilter:
    """What to pull. Times are aware datetimes; ``types`` include their subtypes."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    types: tuple[str, ...] = ()
    org_unit_id: int | None = None
    org_level: str | None = None
    area: BaseGeometry | None = field(default=None, compare=False, hash=False)
    area_key: str | None = None  # a stable name for ``area`` so cubes cache by it

    def cache_key(self) -> tuple[Any, ...]:
        area = self.area_key or (None if self.area is None else shapely.to_wkb(self.area).hex())
        return (self.since, self.until, self.types, self.org_unit_id, self.org_level, area)


@dataclass(frozen=True)
class EventCube:
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    t: NDArray[np.float64]  # epoch seconds, UTC
    type_id: NDArray[np.int32]
    grid_id: NDArray[np.int32]
    severity: NDArray[np.int16]

    def __len__(self) -> int:
        return len(self.x)


_cache_lock = threading.Lock()
_cache: OrderedDict[tuple[Any, ...], tuple[tuple[int, str], EventCube]] = OrderedDict()


def load_cube(
    session: Session, flt: CubeFilter, *, actor: Principal, readers: int = DEFAULT_READERS
) -> EventCube:
    """Arrays for the incidents matching ``flt`` that ``actor`` may read.

    ``readers`` caps the PostgreSQL connections used for one large pull.
    """
    actor.require(Perm.INCIDENTS_READ)
    if flt.since is not None and flt.until is not None and flt.since >= flt.until:
        raise ValidationFailed(
            "the time window is empty: since must be before until", field="since"
        )
    if _wrote_incidents(session):
        # Rows only this transaction sees: read them here, and keep them out of the
        # cache (intake may bump the version only at commit).
        return _query(session, flt, actor, readers)
    # The epoch moves when rows are deleted or rewritten (triggers of migration 0021).
    version = (
        meta.get_version(session, INCIDENTS_VERSION_KEY),
        meta.get_value(session, cube_store.EPOCH_KEY) or "0",
    )
    scope = tuple(sorted((g.unit_id, g.level) for g in actor.grants_with(Perm.INCIDENTS_READ)))
    key = (str(session.get_bind().engine.url), scope, actor.is_system, *flt.cache_key())
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == version:
            _cache.move_to_end(key)
            return hit[1]
    cube = _from_snapshot(session, flt, actor, epoch=version[1])
    if cube is None:
        cube = _query(session, flt, actor, readers)
    with _cache_lock:
        _cache[key] = (version, cube)
        while len(_cache) > MAX_CACHED_CUBES:
            _cache.popitem(last=False)
    return cube


def _from_snapshot(
    session: Session, flt: CubeFilter, actor: Principal, *, epoch: str
) -> EventCube | None:
    """The cube from the synced snapshot; None where the database must answer itself."""
    if not cube_store.enabled():
        return None
    selection = _selection(session, flt, actor)  # validates the filter first
    snapshot = cube_sync.current(session)
    # A different epoch: the session sees rows rewritten since (or by itself, uncommitted).
    if snapshot is None or snapshot.manifest.epoch != epoch:
        return None
    return EventCube(**cube_masks.select(snapshot.segments, selection))


def _wrote_incidents(session: Session) -> bool:
    """Has the session's open transaction written incidents that others cannot see yet?"""
    if session.get_bind().dialect.name == "postgresql":
        return bool(
            session.execute(
                text(
                    "SELECT pg_current_xact_id_if_assigned() IS NOT NULL AND COALESCE(("
                    "SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables "
                    "WHERE relid = 'incidents'::regclass), 0) > 0"
                )
            ).scalar_one()
        )
    # SQLite's driver opens a transaction only to write: any write counts.
    dbapi: Any = session.connection().connection.dbapi_connection
    return bool(dbapi.in_transaction)


def _selection(session: Session, flt: CubeFilter, actor: Principal) -> cube_masks.Selection:
    """``_where`` as numpy masks: the same conditions on the same stored values."""
    scope: dict[str, list[int]] | None = None
    if not actor.is_system:
        scope = {}
        for grant in actor.grants_with(Perm.INCIDENTS_READ):
            scope.setdefault(_LEVEL_COLUMN[grant.level].key, []).append(grant.unit_id)
    type_ids = None
    if flt.types:
        type_ids = tuple(sorted({i for c in flt.types for i in _type_and_descendants(session, c)}))
    unit = None
    if flt.org_unit_id is not None:
        if flt.org_level not in _LEVEL_COLUMN:
            raise ValidationFailed("org_level must be given with org_unit_id", field="org_level")
        unit = (_LEVEL_COLUMN[flt.org_level].key, flt.org_unit_id)
    return cube_masks.Selection(
        since_us=None if flt.since is None else _epoch_us(flt.since),
        until_us=None if flt.until is None else _epoch_us(flt.until),
        type_ids=type_ids,
        unit=unit,
        scope=scope,
        area=flt.area,
    )


def _epoch_us(value: dt.datetime) -> int:
    """Exact integer microseconds, as the database compares stored times."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column; attach a time zone")
    return (value - _UNIX_EPOCH) // dt.timedelta(microseconds=1)


def _where(session: Session, flt: CubeFilter, actor: Principal) -> ColumnElement[bool]:
    conds: list[ColumnElement[bool]] = [scope_clause(actor, Perm.INCIDENTS_READ)]
    if flt.since is not None:
        conds.append(Incident.occurred_at >= flt.since)
    if flt.until is not None:
        conds.append(Incident.occurred_at < flt.until)
    if flt.types:
        ids = sorted({i for code in flt.types for i in _type_and_descendants(session, code)})
        conds.append(Incident.type_id.in_(ids))
    if flt.org_unit_id is not None:
        if flt.org_level not in _LEVEL_COLUMN:
            raise ValidationFailed("org_level must be given with org_unit_id", field="org_level")
        conds.append(_LEVEL_COLUMN[flt.org_level] == flt.org_unit_id)
    if flt.area is not None:
        west, south, east, north = flt.area.bounds
        conds += [
            Incident.lon >= west,
            Incident.lon <= east,
            Incident.lat >= south,
            Incident.lat <= north,
        ]
    return and_(true(), *conds)


def _query(session: Session, flt: CubeFilter, actor: Principal, readers: int) -> EventCube:
    where = _where(session, flt, actor)
    postgres = session.get_bind().dialect.name == "postgresql"
    when: ColumnElement[Any]
    if postgres:
        when = Incident.occurred_at.expression  # raw in binary COPY; converted below
    else:
        # SQLite keeps naive-UTC text; julianday works in whole milliseconds.
        when = (func.julianday(Incident.occurred_at) - 2440587.5) * 86400.0
    columns: list[Any] = [
        Incident.x, Incident.y, when, Incident.type_id, Incident.grid_id, Incident.severity,
    ]  # fmt: skip
    if flt.area is not None:
        columns += [Incident.lon, Incident.lat]
    stmt = select(*columns).where(where)
    if postgres:
        arrays = _copy_postgres(session, stmt, len(columns), readers)
        # One rounding, as the server's numeric -> float8 would do.
        t = (arrays[2].astype(np.int64) + PG_EPOCH_US) / 1e6
    else:
        arrays = _fetch(session, stmt)
        t = arrays[2].astype(np.float64)
    cube = EventCube(
        x=arrays[0].astype(np.float64),
        y=arrays[1].astype(np.float64),
        t=t,
        type_id=arrays[3].astype(np.int32),
        grid_id=arrays[4].astype(np.int32),
        severity=arrays[5].astype(np.int16),
    )
    if flt.area is not None:
        inside = shapely.contains_xy(flt.area, arrays[6].astype(float), arrays[7].astype(float))
        cube = EventCube(*(np.ascontiguousarray(getattr(cube, f)[inside]) for f in _FIELDS))
    return cube


_FIELDS = ("x", "y", "t", "type_id", "grid_id", "severity")


def _copy_postgres(session: Session, stmt: Any, ncols: int, readers: int) -> list[NDArray[Any]]:
    """One binary COPY in the session, or id ranges over ``readers`` connections."""
    ranges = _id_ranges(session, readers)
    if len(ranges) < 2:
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi is not None
        return _columns(copy_records(dbapi, copy_sql(stmt), _row_dtype(ncols)), ncols)
    # Every reader imports this transaction's snapshot: together they see the
    # same rows one stream would, however much intake commits meanwhile.
    snapshot = session.execute(text("SELECT pg_export_snapshot()")).scalar_one()
    engine = session.get_bind().engine
    sqls = [copy_sql(stmt.where(Incident.id >= lo, Incident.id < hi)) for lo, hi in ranges]
    with ThreadPoolExecutor(len(sqls)) as pool:
        parts = list(pool.map(lambda sql: _read_in_snapshot(engine, snapshot, sql, ncols), sqls))
    rows = np.concatenate(parts) if parts else np.empty(0, dtype=_row_dtype(ncols))
    return _columns(rows, ncols)


def _id_ranges(session: Session, readers: int) -> list[tuple[int, int]]:
    """Half-open id ranges, one per reader; one range (no split) when not worth it."""
    if readers < 2:
        return []
    # Rows this transaction wrote are invisible to other connections: read them here.
    if session.execute(text("SELECT pg_current_xact_id_if_assigned()")).scalar() is not None:
        return []
    low, high = session.execute(select(func.min(Incident.id), func.max(Incident.id))).one()
    if low is None or high - low + 1 < PARALLEL_MIN_ROWS:
        return []
    edges = np.linspace(low, high + 1, readers + 1).round().astype(np.int64).tolist()
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]


def _read_in_snapshot(engine: Any, snapshot: str, sql: str, ncols: int) -> NDArray[Any]:
    import psycopg

    raw = engine.raw_connection()
    dbapi = raw.driver_connection
    try:
        # The driver opens the transaction itself, at this level, on the first statement.
        dbapi.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        dbapi.read_only = True
        dbapi.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        rows = copy_records(dbapi, sql, _row_dtype(ncols))
        dbapi.rollback()
        return rows
    finally:
        if not dbapi.closed:
            dbapi.rollback()
            dbapi.isolation_level = None
            dbapi.read_only = None
        raw.close()


def _row_dtype(ncols: int) -> np.dtype[Any]:
    return _ROW_DTYPE if ncols == 6 else _ROW_DTYPE_LONLAT


def _columns(rows: NDArray[Any], ncols: int) -> list[NDArray[Any]]:
    names = ["x", "y", "t", "type_id", "grid_id", "severity", "lon", "lat"][:ncols]
    return [rows[name] for name in names]


def _fetch(session: Session, stmt: Any) -> list[NDArray[Any]]:
    rows = session.execute(stmt).all()
    width = len(stmt.selected_columns)
    if not rows:
        return [np.empty(0) for _ in range(width)]
    table = np.array(rows, dtype=np.float64).reshape(-1, width)
    return [table[:, k] for k in range(width)]
