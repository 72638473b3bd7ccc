"""Writing batches of incidents: grid assignment, idempotency, bulk insert.

PostgreSQL takes the rows by COPY into a temporary table and one
``INSERT ... SELECT ... ON CONFLICT DO NOTHING``; SQLite by ``executemany``
on the raw driver. Ids are allocated before writing (a sequence on
PostgreSQL, MAX(id) under the write lock on SQLite), so every row's id is
known without a round trip per row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psycopg
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.orm import Session

from pingan.incidents.columns import IncidentColumns, us_to_sql_text
from pingan.kit import audit, meta
from pingan.kit.db import WGS84, utcnow
from pingan.kit.wkb import points_ewkb_hex, points_wkb
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.org.service import grid_locator, require_projector

INCIDENTS_VERSION_KEY = "incidents.version"

ACCEPTED, DUPLICATE, REJECTED = 0, 1, 2

_COLUMNS = (
    "id", "type_id", "occurred_at", "reported_at", "geom", "lon", "lat", "x", "y",
    "severity", "source", "status", "external_id", "summary", "grid_id", "community_id",
    "subdistrict_id", "district_id", "city_id", "created_at", "updated_at",
)  # fmt: skip


@dataclass
class StoreOutcome:
    """Per input row: its outcome code, incident id (or -1) and reason."""

    outcome: NDArray[np.int8]
    incident_id: NDArray[np.int64]
    reason: dict[int, tuple[str | None, str]] = field(default_factory=dict)

    def reject(self, index: int, field_name: str | None, why: str) -> None:
        self.outcome[index] = REJECTED
        self.reason[index] = (field_name, why)


def store(
    session: Session,
    cols: IncidentColumns,
    *,
    actor: Principal,
    audit_action: str = "incidents.intake",
) -> StoreOutcome:
    """Store a batch; rows already stored under (source, external_id) are duplicates."""
    n = len(cols)
    result = StoreOutcome(np.full(n, ACCEPTED, np.int8), np.full(n, -1, np.int64))
    if n == 0:
        return result
    # Taking the write lock first (SQLite) makes MAX(id) below safe to use.
    meta.bump_version(session, INCIDENTS_VERSION_KEY)

    locator = grid_locator(session)
    grid = locator.locate(cols.lon, cols.lat)
    for i in np.flatnonzero(grid < 0):
        result.reject(int(i), "lon", "location is outside every grid of the city")
    _check_scope(result, grid, locator.paths, actor)
    _mark_duplicates(session, cols, result)

    todo = np.flatnonzero(result.outcome == ACCEPTED)
    if len(todo):
        batch = cols.take(todo)
        ids = _allocate_ids(session, len(todo))
        inserted = _write(session, batch, ids, grid[todo], locator.ancestors)
        lost = ~np.isin(ids, inserted)
        result.incident_id[todo] = ids
        if lost.any():
            # Another writer stored the same key between our check and insert.
            result.outcome[todo[lost]] = DUPLICATE
            result.incident_id[todo[lost]] = -1
            _mark_duplicates(session, cols, result, only=todo[lost])
    accepted = result.incident_id[result.outcome == ACCEPTED]
    audit.record(
        session,
        actor=actor.actor,
        action=audit_action,
        object_type="incident",
        detail={
            "accepted": len(accepted),
            "duplicates": int((result.outcome == DUPLICATE).sum()),
            "rejected": int((result.outcome == REJECTED).sum()),
            "first_id": int(accepted.min()) if len(accepted) else None,
            "last_id": int(accepted.max()) if len(accepted) else None,
        },
    )
    return result


def _check_scope(
    result: StoreOutcome, grid: NDArray[np.int64], paths: dict[int, str], actor: Principal
) -> None:
    if actor.is_system:
        return
    for grid_id in np.unique(grid[(grid >= 0) & (result.outcome == ACCEPTED)]):
        if not actor.can(Perm.INCIDENTS_WRITE, paths[int(grid_id)]):
            for i in np.flatnonzero((grid == grid_id) & (result.outcome == ACCEPTED)):
                result.reject(int(i), "lon", "location is outside your org scope")


def _mark_duplicates(
    session: Session,
    cols: IncidentColumns,
    result: StoreOutcome,
    only: NDArray[np.int64] | None = None,
) -> None:
    """Mark rows whose (source, external_id) is stored already or repeats in the batch."""
    candidates = np.flatnonzero(result.outcome == ACCEPTED) if only is None else only
    keyed = [int(i) for i in candidates if cols.external_id[i] is not None]
    if not keyed:
        return
    by_source: dict[str, list[str]] = {}
    for i in keyed:
        by_source.setdefault(str(cols.source[i]), []).append(str(cols.external_id[i]))
    stored: dict[tuple[str, str], int] = {}
    postgres = session.get_bind().dialect.name == "postgresql"
    # One array parameter, not thousands of placeholders: far cheaper to send and plan.
    match = (
        "external_id = ANY(:ids)"
        if postgres
        else "external_id IN (SELECT value FROM json_each(:ids))"
    )
    for source, ext_ids in by_source.items():
        unique = sorted(set(ext_ids))
        ids_param: object = unique if postgres else json.dumps(unique)
        rows = session.execute(
            text(f"SELECT external_id, id FROM incidents WHERE source = :s AND {match}"),
            {"s": source, "ids": ids_param},
        )
        stored.update({(source, ext): int(iid) for ext, iid in rows})
    first_in_batch: dict[tuple[str, str], int] = {}
    for i in keyed:
        key = (str(cols.source[i]), str(cols.external_id[i]))
        if key in stored:
            result.outcome[i] = DUPLICATE
            result.incident_id[i] = stored[key]
        elif key in first_in_batch and only is None:
            result.outcome[i] = DUPLICATE
            first_in_batch_index = first_in_batch[key]
            result.reason[i] = (None, f"repeats row {first_in_batch_index} of this batch")
        else:
            first_in_batch[key] = i


def _allocate_ids(session: Session, n: int) -> NDArray[np.int64]:
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence('incidents', 'id')) "
                "FROM generate_series(1, :n)"
            ),
            {"n": n},
        ).all()
        return np.array([r[0] for r in rows], dtype=np.int64)
    start = int(session.execute(text("SELECT COALESCE(MAX(id), 0) FROM incidents")).scalar_one())
    return np.arange(start + 1, start + 1 + n, dtype=np.int64)


def _write(
    session: Session,
    batch: IncidentColumns,
    ids: NDArray[np.int64],
    grid: NDArray[np.int64],
    ancestors: dict[int, tuple[int, int, int, int]],
) -> NDArray[np.int64]:
    """Insert the rows; returns the ids actually inserted."""
    projector = require_projector(session)
    x, y = projector.to_metric(batch.lon, batch.lat)
    anc = np.array([ancestors[int(g)] for g in grid], dtype=np.int64).reshape(-1, 4)
    if session.get_bind().dialect.name == "postgresql":
        return _write_postgres(session, batch, ids, grid, anc, x, y)
    return _write_sqlite(session, batch, ids, grid, anc, x, y)


_TIME_COLUMNS = ("occurred_at", "reported_at")
_STAMP_COLUMNS = ("created_at", "updated_at")


def _column_arrays(
    batch: IncidentColumns,
    ids: NDArray[np.int64],
    grid: NDArray[np.int64],
    anc: NDArray[np.int64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
) -> dict[str, NDArray[Any]]:
    """Every stored column but the geometry and the stamps, as arrays by name."""
    return {
        "id": ids, "type_id": batch.type_id, "occurred_at": batch.occurred_us,
        "reported_at": batch.reported_us, "lon": batch.lon, "lat": batch.lat, "x": x, "y": y,
        "severity": batch.severity, "source": batch.source, "status": batch.status,
        "external_id": batch.external_id, "summary": batch.summary, "grid_id": grid,
        "community_id": anc[:, 0], "subdistrict_id": anc[:, 1], "district_id": anc[:, 2],
        "city_id": anc[:, 3],
    }  # fmt: skip


def _write_sqlite(
    session: Session,
    batch: IncidentColumns,
    ids: NDArray[np.int64],
    grid: NDArray[np.int64],
    anc: NDArray[np.int64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
) -> NDArray[np.int64]:
    now = us_to_sql_text(np.array([int(utcnow().timestamp() * 1e6)], dtype=np.int64))[0]
    arrays = _column_arrays(batch, ids, grid, anc, x, y)
    columns: list[list[Any]] = []
    for name in _COLUMNS:
        if name == "geom":
            columns.append(list(points_wkb(batch.lon, batch.lat)))
        elif name in _STAMP_COLUMNS:
            columns.append([now] * len(ids))
        elif name in _TIME_COLUMNS:
            columns.append(us_to_sql_text(arrays[name]).tolist())
        else:
            columns.append(arrays[name].tolist())
    rows = list(zip(*columns, strict=True))
    sql = (
        f"INSERT INTO incidents ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
        "ON CONFLICT (source, external_id) DO NOTHING"
    )
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.executemany(sql, rows)
    if cursor.rowcount == len(ids):
        return ids
    # We hold the write lock and allocated this id range, so what is there is ours.
    present = session.execute(
        text("SELECT id FROM incidents WHERE id >= :lo AND id <= :hi"),
        {"lo": int(ids.min()), "hi": int(ids.max())},
    ).scalars()
    return np.fromiter(present, dtype=np.int64)


def _write_postgres(
    session: Session,
    batch: IncidentColumns,
    ids: NDArray[np.int64],
    grid: NDArray[np.int64],
    anc: NDArray[np.int64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
) -> NDArray[np.int64]:
    """COPY straight into the table; if a concurrent writer took one of our keys, stage instead."""
    now = _pg_time(np.array([int(utcnow().timestamp() * 1e6)], dtype=np.int64))[0]
    arrays = _column_arrays(batch, ids, grid, anc, x, y)
    table: list[list[str]] = []
    for name in _COLUMNS:
        if name == "geom":
            table.append(points_ewkb_hex(batch.lon, batch.lat, WGS84))
        elif name in _STAMP_COLUMNS:
            table.append([now] * len(ids))
        elif name in _TIME_COLUMNS:
            table.append(_pg_time(arrays[name]).tolist())
        else:
            table.append(_copy_cells(arrays[name]))
    payload = ("\n".join(map("\t".join, zip(*table, strict=True))) + "\n").encode()
    columns = ", ".join(_COLUMNS)
    try:
        with session.begin_nested():
            _copy_text(session, f"COPY incidents ({columns}) FROM STDIN", payload)
        return ids
    except psycopg.errors.UniqueViolation:
        pass  # the savepoint is rolled back; nothing of this batch is stored yet
    session.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS _incident_intake ON COMMIT DELETE ROWS AS "
            f"SELECT {columns} FROM incidents WITH NO DATA"
        )
    )
    _copy_text(session, f"COPY _incident_intake ({columns}) FROM STDIN", payload)
    inserted = session.execute(
        text(
            f"INSERT INTO incidents ({columns}) SELECT {columns} FROM _incident_intake "
            "ON CONFLICT (source, external_id) DO NOTHING RETURNING id"
        )
    ).scalars()
    result = np.fromiter(inserted, dtype=np.int64)
    session.execute(text("TRUNCATE _incident_intake"))
    return result


def _copy_text(session: Session, statement: str, payload: bytes) -> None:
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    with dbapi.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[attr-defined]
        copy.write(payload)


# COPY's text format: tab-separated, \N for NULL, backslash escapes in text.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_cells(values: NDArray[Any]) -> list[str]:
    """One column as COPY text cells: integers, exact doubles or escaped text."""
    if values.dtype.kind in "iu":
        return list(map(str, values.tolist()))
    if values.dtype.kind == "f":
        return list(map(repr, values.tolist()))  # repr round-trips a double exactly
    return _texts(values)


def _texts(values: NDArray[np.object_]) -> list[str]:
    return ["\\N" if v is None else str(v).translate(_COPY_ESCAPES) for v in values.tolist()]


def _pg_time(us: NDArray[np.int64]) -> NDArray[np.str_]:
    return np.char.add(us_to_sql_text(us), "+00")
