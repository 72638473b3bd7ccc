"""Alert lifecycle: create or merge a signal, list and read within scope, and transitions.

new -> acknowledged -> resolved | dismissed (new may also be resolved or
dismissed directly). A repeated signal for the same method, area and incident
types whose window overlaps or touches an open alert's window updates that
alert (latest statistic, wider window, one more signal) instead of adding one.
Every change is written to the audit log in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pingan.alerts.models import OPEN_STATUSES, Alert, AlertStatus
from pingan.kit import audit, events
from pingan.kit.db import utcnow
from pingan.kit.errors import Conflict, NotFound, ValidationFailed
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal

# Alerts are read with incident read rights and handled with incident write rights.
READ = Perm.INCIDENTS_READ
HANDLE = Perm.INCIDENTS_WRITE

_NEXT: dict[str, tuple[str, ...]] = {
    AlertStatus.NEW: (AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED, AlertStatus.DISMISSED),
    AlertStatus.ACKNOWLEDGED: (AlertStatus.RESOLVED, AlertStatus.DISMISSED),
}


@dataclass(frozen=True)
class Signal:
    """One detection: what a method found for an area and a window of days."""

    method: str
    org_unit_id: int
    grid_ids: tuple[int, ...]
    window_start: dt.date
    window_end: dt.date
    statistic: float
    observed: int
    expected: float
    p_value: float | None = None
    recurrence_days: float | None = None
    incident_types: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # centre, radius, series name...

    @property
    def area_key(self) -> str:
        return ",".join(str(g) for g in sorted(self.grid_ids)) or f"unit:{self.org_unit_id}"


def _unit(session: Session, unit_id: int) -> OrgUnit:
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        raise ValidationFailed(f"org unit {unit_id} does not exist", field="org_unit_id")
    return unit


def _snapshot(alert: Alert) -> dict[str, Any]:
    return {
        "status": alert.status,
        "window": [alert.window_start.isoformat(), alert.window_end.isoformat()],
        "statistic": alert.statistic,
        "p_value": alert.p_value,
        "signal_count": alert.signal_count,
    }


def record_signal(session: Session, *, signal: Signal, actor: Principal) -> tuple[Alert, bool]:
    """Merge the signal into a matching open alert, or open a new one. Returns (alert, created)."""
    types = json.dumps(sorted(signal.incident_types))
    touching = signal.window_start - dt.timedelta(days=1)
    stmt = select(Alert).where(
        Alert.method == signal.method,
        Alert.area_key == signal.area_key,
        Alert.incident_types == types,
        Alert.status.in_(OPEN_STATUSES),
        Alert.window_end >= touching,
        Alert.window_start <= signal.window_end + dt.timedelta(days=1),
    )
    found = session.scalars(stmt.order_by(Alert.id).limit(1)).first()
    area = {"grid_ids": sorted(signal.grid_ids), **signal.extra}
    if found is not None:
        found.window_start = min(found.window_start, signal.window_start)
        found.window_end = max(found.window_end, signal.window_end)
        found.statistic = signal.statistic
        found.p_value = signal.p_value
        found.recurrence_days = signal.recurrence_days
        found.observed = signal.observed
        found.expected = signal.expected
        found.area = json.dumps(area)
        found.signal_count += 1
        found.updated_at = utcnow()
        session.flush()
        audit.record(
            session, actor=actor.actor, action="alert.merge", object_type="alert",
            object_id=found.id, detail=_snapshot(found),
        )  # fmt: skip
        events.publish(session, "alerts", {"id": found.id, "action": "merge"})
        return found, False
    unit = _unit(session, signal.org_unit_id)
    alert = Alert(
        method=signal.method,
        status=AlertStatus.NEW.value,
        org_unit_id=unit.id,
        org_path=unit.path,
        area_key=signal.area_key,
        area=json.dumps(area),
        incident_types=types,
        window_start=signal.window_start,
        window_end=signal.window_end,
        statistic=signal.statistic,
        p_value=signal.p_value,
        recurrence_days=signal.recurrence_days,
        observed=signal.observed,
        expected=signal.expected,
        signal_count=1,
    )
    session.add(alert)
    session.flush()
    audit.record(
        session, actor=actor.actor, action="alert.create", object_type="alert",
        object_id=alert.id, detail={"method": alert.method, **_snapshot(alert)},
    )  # fmt: skip
    events.publish(session, "alerts", {"id": alert.id, "action": "create"})
    return alert, True


def get_alert(session: Session, alert_id: int, *, actor: Principal, perm: str = READ) -> Alert:
    """The alert, if the actor holds ``perm`` over its org unit; otherwise 404 (no leak)."""
    alert = session.get(Alert, alert_id)
    if alert is None or not actor.can(perm, alert.org_path):
        if alert is not None and actor.can(READ, alert.org_path):
            actor.require(perm, alert.org_path)  # visible but not handleable: 403
        raise NotFound(f"alert {alert_id} not found")
    return alert


def list_alerts(
    session: Session,
    *,
    actor: Principal,
    status: str | None = None,
    method: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    org_unit_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Alert]:
    """Alerts within the actor's scope, newest window first."""
    actor.require(READ)
    stmt = select(Alert)
    if not actor.is_system:
        paths = [g.path for g in actor.grants_with(READ)]
        stmt = stmt.where(or_(*(Alert.org_path.startswith(p) for p in paths)))
    if status is not None:
        if status not in {s.value for s in AlertStatus}:
            raise ValidationFailed(f"unknown status {status!r}", field="status")
        stmt = stmt.where(Alert.status == status)
    if method is not None:
        stmt = stmt.where(Alert.method == method)
    if since is not None:
        stmt = stmt.where(Alert.window_end >= since)
    if until is not None:
        stmt = stmt.where(Alert.window_start <= until)
    if org_unit_id is not None:
        stmt = stmt.where(Alert.org_path.startswith(_unit(session, org_unit_id).path))
    stmt = stmt.order_by(Alert.window_end.desc(), Alert.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))


