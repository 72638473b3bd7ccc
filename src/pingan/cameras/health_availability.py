"""Availability from outage intervals: uptime % and MTTR per camera, network, owner or area.

A camera is watched from its first heartbeat on, so the monitored time of a
camera in a period is the period after its first heartbeat (and not past
now). Down time is the part of its outage intervals inside the period; an
outage still open runs to the end of the period. Uptime of a group is
1 - (sum of down time) / (sum of monitored time), i.e. weighted by camera
time; MTTR is the mean full length of the outages that ended in the period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pingan.cameras import health
from pingan.cameras.health_models import CameraLiveState, CameraOutage
from pingan.cameras.models import Camera, CameraOwner
from pingan.kit.db import utcnow
from pingan.kit.errors import ValidationFailed
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


class GroupBy(StrEnum):
    CAMERA = "camera"
    NETWORK = "network"
    OWNER = "owner"
    AREA = "area"


@dataclass(frozen=True)
class OutageTotals:
    """Per-group sums; seconds throughout."""

    monitored_s: F64
    down_s: F64
    outages: I64  # intervals overlapping the period
    repaired: I64  # intervals that ended inside the period
    repair_s: F64  # their full lengths


def outage_totals(
    *,
    camera_group: I64,
    first_seen: F64,
    outage_camera: I64,
    outage_start: F64,
    outage_end: F64,
    period_start: float,
    period_end: float,
    groups: int,
) -> OutageTotals:
    """Sum monitored time, down time and repairs per group (pure, on epoch seconds).

    ``camera_group[i]`` is the group of camera ``i``; ``outage_camera[j]`` the
    camera of outage ``j``; ``outage_end`` is NaN for an outage still open.
    """
    watched_from = np.maximum(first_seen, period_start)
    monitored = np.clip(period_end - watched_from, 0.0, None)
    end = np.where(np.isnan(outage_end), period_end, outage_end)
    lower = np.maximum(outage_start, watched_from[outage_camera])
    overlap = np.clip(np.minimum(end, period_end) - lower, 0.0, None)
    ended_inside = ~np.isnan(outage_end) & (outage_end > period_start) & (outage_end <= period_end)
    og = camera_group[outage_camera]
    down = np.bincount(og, weights=overlap, minlength=groups)
    watched = np.bincount(camera_group, weights=monitored, minlength=groups).astype(np.float64)
    return OutageTotals(
        monitored_s=watched,
        down_s=np.minimum(down, watched),
        outages=np.bincount(og[overlap > 0], minlength=groups).astype(np.int64),
        repaired=np.bincount(og[ended_inside], minlength=groups).astype(np.int64),
        repair_s=np.bincount(
            og[ended_inside],
            weights=(outage_end - outage_start)[ended_inside],
            minlength=groups,
        ).astype(np.float64),
    )


@dataclass(frozen=True)
class AvailabilityRow:
    key: str
    label: str
    cameras: int
    monitored_hours: float
    down_hours: float
    uptime_pct: float | None
    outages: int
    repaired: int
    mttr_minutes: float | None


def availability(
    session: Session,
    *,
    actor: Principal,
    since: dt.datetime,
    until: dt.datetime | None = None,
    group_by: GroupBy = GroupBy.NETWORK,
    level: Level = Level.DISTRICT,
    now: dt.datetime | None = None,
) -> list[AvailabilityRow]:
    """Availability of the cameras in scope over [since, until) (until defaults to now)."""
    health.require_read(session, actor)
    now = now or utcnow()
    until = min(until or now, now)
    if since.tzinfo is None or until.tzinfo is None:
        raise ValidationFailed("since and until need a time zone", field="since")
    if until <= since:
        raise ValidationFailed("until must be after since (and since in the past)", field="until")
    s, o = CameraLiveState, CameraOutage
    scope = health.camera_scope(session, actor)
    cams = session.execute(
        select(Camera.id, Camera.network, Camera.owner_id, OrgUnit.path, s.first_seen_at)
        .join(s, s.camera_id == Camera.id)
        .outerjoin(OrgUnit, OrgUnit.id == Camera.org_unit_id)
        .where(scope, s.first_seen_at < until)
        .order_by(Camera.id)
    ).all()
    if not cams:
        return []
    outs = session.execute(
        select(o.camera_id, o.started_at, o.ended_at)
        .join(Camera, Camera.id == o.camera_id)
        .where(scope, o.started_at < until, or_(o.ended_at.is_(None), o.ended_at > since))
    ).all()
    cam_ids = np.array([r[0] for r in cams], dtype=np.int64)
    keys = [_group_key(r, group_by, level) for r in cams]
    labels_of = _labels(session, group_by, keys)
    uniq = sorted(set(keys), key=lambda k: (k == "", _sort_key(k)))
    index = {k: i for i, k in enumerate(uniq)}
    camera_group = np.array([index[k] for k in keys], dtype=np.int64)
    totals = outage_totals(
        camera_group=camera_group,
        first_seen=np.array([_epoch(r[4]) for r in cams]),
        outage_camera=np.searchsorted(cam_ids, np.array([r[0] for r in outs], dtype=np.int64)),
        outage_start=np.array([_epoch(r[1]) for r in outs], dtype=np.float64),
        outage_end=np.array(
            [np.nan if r[2] is None else _epoch(r[2]) for r in outs], dtype=np.float64
        ),
        period_start=_epoch(since),
        period_end=_epoch(until),
        groups=len(uniq),
    )
    counts = np.bincount(camera_group, minlength=len(uniq))
    rows = []
    for k, i in index.items():
        monitored, down = float(totals.monitored_s[i]), float(totals.down_s[i])
        repaired = int(totals.repaired[i])
        rows.append(
            AvailabilityRow(
                key=k or "none",
                label=labels_of.get(k, k or "outside every org unit"),
                cameras=int(counts[i]),
                monitored_hours=monitored / 3600.0,
                down_hours=down / 3600.0,
                uptime_pct=100.0 * (1.0 - down / monitored) if monitored > 0 else None,
                outages=int(totals.outages[i]),
                repaired=repaired,
                mttr_minutes=float(totals.repair_s[i]) / repaired / 60.0 if repaired else None,
            )
        )
    return rows


def _epoch(when: dt.datetime) -> float:
    return when.timestamp()


def _sort_key(key: str) -> tuple[int, str]:
    return (0, f"{int(key):020d}") if key.isdigit() else (1, key)


def _group_key(row: Any, group_by: GroupBy, level: Level) -> str:
    if group_by is GroupBy.CAMERA:
        return str(row[0])
    if group_by is GroupBy.NETWORK:
        return str(row[1])
    if group_by is GroupBy.OWNER:
        return str(row[2])
    path: str | None = row[3]
    parts = [p for p in (path or "").strip("/").split("/") if p]
    return parts[level.depth] if len(parts) > level.depth else ""


def _labels(session: Session, group_by: GroupBy, keys: list[str]) -> dict[str, str]:
    ids = sorted({int(k) for k in keys if k.isdigit()})
    if group_by is GroupBy.OWNER and ids:
        rows = session.execute(
            select(CameraOwner.id, CameraOwner.code, CameraOwner.name).where(
                CameraOwner.id.in_(ids)
            )
        )
        return {str(r[0]): f"{r[1]} {r[2]}" for r in rows}
    if group_by is GroupBy.AREA and ids:
        rows = session.execute(
            select(OrgUnit.id, OrgUnit.code, OrgUnit.name_en).where(OrgUnit.id.in_(ids))
        )
        return {str(r[0]): f"{r[1]} {r[2]}" for r in rows}
    return {}
