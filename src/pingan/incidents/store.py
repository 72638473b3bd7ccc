"""Writing batches of incidents: grid assignment, idempotency, bulk insert.

PostgreSQL streams the rows by binary COPY straight into ``incidents`` while
the caller validates the next chunk (see ``store_pg``); only if a key is
already stored does the batch go through a staging table and one
``INSERT ... ON CONFLICT DO NOTHING``. SQLite takes the rows by
``executemany`` on the raw driver. Ids are allocated before writing (a
sequence on PostgreSQL, MAX(id) under the write lock on SQLite), so every
row's id is known without a round trip per row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.orm import Session

from pingan.incidents import store_pg
from pingan.incidents.columns import IncidentColumns, us_to_sql_text
from pingan.incidents.outcome import (
    ACCEPTED,
    DUPLICATE,
    REJECTED,
    AncestorTable,
    StoreOutcome,
    check_scope,
    mark_repeats,
    reject_outside,
)
from pingan.kit import audit, meta
from pingan.kit.db import utcnow
from pingan.kit.wkb import points_wkb
from pingan.org.principal import Principal
from pingan.org.service import grid_locator, require_projector

__all__ = ["ACCEPTED", "DUPLICATE", "REJECTED", "StoreOutcome", "store", "store_chunks"]

INCIDENTS_VERSION_KEY = "incidents.version"

_COLUMNS = (
    "id", "type_id", "occurred_at", "reported_at", "geom", "lon", "lat", "x", "y",
    "severity", "source", "status", "external_id", "summary", "grid_id", "community_id",
    "subdistrict_id", "district_id", "city_id", "created_at", "updated_at",
)  # fmt: skip


def store(
    session: Session,
    cols: IncidentColumns,
    *,
    actor: Principal,
    audit_action: str = "incidents.intake",
) -> StoreOutcome:
    """Store a batch; rows already stored under (source, external_id) are duplicates."""
    return store_chunks(session, [cols], capacity=len(cols), actor=actor, audit_action=audit_action)


def store_chunks(
    session: Session,
    chunks: Iterable[IncidentColumns],
    *,
    capacity: int,
    actor: Principal,
    audit_action: str = "incidents.intake",
) -> StoreOutcome:
    """Store a batch that arrives in chunks of at most ``capacity`` rows in all.

    The outcome has one entry per row of the chunks, in order. On PostgreSQL
    each chunk is pulled (and so may be validated by the caller) while the
    server is still writing the previous one.
    """
    if capacity == 0:
        return StoreOutcome.all_accepted(0)
    if session.get_bind().dialect.name == "postgresql":
        # Bumped as the last write before COMMIT: concurrent intakes do not queue on the row.
        meta.bump_version_at_commit(session, INCIDENTS_VERSION_KEY)
        cols, result = _store_postgres(session, chunks, capacity, actor)
    else:
        # Taking the write lock first makes MAX(id) below safe to use.
        meta.bump_version(session, INCIDENTS_VERSION_KEY)
        cols = IncidentColumns.concat(list(chunks))
        result = _store_checked(session, cols, actor)
    if len(cols):
        _record(session, result, actor, audit_action)
    return result


def _store_postgres(
    session: Session, chunks: Iterable[IncidentColumns], capacity: int, actor: Principal
) -> tuple[IncidentColumns, StoreOutcome]:
    locator = grid_locator(session)
    stream = store_pg.IntakeStream(
        locator=locator,
        projector=require_projector(session),
        ids=_allocate_ids(session, capacity),
        actor=actor,
        now_us=_now_us(),
    )
    inserted = stream.write(session, chunks)
    cols, result = stream.collected()
    if inserted is not None:
        # A key was stored already (or by a concurrent writer): report those rows as duplicates.
        written = np.flatnonzero(result.outcome == ACCEPTED)
        lost = written[~np.isin(result.incident_id[written], inserted)]
        result.outcome[lost] = DUPLICATE
        result.incident_id[lost] = -1
        _mark_duplicates(session, cols, result, only=lost)
    _point_repeats_at_first(cols, result, stream.first_row)
    return cols, result


def _point_repeats_at_first(
    cols: IncidentColumns, result: StoreOutcome, first_row: dict[tuple[str, str], int]
) -> None:
    """A row repeating an earlier key of the batch gets the id stored under that key."""
    for i, (field_name, _why) in result.reason.items():
        if result.outcome[i] == DUPLICATE and field_name is None and result.incident_id[i] < 0:
            first = first_row[(str(cols.source[i]), str(cols.external_id[i]))]
            result.incident_id[i] = result.incident_id[first]


def _store_checked(session: Session, cols: IncidentColumns, actor: Principal) -> StoreOutcome:
    """Look up stored keys first, then insert the rest (the SQLite way)."""
    result = StoreOutcome.all_accepted(len(cols))
    if len(cols) == 0:
        return result
    locator = grid_locator(session)
    grid = locator.locate(cols.lon, cols.lat)
    reject_outside(result, grid)
    check_scope(result, grid, locator.paths, actor)
    _mark_duplicates(session, cols, result)
    first_row: dict[tuple[str, str], int] = {}
    mark_repeats(cols, result, first_row, 0)

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
    _point_repeats_at_first(cols, result, first_row)
    return result


def _record(session: Session, result: StoreOutcome, actor: Principal, action: str) -> None:
    accepted = result.incident_id[result.outcome == ACCEPTED]
    audit.record(
        session,
        actor=actor.actor,
        action=action,
        object_type="incident",
        detail={
            "accepted": len(accepted),
            "duplicates": int((result.outcome == DUPLICATE).sum()),
            "rejected": int((result.outcome == REJECTED).sum()),
            "first_id": int(accepted.min()) if len(accepted) else None,
            "last_id": int(accepted.max()) if len(accepted) else None,
        },
    )


def _mark_duplicates(
    session: Session,
    cols: IncidentColumns,
    result: StoreOutcome,
    only: NDArray[np.int64] | None = None,
) -> None:
    """Mark rows whose (source, external_id) is stored already."""
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
    for i in keyed:
        key = (str(cols.source[i]), str(cols.external_id[i]))
        if key in stored:
            result.outcome[i] = DUPLICATE
            result.incident_id[i] = stored[key]


def _allocate_ids(session: Session, n: int) -> NDArray[np.int64]:
    if session.get_bind().dialect.name == "postgresql":
        # One array in one row: far cheaper to receive than n rows.
        ids = session.execute(
            text(
                "SELECT array_agg(nextval(pg_get_serial_sequence('incidents', 'id'))) "
                "FROM generate_series(1, :n)"
            ),
            {"n": n},
        ).scalar_one()
        return np.array(ids, dtype=np.int64)
    start = int(session.execute(text("SELECT COALESCE(MAX(id), 0) FROM incidents")).scalar_one())
    return np.arange(start + 1, start + 1 + n, dtype=np.int64)


def _now_us() -> int:
    return int(utcnow().timestamp() * 1_000_000)


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
    anc = AncestorTable(ancestors).of(grid)
    arrays = store_pg.column_arrays(batch, ids, grid, anc, x, y, _now_us())
    if session.get_bind().dialect.name == "postgresql":
        return store_pg.write_arrays(session, arrays)
    return _write_sqlite(session, batch, arrays)


_TIME_COLUMNS = ("occurred_at", "reported_at", "created_at", "updated_at")


def _write_sqlite(
    session: Session, batch: IncidentColumns, arrays: dict[str, NDArray[Any]]
) -> NDArray[np.int64]:
    ids = arrays["id"]
    columns: list[list[Any]] = []
    for name in _COLUMNS:
        if name == "geom":
            columns.append(list(points_wkb(batch.lon, batch.lat)))
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
