"""Writing batches of incidents: grid assignment, idempotency, bulk insert.

PostgreSQL takes the rows by COPY into a temporary table and one
``INSERT ... SELECT ... ON CONFLICT DO NOTHING``; SQLite by ``executemany``
on the raw driver. Ids are allocated before writing (a sequence on
PostgreSQL, MAX(id) under the write lock on SQLite), so every row's id is
known without a round trip per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.orm import Session

from pingan.incidents.columns import IncidentColumns, us_to_sql_text
from pingan.kit import audit, meta
from pingan.kit.db import utcnow
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
    for source, ext_ids in by_source.items():
        unique = sorted(set(ext_ids))
        for start in range(0, len(unique), 5000):
            chunk = unique[start : start + 5000]
            params = {f"e{k}": v for k, v in enumerate(chunk)}
            marks = ",".join(f":e{k}" for k in range(len(chunk)))
            rows = session.execute(
                text(
                    "SELECT external_id, id FROM incidents "
                    f"WHERE source = :s AND external_id IN ({marks})"
                ),
                {"s": source, **params},
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
        ).scalars()
        return np.fromiter(rows, dtype=np.int64, count=n)
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
    geoms = np.atleast_1d(shapely.to_wkb(shapely.points(batch.lon, batch.lat)))
    rows = list(
        zip(
            ids.tolist(),
            batch.type_id.tolist(),
            us_to_sql_text(batch.occurred_us).tolist(),
            us_to_sql_text(batch.reported_us).tolist(),
            geoms.tolist(),
            batch.lon.tolist(),
            batch.lat.tolist(),
            x.tolist(),
            y.tolist(),
            batch.severity.tolist(),
            batch.source.tolist(),
            batch.status.tolist(),
            batch.external_id.tolist(),
            batch.summary.tolist(),
            grid.tolist(),
            anc[:, 0].tolist(),
            anc[:, 1].tolist(),
            anc[:, 2].tolist(),
            anc[:, 3].tolist(),
            [now] * len(ids),
            [now] * len(ids),
            strict=True,
        )
    )
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
    columns = [c for c in _COLUMNS if c != "geom"]
    staged = columns[:-2]  # created_at and updated_at are set by the INSERT
    session.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS _incident_intake ON COMMIT DELETE ROWS AS "
            f"SELECT {', '.join(staged)} FROM incidents WITH NO DATA"
        )
    )
    now = utcnow()
    occurred = batch.occurred_us.astype("datetime64[us]").astype(object)
    reported = batch.reported_us.astype("datetime64[us]").astype(object)
    rows = zip(
        ids.tolist(),
        batch.type_id.tolist(),
        occurred.tolist(),
        reported.tolist(),
        batch.lon.tolist(),
        batch.lat.tolist(),
        x.tolist(),
        y.tolist(),
        batch.severity.tolist(),
        batch.source.tolist(),
        batch.status.tolist(),
        batch.external_id.tolist(),
        batch.summary.tolist(),
        grid.tolist(),
        anc[:, 0].tolist(),
        anc[:, 1].tolist(),
        anc[:, 2].tolist(),
        anc[:, 3].tolist(),
        strict=True,
    )
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    with dbapi.cursor() as cursor:  # type: ignore[attr-defined]
        # Naive datetimes from numpy are UTC; say so to the server.
        cursor.execute("SET LOCAL TIME ZONE 'UTC'")
        with cursor.copy(f"COPY _incident_intake ({', '.join(staged)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    inserted = session.execute(
        text(
            f"INSERT INTO incidents ({', '.join(_COLUMNS)}) "
            f"SELECT {', '.join(columns[:4])}, ST_SetSRID(ST_MakePoint(lon, lat), 4326), "
            f"{', '.join(columns[4:-2])}, :now, :now FROM _incident_intake "
            "ON CONFLICT (source, external_id) DO NOTHING RETURNING id"
        ),
        {"now": now},
    ).scalars()
    result = np.fromiter(inserted, dtype=np.int64)
    session.execute(text("TRUNCATE _incident_intake"))
    return result
