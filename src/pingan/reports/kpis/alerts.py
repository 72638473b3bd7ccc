"""Alert KPIs: raised, acknowledged and resolved in the period, and the time to acknowledge.

An alert belongs to the smallest org unit holding its whole area; it counts
for a unit when that org unit lies in the unit's subtree. Acknowledgements
and resolutions are read from the audit log, where every lifecycle change
is recorded with its time.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import select

from pingan.alerts.models import OPEN_STATUSES, Alert
from pingan.kit.audit import AuditEntry
from pingan.org.permissions import Perm
from pingan.reports.kpis.registry import NOT_PERMITTED, KpiContext, KpiDef, KpiValue, register

READ = Perm.INCIDENTS_READ


def _visible(ctx: KpiContext) -> bool:
    return ctx.actor.can(READ, ctx.unit.path)


def _raised(ctx: KpiContext) -> KpiValue:
    if not _visible(ctx):
        return KpiValue("alerts.raised", None, available=False, note=NOT_PERMITTED)
    ids = ctx.session.scalars(
        select(Alert.id)
        .where(
            Alert.org_path.startswith(ctx.unit.path),
            Alert.created_at >= ctx.period.start,
            Alert.created_at < ctx.period.end,
        )
        .order_by(Alert.id)
    ).all()
    return KpiValue("alerts.raised", float(len(ids)), record_kind="alert", records=list(ids))


def _changed(ctx: KpiContext, action: str) -> list[tuple[int, float]]:
    """(alert id, hours since creation) of the unit's alerts changed by ``action`` in the period."""
    rows = ctx.session.execute(
        select(AuditEntry.object_id, AuditEntry.at).where(
            AuditEntry.action == action,
            AuditEntry.object_type == "alert",
            AuditEntry.at >= ctx.period.start,
            AuditEntry.at < ctx.period.end,
        )
    ).all()
    first: dict[int, dt.datetime] = {}
    for object_id, at in rows:
        if object_id is None:
            continue
        alert_id = int(object_id)
        if alert_id not in first or at < first[alert_id]:
            first[alert_id] = at
    if not first:
        return []
    alerts = ctx.session.execute(
        select(Alert.id, Alert.created_at).where(
            Alert.id.in_(first), Alert.org_path.startswith(ctx.unit.path)
        )
    ).all()
    out = []
    for alert_id, created in alerts:
        at = first[int(alert_id)]
        out.append((int(alert_id), (at - created).total_seconds() / 3600))
    return sorted(out)


def _lifecycle(ctx: KpiContext, status: str) -> KpiValue:
    code = f"alerts.{status}"
    if not _visible(ctx):
        return KpiValue(code, None, available=False, note=NOT_PERMITTED)
    changed = _changed(ctx, f"alert.{status}")
    ids = [alert_id for alert_id, _ in changed]
    return KpiValue(code, float(len(ids)), record_kind="alert", records=ids)


def _time_to_acknowledge(ctx: KpiContext) -> KpiValue:
    code = "alerts.time_to_acknowledge_h"
    if not _visible(ctx):
        return KpiValue(code, None, available=False, note=NOT_PERMITTED)
    changed = _changed(ctx, "alert.acknowledged")
    if not changed:
        return KpiValue(code, None, note="no alert was acknowledged in the period")
    hours = np.array([h for _, h in changed])
    return KpiValue(
        code,
        round(float(np.median(hours)), 2),
        breakdown=[
            {"statistic": "median_h", "value": round(float(np.median(hours)), 2)},
            {"statistic": "p90_h", "value": round(float(np.percentile(hours, 90)), 2)},
            {"statistic": "n", "value": len(hours)},
        ],
        record_kind="alert",
        records=[alert_id for alert_id, _ in changed],
    )


def _open(ctx: KpiContext) -> KpiValue:
    if not _visible(ctx):
        return KpiValue("alerts.open", None, available=False, note=NOT_PERMITTED)
    rows = ctx.session.scalars(
        select(Alert)
        .where(
            Alert.org_path.startswith(ctx.unit.path),
            Alert.status.in_(OPEN_STATUSES),
            Alert.created_at < ctx.period.end,
        )
        .order_by(Alert.statistic.desc(), Alert.id)
    ).all()
    return KpiValue(
        "alerts.open",
        float(len(rows)),
        breakdown=[
            {
                "id": a.id,
                "method": a.method,
                "status": a.status,
                "window": f"{a.window_start} – {a.window_end}",
                "observed": a.observed,
                "expected": round(a.expected, 1),
                "types": a.types_list(),
            }
            for a in rows
        ],
        record_kind="alert",
        records=[a.id for a in rows],
    )


register(
    KpiDef(
        "alerts.raised", "alerts", "Alerts raised", "新增预警", "alerts",
        "Early-warning alerts created in the period in the unit.", _raised,
    )
)  # fmt: skip
register(
    KpiDef(
        "alerts.acknowledged", "alerts", "Alerts acknowledged", "已确认预警", "alerts",
        "Alerts first acknowledged in the period (from the audit log).",
        lambda ctx: _lifecycle(ctx, "acknowledged"),
    )
)  # fmt: skip
register(
    KpiDef(
        "alerts.resolved", "alerts", "Alerts resolved", "已处置预警", "alerts",
        "Alerts resolved in the period (from the audit log).",
        lambda ctx: _lifecycle(ctx, "resolved"),
    )
)  # fmt: skip
register(
    KpiDef(
        "alerts.time_to_acknowledge_h", "alerts", "Time to acknowledge (median)",
        "预警确认用时（中位数）", "hours",
        "Median hours from an alert's creation to its first acknowledgement, over the alerts "
        "acknowledged in the period.", _time_to_acknowledge, higher_is_better=False,
    )
)  # fmt: skip
register(
    KpiDef(
        "alerts.open", "alerts", "Open alerts", "未处置预警", "alerts",
        "Alerts created before the period's end that are still new or acknowledged now.",
        _open, higher_is_better=False,
    )
)  # fmt: skip