def transition(
    session: Session,
    *,
    alert_id: int,
    to: AlertStatus,
    actor: Principal,
    reason: str | None = None,
) -> Alert:
    """Move an alert along its lifecycle; dismissing needs a reason."""
    alert = get_alert(session, alert_id, actor=actor, perm=HANDLE)
    if to.value not in _NEXT.get(alert.status, ()):
        raise Conflict(f"alert {alert_id} is {alert.status}; it cannot become {to.value}")
    text = (reason or "").strip()
    if to is AlertStatus.DISMISSED and not text:
        raise ValidationFailed("dismissing an alert needs a reason", field="reason")
    before = alert.status
    alert.status = to.value
    if text:
        alert.reason = text
    alert.updated_at = utcnow()
    session.flush()
    audit.record(
        session, actor=actor.actor, action=f"alert.{to.value}", object_type="alert",
        object_id=alert.id, detail={"from": before, "to": to.value, "reason": text or None},
    )  # fmt: skip
    events.publish(session, "alerts", {"id": alert.id, "action": to.value})
    return alert


def area_geometry(session: Session, alert: Alert) -> dict[str, Any] | None:
    """The alert's area as GeoJSON (lon/lat): its grids' boundaries merged, else its org unit's."""
    return area_geometries(session, [alert])[0]


def area_geometries(session: Session, alerts: Sequence[Alert]) -> list[dict[str, Any] | None]:
    """Each alert's area as ``area_geometry`` gives it; the units of the whole list in one query."""
    wanted = [alert.area_dict().get("grid_ids") or [alert.org_unit_id] for alert in alerts]
    all_ids = {i for ids in wanted for i in ids}
    units = session.scalars(select(OrgUnit).where(OrgUnit.id.in_(all_ids))).all() if all_ids else []
    out: list[dict[str, Any] | None] = []
    for ids in wanted:
        # In the query's order, as the one-alert query gave them: the union's output follows it.
        chosen = set(ids)
        shapes = [u.boundary for u in units if u.id in chosen and u.boundary is not None]
        out.append(json.loads(shapely.to_geojson(shapely.union_all(shapes))) if shapes else None)
    return out
