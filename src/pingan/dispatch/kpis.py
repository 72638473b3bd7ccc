"""Response-time KPIs per district and tier, with the share within targets.

Intervals (NFPA 1710 names): call-to-dispatch is the incident's report to its
first dispatch; turnout is dispatch to en route; travel is en route to on
scene; on-scene is on scene to cleared. Assignments that timed out or were
cancelled are left out: their responders never turned out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.dispatch.assignment_models import Assignment, AssignmentStatus
from pingan.incidents.models import Incident
from pingan.incidents.service import scope_clause
from pingan.org.permissions import Perm
from pingan.org.principal import Principal


@dataclass(frozen=True)
class Targets:
    call_to_dispatch_s: float = 60.0
    turnout_s: float = 60.0
    travel_s: float = 240.0


@dataclass
class IntervalStats:
    n: int
    median_s: float | None
    p90_s: float | None
    share_within: float | None


@dataclass
class KpiRow:
    district_id: int
    tier: int
    assignments: int
    intervals: dict[str, IntervalStats] = field(default_factory=dict)


def _stats(values: list[float], target: float | None) -> IntervalStats:
    if not values:
        return IntervalStats(0, None, None, None)
    arr = np.asarray(values)
    share = None if target is None else round(float(np.mean(arr <= target)), 4)
    return IntervalStats(
        len(arr), round(float(np.median(arr)), 1), round(float(np.percentile(arr, 90)), 1), share
    )


def _seconds(a: dt.datetime | None, b: dt.datetime | None) -> float | None:
    return None if a is None or b is None else (b - a).total_seconds()


def response_kpis(
    session: Session,
    *,
    actor: Principal,
    since: dt.datetime,
    until: dt.datetime,
    targets: Targets = Targets(),
) -> list[KpiRow]:
    rows = session.execute(
        select(Assignment, Incident.district_id, Incident.reported_at)
        .join(Incident, Incident.id == Assignment.incident_id)
        .where(
            Assignment.dispatched_at >= since,
            Assignment.dispatched_at < until,
            Assignment.status.not_in([AssignmentStatus.TIMED_OUT, AssignmentStatus.CANCELLED]),
            scope_clause(actor, Perm.DISPATCH_READ),
        )
        .order_by(Assignment.dispatched_at)
    ).all()
    groups: dict[tuple[int, int], dict[str, list[float]]] = {}
    counts: dict[tuple[int, int], int] = {}
    for assignment, district_id, _reported in rows:
        key = (int(district_id), assignment.tier)
        counts[key] = counts.get(key, 0) + 1
        bucket = groups.setdefault(key, {"turnout": [], "travel": [], "on_scene": []})
        for name, a, b in (
            ("turnout", assignment.dispatched_at, assignment.en_route_at),
            ("travel", assignment.en_route_at, assignment.on_scene_at),
            ("on_scene", assignment.on_scene_at, assignment.cleared_at),
        ):
            value = _seconds(a, b)
            if value is not None:
                bucket[name].append(value)
    call_to_dispatch = _call_to_dispatch([(a, int(d), r) for a, d, r in rows])
    limits = {"turnout": targets.turnout_s, "travel": targets.travel_s, "on_scene": None}
    out = []
    for key in sorted(groups):
        row = KpiRow(key[0], key[1], counts[key])
        row.intervals["call_to_dispatch"] = _stats(
            call_to_dispatch.get(key, []), targets.call_to_dispatch_s
        )
        for name, values in groups[key].items():
            row.intervals[name] = _stats(values, limits[name])
        out.append(row)
    return out


def _call_to_dispatch(
    rows: list[tuple[Assignment, int, dt.datetime]],
) -> dict[tuple[int, int], list[float]]:
    """Per (district, tier of the first responder sent): report -> first dispatch."""
    first: dict[int, tuple[int, int, float]] = {}
    for assignment, district_id, reported_at in rows:
        if assignment.incident_id not in first:
            seconds = (assignment.dispatched_at - reported_at).total_seconds()
            first[assignment.incident_id] = (int(district_id), assignment.tier, seconds)
    out: dict[tuple[int, int], list[float]] = {}
    for district_id, tier, seconds in first.values():
        out.setdefault((district_id, tier), []).append(seconds)
    return out
