"""Incident KPIs: counts by type against the previous period and last year, and hotspots.

Changes are tested with the exact conditional test for two Poisson counts
(``reports.stats``), with each period's length as its exposure, so a 31-day
month is fairly compared with a 30-day one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from pingan.incidents.models import Incident, IncidentType
from pingan.incidents.service import _LEVEL_COLUMN, city_zone, scope_clause
from pingan.kit.db import utcnow
from pingan.kit.errors import PinganError
from pingan.org.permissions import Perm
from pingan.reports.kpis.registry import NOT_PERMITTED, KpiContext, KpiDef, KpiValue, register
from pingan.reports.periods import Period
from pingan.reports.stats import CountChange, compare_counts


def _where(ctx: KpiContext, period: Period) -> list[Any]:
    return [
        _LEVEL_COLUMN[ctx.unit.level] == ctx.unit.id,
        Incident.occurred_at >= period.start,
        Incident.occurred_at < period.end,
        scope_clause(ctx.actor, Perm.INCIDENTS_READ),
    ]


def _roots(ctx: KpiContext) -> dict[int, IncidentType]:
    """type id -> its top-level type (a subtype counts under its root)."""
    types = {t.id: t for t in ctx.session.scalars(select(IncidentType))}
    out: dict[int, IncidentType] = {}
    for type_id, node in types.items():
        root = node
        while root.parent_id is not None and root.parent_id in types:
            root = types[root.parent_id]
        out[type_id] = root
    return out


def _counts_by_root(ctx: KpiContext, period: Period) -> dict[str, int]:
    key = f"incidents.by_root.{period.start.isoformat()}.{period.end.isoformat()}"
    if key in ctx.memo:
        return dict(ctx.memo[key])
    roots = _roots(ctx)
    rows = ctx.session.execute(
        select(Incident.type_id, func.count())
        .where(*_where(ctx, period))
        .group_by(Incident.type_id)
    ).all()
    out: dict[str, int] = {}
    for type_id, n in rows:
        code = roots[int(type_id)].code
        out[code] = out.get(code, 0) + int(n)
    ctx.memo[key] = out
    return out


def records_begin(ctx: KpiContext) -> dt.datetime | None:
    """The local midnight of the first day with any incident on record (within scope)."""
    if "incidents.records_begin" not in ctx.memo:
        first = ctx.session.scalar(
            select(func.min(Incident.occurred_at)).where(
                scope_clause(ctx.actor, Perm.INCIDENTS_READ)
            )
        )
        if first is not None:
            local = first.astimezone(city_zone())
            first = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)
        ctx.memo["incidents.records_begin"] = first
    begin: dt.datetime | None = ctx.memo["incidents.records_begin"]
    return begin


def windows(ctx: KpiContext) -> tuple[Period, Period, Period]:
    """This period, the previous one and last year's; a period still running is compared
    to date: with the same number of elapsed days at the start of each baseline."""
    period, previous, last_year = ctx.period, ctx.period.previous(), ctx.period.last_year()
    now = utcnow()
    if period.end <= now:
        return period, previous, last_year
    elapsed = max(now - period.start, dt.timedelta(0))
    days = elapsed.total_seconds() / 86_400

    def cut(p: Period) -> Period:
        return Period(p.kind, f"{p.label} (first {days:.1f} days)", p.start, p.start + elapsed)

    return (
        Period(period.kind, f"{period.label} (to date)", period.start, now),
        cut(previous),
        cut(last_year),
    )


def _change(
    ctx: KpiContext, now: int, before: int, period: Period, baseline: Period
) -> dict[str, Any]:
    begin = records_begin(ctx)
    if begin is None or baseline.start < begin or period.days <= 0:
        # The records do not reach back that far: zero would be a false baseline.
        return {
            "baseline": None, "change": None, "ratio": None, "p_value": None,
            "significant": False, "direction": "no_data",
        }  # fmt: skip
    result: CountChange = compare_counts(
        now, before, current_exposure=period.days, baseline_exposure=baseline.days
    )
    return {
        "baseline": before,
        "change": result.change,
        "ratio": None if result.ratio is None else round(result.ratio, 3),
        "p_value": round(result.p_value, 4),
        "significant": result.significant,
        "direction": result.direction,
    }


def _total(ctx: KpiContext) -> KpiValue:
    if not ctx.actor.can(Perm.INCIDENTS_READ, ctx.unit.path):
        return KpiValue("incidents.total", None, available=False, note=NOT_PERMITTED)
    ids = [
        int(i)
        for i in ctx.session.scalars(
            select(Incident.id).where(*_where(ctx, ctx.period)).order_by(Incident.id)
        )
    ]
    current, previous, last_year = windows(ctx)
    before = sum(_counts_by_root(ctx, previous).values())
    year_ago = sum(_counts_by_root(ctx, last_year).values())
    return KpiValue(
        "incidents.total",
        float(len(ids)),
        breakdown=[
            {"against": "previous", "period": previous.label}
            | _change(ctx, len(ids), before, current, previous),
            {"against": "last_year", "period": last_year.label}
            | _change(ctx, len(ids), year_ago, current, last_year),
        ],
        record_kind="incident",
        records=ids,
    )


def _by_type(ctx: KpiContext) -> KpiValue:
    if not ctx.actor.can(Perm.INCIDENTS_READ, ctx.unit.path):
        return KpiValue("incidents.by_type", None, available=False, note=NOT_PERMITTED)
    current, previous, last_year = windows(ctx)
    now = _counts_by_root(ctx, current)
    before = _counts_by_root(ctx, previous)
    year_ago = _counts_by_root(ctx, last_year)
    names = {t.code: t for t in _roots(ctx).values()}
    rows: list[dict[str, Any]] = []
    for code in sorted(set(now) | set(before) | set(year_ago)):
        n = now.get(code, 0)
        rows.append(
            {
                "type": code,
                "name_en": names[code].name_en,
                "name_zh": names[code].name_zh,
                "count": n,
                "previous": _change(ctx, n, before.get(code, 0), current, previous),
                "last_year": _change(ctx, n, year_ago.get(code, 0), current, last_year),
            }
        )
    rows.sort(key=lambda r: (-r["count"], r["type"]))
    ids = [
        int(i)
        for i in ctx.session.scalars(
            select(Incident.id).where(*_where(ctx, ctx.period)).order_by(Incident.id)
        )
    ]
    return KpiValue(
        "incidents.by_type",
        float(sum(now.values())),
        breakdown=rows,
        record_kind="incident",
        records=ids,
    )


def hotspot_grids(ctx: KpiContext, period: Period) -> dict[int, str]:
    """Grid unit id -> code of the Gi* hot spots (90% or more) over ``period`` in the unit."""
    key = f"hotspots.{period.start.isoformat()}.{period.end.isoformat()}"
    if key not in ctx.memo:
        from pingan.incidents.analysis.hotspots import hotspots

        params = hotspot_params(ctx.unit.id, period)
        ctx.memo[key] = hotspots(ctx.session, params, actor=ctx.actor, sync=True)
    return hot_grids(ctx.memo[key])


def hotspot_params(unit_id: int, period: Period) -> Any:
    from pingan.incidents.analysis.params import HotspotParams

    # Org grids and analytical Gi* p-values: fast, stable, and what the grid workers know.
    return HotspotParams(
        since=period.start, until=period.end, org_unit_id=unit_id, unit="grid", permutations=0
    )


def hot_grids(collection: dict[str, Any]) -> dict[int, str]:
    out: dict[int, str] = {}
    for feature in collection.get("features", []):
        props = feature.get("properties", {})
        if (props.get("class") or 0) > 0 and props.get("unit_id") is not None:
            out[int(props["unit_id"])] = str(props.get("id"))
    return out


def _hotspots(ctx: KpiContext, which: str) -> KpiValue:
    code = f"hotspots.{which}"
    if not ctx.actor.can(Perm.INCIDENTS_READ, ctx.unit.path):
        return KpiValue(code, None, available=False, note=NOT_PERMITTED)
    try:
        now = hotspot_grids(ctx, ctx.period)
        before = hotspot_grids(ctx, ctx.period.previous())
    except PinganError as exc:
        # E.g. a unit of fewer than three grids: no hotspot statistic to speak of.
        return KpiValue(code, None, available=False, note=f"not available: {exc.detail}")
    keep = sorted(set(now) - set(before)) if which == "new" else sorted(set(now) & set(before))
    return KpiValue(
        code,
        float(len(keep)),
        breakdown=[{"grid_id": g, "grid": now[g]} for g in keep],
        record_kind="org_unit",
        records=keep,
    )


register(
    KpiDef(
        "incidents.total", "incidents", "Incidents", "警情总数", "incidents",
        "Incidents that occurred in the unit in the period, with the change against the "
        "previous period and the same period last year (exact conditional Poisson test).",
        _total, higher_is_better=False,
    )
)  # fmt: skip
register(
    KpiDef(
        "incidents.by_type", "incidents", "Incidents by type", "分类警情", "incidents",
        "Incidents per top-level type, each against the previous period and last year.",
        _by_type, higher_is_better=False,
    )
)  # fmt: skip
register(
    KpiDef(
        "hotspots.new", "hotspots", "New hotspots", "新增热点", "grids",
        "Grids that are Gi* hot spots (90% or more) in the period but were not in the "
        "previous one.",
        lambda ctx: _hotspots(ctx, "new"), higher_is_better=False,
    )
)  # fmt: skip
register(
    KpiDef(
        "hotspots.persisting", "hotspots", "Persisting hotspots", "持续热点", "grids",
        "Grids that are Gi* hot spots in both the period and the previous one.",
        lambda ctx: _hotspots(ctx, "persisting"), higher_is_better=False,
    )
)  # fmt: skip
