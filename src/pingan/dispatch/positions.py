"""Live locations in bulk: the latest position per responder and a short trail.

One batch is a handful of statements whatever its size: one lookup of the
responders named, one upsert of the latest positions, one insert into the
trail, one delete of trail points past the window. Positions of off-duty
responders (and of unknown or out-of-scope ones) are rejected row by row and
never written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Table,
    any_,
    bindparam,
    delete,
    insert,
    select,
    text,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from pingan.dispatch.responder_models import (
    Availability,
    Responder,
    ResponderPosition,
    TrailPoint,
)
from pingan.kit import audit
from pingan.kit.db import is_postgres, utcnow
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.org.service import require_projector

TRAIL_WINDOW = dt.timedelta(hours=1)
# Clocks on phones drift; a fix this far in the future is refused.
FUTURE_TOLERANCE = dt.timedelta(minutes=2)
_LOOKUP_CHUNK = 5000


@dataclass
class PositionReport:
    accepted: int = 0
    rejected: list[tuple[int, int | None, str]] = field(default_factory=list)


def ingest_positions(
    session: Session,
    *,
    responder_ids: list[int],
    lon: list[float],
    lat: list[float],
    at: list[dt.datetime],
    actor: Principal,
    now: dt.datetime | None = None,
) -> PositionReport:
    now = now or utcnow()
    report = PositionReport()
    n = len(responder_ids)
    if not (len(lon) == len(lat) == len(at) == n):
        from pingan.kit.errors import ValidationFailed

        raise ValidationFailed("responder_id, lon, lat and at must have the same length")
    known = _lookup(session, sorted(set(responder_ids)))
    oldest = now - TRAIL_WINDOW
    keep: list[int] = []
    for i in range(n):
        rid, when = responder_ids[i], at[i]
        reason = _reject_reason(rid, lon[i], lat[i], when, known, actor, now, oldest)
        if reason is None:
            keep.append(i)
        else:
            report.rejected.append((i, rid, reason))
    if keep:
        _write(session, keep, responder_ids, lon, lat, at)
    session.execute(delete(TrailPoint).where(TrailPoint.at < oldest))
    report.accepted = len(keep)
    audit.record(
        session, actor=actor.actor, action="dispatch.positions.ingest",
        object_type="responder_positions",
        detail={"accepted": report.accepted, "rejected": len(report.rejected)},
    )  # fmt: skip
    return report


def _lookup(session: Session, ids: list[int]) -> dict[int, tuple[str, str, int | None]]:
    """responder id -> (availability, home org path, the responder's own user id)."""
    found: dict[int, tuple[str, str, int | None]] = {}
    base = select(Responder.id, Responder.availability, OrgUnit.path, Responder.user_id).join(
        OrgUnit, OrgUnit.id == Responder.org_unit_id
    )
    if is_postgres(session):
        # One array parameter instead of thousands of bound values.
        ids_param = bindparam("ids", value=ids, type_=ARRAY(BigInteger))
        rows = session.execute(base.where(Responder.id == any_(ids_param))).all()
        return {int(r[0]): (r[1], r[2], r[3]) for r in rows}
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = ids[start : start + _LOOKUP_CHUNK]
        rows = session.execute(base.where(Responder.id.in_(chunk))).all()
        found.update({int(r[0]): (r[1], r[2], r[3]) for r in rows})
    return found


def _reject_reason(
    rid: int,
    lon: float,
    lat: float,
    when: dt.datetime,
    known: dict[int, tuple[str, str, int | None]],
    actor: Principal,
    now: dt.datetime,
    oldest: dt.datetime,
) -> str | None:
    entry = known.get(rid)
    # A responder's own phone reports as them; a gateway needs dispatch rights over them.
    is_self = entry is not None and actor.user_id is not None and entry[2] == actor.user_id
    if entry is None or not (is_self or actor.can(Perm.DISPATCH_WRITE, entry[1])):
        return "unknown responder"
    if entry[0] == Availability.OFF_DUTY:
        return "responder is off duty: position not stored"
    if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        return "lon/lat out of range"
    if when.tzinfo is None:
        return "time without a time zone"
    if when > now + FUTURE_TOLERANCE:
        return "time is in the future"
    if when < oldest:
        return "time is older than the trail window"
    return None


def _write(
    session: Session,
    keep: list[int],
    responder_ids: list[int],
    lon: list[float],
    lat: list[float],
    at: list[dt.datetime],
) -> None:
    projector = require_projector(session)
    lon_a = np.array([lon[i] for i in keep], dtype=np.float64)
    lat_a = np.array([lat[i] for i in keep], dtype=np.float64)
    x, y = projector.to_metric(lon_a, lat_a)
    trail = [
        {"responder_id": responder_ids[i], "at": at[i], "lon": lon[i], "lat": lat[i]} for i in keep
    ]
    # The newest fix per responder in this batch becomes the latest position.
    latest: dict[int, dict[str, Any]] = {}
    for j, i in enumerate(keep):
        rid = responder_ids[i]
        if rid not in latest or at[i] >= latest[rid]["at"]:
            latest[rid] = {
                "responder_id": rid, "at": at[i], "lon": lon[i], "lat": lat[i],
                "x": float(x[j]), "y": float(y[j]),
            }  # fmt: skip
    if is_postgres(session):
        _pg_write(session, list(latest.values()), trail)
        return
    _upsert_latest(session, list(latest.values()))
    session.execute(insert(TrailPoint), trail)


# PostgreSQL: one statement each, rows passed as arrays (no per-row round trips).
_PG_UPSERT = text(
    """
    INSERT INTO responder_positions (responder_id, at, lon, lat, x, y)
    SELECT u.rid, to_timestamp(u.t), u.lon, u.lat, u.x, u.y
    FROM unnest(CAST(:rid AS bigint[]), CAST(:t AS float8[]), CAST(:lon AS float8[]),
        CAST(:lat AS float8[]), CAST(:x AS float8[]), CAST(:y AS float8[]))
        AS u(rid, t, lon, lat, x, y)
    ON CONFLICT (responder_id) DO UPDATE SET at = excluded.at, lon = excluded.lon,
        lat = excluded.lat, x = excluded.x, y = excluded.y
    WHERE excluded.at >= responder_positions.at
    """
)
_PG_TRAIL = text(
    """
    INSERT INTO responder_trail (responder_id, at, lon, lat)
    SELECT u.rid, to_timestamp(u.t), u.lon, u.lat
    FROM unnest(CAST(:rid AS bigint[]), CAST(:t AS float8[]), CAST(:lon AS float8[]),
        CAST(:lat AS float8[])) AS u(rid, t, lon, lat)
    """
)


def _pg_write(session: Session, latest: list[dict[str, Any]], trail: list[dict[str, Any]]) -> None:
    # Times travel as epoch seconds: psycopg dumps a float array far faster than datetimes.
    def column(rows: list[dict[str, Any]], key: str) -> list[Any]:
        if key == "at":
            return [r["at"].timestamp() for r in rows]
        return [r[key] for r in rows]

    keys = {"rid": "responder_id", "t": "at", "lon": "lon", "lat": "lat"}
    session.execute(
        _PG_UPSERT,
        {name: column(latest, key) for name, key in {**keys, "x": "x", "y": "y"}.items()},
    )
    session.execute(_PG_TRAIL, {name: column(trail, key) for name, key in keys.items()})


def _upsert_latest(session: Session, rows: list[dict[str, Any]]) -> None:
    table = ResponderPosition.__table__
    assert isinstance(table, Table)
    stmt = sqlite.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.responder_id],
        set_={c: stmt.excluded[c] for c in ("at", "lon", "lat", "x", "y")},
        # A late-arriving older fix must not overwrite a newer one.
        where=stmt.excluded.at >= table.c.at,
    )
    session.execute(stmt, rows)
