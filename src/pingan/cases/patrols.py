"""Patrol check-ins by grid workers, readable by supervisors within their scope."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from pingan.cases.models import PatrolCheckin
from pingan.cases.routing import locate_grid
from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.kit.errors import Forbidden
from pingan.org.permissions import Perm
from pingan.org.principal import Principal


def check_in(
    session: Session,
    *,
    actor: Principal,
    lon: float,
    lat: float,
    note: str = "",
    now: dt.datetime | None = None,
) -> PatrolCheckin:
    """Record that the acting worker is on patrol in the grid at (lon, lat)."""
    if actor.user_id is None:
        raise Forbidden("only a person can check in on patrol")
    grid = locate_grid(session, lon, lat)
    actor.require(Perm.CASES_REPORT, grid.path)
    row = PatrolCheckin(
        user_id=actor.user_id,
        grid_id=grid.id,
        grid_path=grid.path,
        at=now or utcnow(),
        lon=lon,
        lat=lat,
        note=note[:500],
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.actor,
        action="patrol.checkin",
        object_type="org_unit",
        object_id=grid.id,
        detail={"checkin_id": row.id},
    )
    return row


def list_checkins(
    session: Session,
    *,
    actor: Principal,
    grid_id: int | None = None,
    since: dt.datetime | None = None,
    limit: int = 500,
) -> list[PatrolCheckin]:
    """Check-ins in grids the reader manages, plus the reader's own."""
    stmt = select(PatrolCheckin).order_by(PatrolCheckin.at.desc()).limit(limit)
    if not actor.is_system:
        grants = actor.grants_with(Perm.CASES_MANAGE)
        parts = [PatrolCheckin.grid_path.startswith(g.path) for g in grants]
        if actor.user_id is not None:
            parts.append(PatrolCheckin.user_id == actor.user_id)
        stmt = stmt.where(or_(*parts) if parts else false())
    if grid_id is not None:
        stmt = stmt.where(PatrolCheckin.grid_id == grid_id)
    if since is not None:
        stmt = stmt.where(PatrolCheckin.at >= since)
    return list(session.scalars(stmt))
