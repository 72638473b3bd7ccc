"""Response-time KPIs by tier against the dispatch targets, for any org unit.

Same intervals and targets as ``dispatch.kpis`` (call-to-dispatch, turnout,
travel); here they are computed for the incidents of one unit's subtree, and
"response" is report to on scene for each assignment that arrived.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import select

from pingan.dispatch.assignment_models import Assignment, AssignmentStatus
from pingan.dispatch.kpis import Targets
from pingan.incidents.models import Incident
from pingan.incidents.service import _LEVEL_COLUMN, scope_clause
from pingan.org.permissions import Perm
from pingan.reports.kpis.registry import NOT_PERMITTED, KpiContext, KpiDef, KpiValue, register

# Report to on scene, per tier: police units, quick-response teams, volunteers.
RESPONSE_TARGET_S = {1: 300.0, 2: 600.0, 3: 900.0}


def _stats(values: list[float], target: float) -> dict[str, Any]:
    if not values:
        return {"n": 0, "median_s": None, "p90_s": None, "within_target": None, "target_s": target}
    arr = np.asarray(values)
    return {
        "n": len(values),
        "median_s": round(float(np.median(arr)), 1),
        "p90_s": round(float(np.percentile(arr, 90)), 1),
        "within_target": round(float(np.mean(arr <= target)), 4),
        "target_s": target,
    }


def _response(ctx: KpiContext) -> KpiValue:
    code = "dispatch.response_within_target"
    if not ctx.actor.can(Perm.DISPATCH_READ, ctx.unit.path):
        return KpiValue(code, None, available=False, note=NOT_PERMITTED)
    rows = ctx.session.execute(
        select(Assignment, Incident.reported_at)
        .join(Incident, Incident.id == Assignment.incident_id)
        .where(
            _LEVEL_COLUMN[ctx.unit.level] == ctx.unit.id,
            Assignment.dispatched_at >= ctx.period.start,
            Assignment.dispatched_at < ctx.period.end,
            Assignment.status.not_in([AssignmentStatus.TIMED_OUT, AssignmentStatus.CANCELLED]),
            scope_clause(ctx.actor, Perm.DISPATCH_READ),
        )
        .order_by(Assignment.id)
    ).all()
    targets = Targets()
    by_tier: dict[int, dict[str, list[float]]] = {}
    arrived: list[bool] = []
    ids: list[int] = []
    for assignment, reported_at in rows:
        ids.append(assignment.id)
        bucket = by_tier.setdefault(
            assignment.tier, {"response": [], "call_to_dispatch": [], "turnout": [], "travel": []}
        )
        bucket["call_to_dispatch"].append((assignment.dispatched_at - reported_at).total_seconds())
        if assignment.en_route_at is not None:
            bucket["turnout"].append(
                (assignment.en_route_at - assignment.dispatched_at).total_seconds()
            )
        if assignment.on_scene_at is not None:
            response = (assignment.on_scene_at - reported_at).total_seconds()
            bucket["response"].append(response)
            arrived.append(response <= RESPONSE_TARGET_S.get(assignment.tier, 900.0))
            if assignment.en_route_at is not None:
                bucket["travel"].append(
                    (assignment.on_scene_at - assignment.en_route_at).total_seconds()
                )
    limits = {
        "call_to_dispatch": targets.call_to_dispatch_s,
        "turnout": targets.turnout_s,
        "travel": targets.travel_s,
    }
    breakdown = []
    for tier in sorted(by_tier):
        row: dict[str, Any] = {"tier": tier}
        row["response"] = _stats(by_tier[tier]["response"], RESPONSE_TARGET_S.get(tier, 900.0))
        for name, limit in limits.items():
            row[name] = _stats(by_tier[tier][name], limit)
        breakdown.append(row)
    value = round(float(np.mean(arrived)), 4) if arrived else None
    note = "" if arrived else "no responder arrived on scene in the period"
    return KpiValue(
        code, value, note=note, breakdown=breakdown, record_kind="assignment", records=ids
    )


register(
    KpiDef(
        "dispatch.response_within_target", "dispatch", "Responses within target",
        "按时到场率", "share",
        "Share of assignments that arrived on scene within their tier's target (report to on "
        "scene: tier 1 5 min, tier 2 10 min, tier 3 15 min); by tier with the call-to-dispatch, "
        "turnout and travel intervals against the dispatch targets.",
        _response, higher_is_better=True,
    )
)  # fmt: skip
