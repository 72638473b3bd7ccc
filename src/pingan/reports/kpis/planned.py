"""KPIs read from other domains' statistics: camera health and coverage, mediation, petitions.

Each is computed by the owning domain's own service function, for the org
unit and period asked; this module only picks the unit's figure out of the
answer. Where the domain is not installed (its module or function missing),
the KPI reads "not available: capability not installed" — never a number.
These domains count their own records, so no record ids are listed here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pingan.kit.errors import PinganError
from pingan.reports.kpis.registry import CAPABILITIES, KpiContext, KpiDef, KpiValue, register

CAPABILITIES.update(
    {
        "cameras.health": ("pingan.cameras.health_availability", "availability"),
        "cameras.coverage": ("pingan.cameras.coverage", "coverage_report"),
        "governance.mediation": ("pingan.governance.mediation_stats", "mediation_stats"),
        "governance.petitions": ("pingan.governance.petitions_stats", "statistics"),
    }
)


log = logging.getLogger("pingan.reports")


def _failed(code: str, exc: PinganError) -> KpiValue:
    return KpiValue(code, None, available=False, note=f"not available: {exc.detail}")


def _guarded(
    code: str, compute: Callable[[KpiContext], KpiValue]
) -> Callable[[KpiContext], KpiValue]:
    """Another domain's failure costs its own figure, never the whole briefing."""

    def run(ctx: KpiContext) -> KpiValue:
        try:
            return compute(ctx)
        except PinganError as exc:
            return _failed(code, exc)
        except Exception:
            log.exception("KPI failed in its domain", extra={"kpi": code})
            return KpiValue(
                code, None, available=False, note="not available: the capability failed (logged)"
            )

    return run


def _mediation(ctx: KpiContext) -> KpiValue:
    from pingan.governance.mediation_stats import mediation_stats
    from pingan.incidents.service import city_zone

    code = "governance.mediation_success_rate"
    zone = city_zone()
    start = ctx.period.start.astimezone(zone).date()
    end = ctx.period.end.astimezone(zone).date()
    if end <= start:  # a 24-hour window inside one day
        end = start + (ctx.period.end - ctx.period.start)
    try:
        stats = mediation_stats(
            ctx.session, actor=ctx.actor, start=start, end=end, unit_id=ctx.unit.id
        )
    except PinganError as exc:
        return _failed(code, exc)
    total = stats.total
    note = "" if total.success_rate is not None else "no mediation concluded in the period"
    return KpiValue(
        code,
        None if total.success_rate is None else round(float(total.success_rate), 4),
        note=note,
        breakdown=[
            {
                "concluded": total.concluded,
                "mediated": total.mediated,
                "agreed": total.agreed,
                "partial": total.partial,
                "failed": total.failed,
                "withdrawn": total.withdrawn,
                "median_days": total.median_days,
            }
        ],
    )


def _complaints(ctx: KpiContext) -> KpiValue:
    from sqlalchemy import select

    from pingan.governance.petitions_stats import statistics
    from pingan.org.models import OrgUnit

    code = "governance.complaints_within_deadline"
    try:
        stats: dict[str, Any] = statistics(
            ctx.session, actor=ctx.actor, since=ctx.period.start, until=ctx.period.end
        )
    except PinganError as exc:
        return _failed(code, exc)
    inside = set(
        ctx.session.scalars(select(OrgUnit.id).where(OrgUnit.path.startswith(ctx.unit.path)))
    )
    rows = [u for u in stats.get("units", []) if u["unit_id"] in inside]
    on_time = sum(int(u["on_time"]) for u in rows)
    judged = sum(int(u["decided"]) + int(u["overdue_open"]) for u in rows)
    if not judged:
        return KpiValue(code, None, note="no statutory deadline fell due in the period")
    return KpiValue(
        code,
        round(on_time / judged, 4),
        breakdown=[{"on_time": on_time, "judged": judged, "units": len(rows)}],
    )


def _availability(ctx: KpiContext) -> KpiValue:
    from pingan.cameras.health_availability import GroupBy, availability
    from pingan.org.levels import Level

    code = "cameras.availability"
    try:
        rows = availability(
            ctx.session, actor=ctx.actor, since=ctx.period.start, until=ctx.period.end,
            group_by=GroupBy.AREA, level=Level(ctx.unit.level),
        )  # fmt: skip
    except PinganError as exc:
        return _failed(code, exc)
    row = next((r for r in rows if r.key == str(ctx.unit.id)), None)
    if row is None or row.uptime_pct is None:
        return KpiValue(code, None, note="no camera in the unit reported in the period")
    return KpiValue(
        code,
        round(row.uptime_pct / 100.0, 4),
        breakdown=[
            {
                "cameras": row.cameras,
                "monitored_hours": round(row.monitored_hours, 2),
                "down_hours": round(row.down_hours, 2),
                "outages": row.outages,
                "mttr_minutes": row.mttr_minutes,
            }
        ],
    )


def _coverage(ctx: KpiContext) -> KpiValue:
    # The unit's figure alone: the whole report (classes, every area, key sites)
    # cost about a minute per briefing at full scale, 28 briefings on a busy day.
    from pingan.cameras.coverage import unit_street_coverage

    code = "cameras.street_coverage"
    try:
        found = unit_street_coverage(ctx.session, actor=ctx.actor, unit_id=ctx.unit.id)
    except PinganError as exc:
        return _failed(code, exc)
    if found is None:
        return KpiValue(code, None, note="no street segment in the unit")
    total_m, covered_m = found
    return KpiValue(
        code,
        round(covered_m / total_m, 4) if total_m else 0.0,
        note="the camera network as it stands now",
        breakdown=[{"total_m": round(total_m), "covered_m": round(covered_m)}],
    )


register(
    KpiDef(
        "governance.mediation_success_rate", "governance.mediation", "Mediation success rate",
        "调解成功率", "share",
        "Disputes concluded in the period with an agreement, out of those mediated "
        "(governance.mediation_stats).",
        _guarded("governance.mediation_success_rate", _mediation), higher_is_better=True,
    )
)  # fmt: skip
register(
    KpiDef(
        "governance.complaints_within_deadline", "governance.petitions",
        "Complaints answered in time", "信访按期办结率", "share",
        "Statutory duty clocks of complaints received in the period that stopped in time, out "
        "of those stopped or overdue (governance.petitions_stats).",
        _guarded("governance.complaints_within_deadline", _complaints),
        higher_is_better=True,
    )
)  # fmt: skip
register(
    KpiDef(
        "cameras.availability", "cameras.health", "Camera availability", "视频在线率", "share",
        "Camera uptime in the period, weighted by monitored camera time "
        "(cameras.health_availability).",
        _guarded("cameras.availability", _availability), higher_is_better=True,
    )
)  # fmt: skip
register(
    KpiDef(
        "cameras.street_coverage", "cameras.coverage", "Street coverage", "道路视频覆盖率",
        "share", "Share of street length inside at least one camera's field of view, as the "
        "network stands now (cameras.coverage).",
        _guarded("cameras.street_coverage", _coverage), higher_is_better=True,
    )
)  # fmt: skip
