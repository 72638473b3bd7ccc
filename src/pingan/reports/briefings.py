"""Briefings: generated from the KPIs and stored analysis runs, archived, versioned, published.

Generating a briefing runs the period's heat map and hotspot analyses as
stored runs (job rows with their parameters and software version), computes
every KPI, draws the charts and maps, and archives a new draft version with
its content and the run ids behind each map. Analysts comment on the draft;
publishing freezes it (a later regeneration makes a new version).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from pingan import __version__
from pingan.kit import audit
from pingan.kit.db import session_scope, utcnow
from pingan.kit.errors import Conflict, NotFound, PinganError, ValidationFailed
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.reports import charts
from pingan.reports.i18n import CLASS_KEYS, LANGUAGES, text
from pingan.reports.kpis import compute_kpis
from pingan.reports.kpis.incidents import hot_grids, hotspot_params
from pingan.reports.models import Briefing, BriefingComment, BriefingStatus
from pingan.reports.periods import BriefingKind, Period, briefing_period
from pingan.reports.render import render_html, render_pdf

Progress = Callable[[float, str], None]
KINDS: tuple[BriefingKind, ...] = ("daily", "weekly", "monthly")
# The figures shown as cards at the top of a briefing, in this order.
KEY_FIGURES = (
    "incidents.total",
    "hotspots.new",
    "hotspots.persisting",
    "alerts.raised",
    "alerts.open",
    "alerts.time_to_acknowledge_h",
    "dispatch.response_within_target",
    "cases.backlog",
    "cases.on_time_rate",
    "cases.overdue",
    "governance.mediation_success_rate",
    "governance.complaints_within_deadline",
    "cameras.availability",
    "cameras.street_coverage",
)
NOTABLE_SEVERITY = 4
LIST_LIMIT = 12


def _silent(fraction: float, message: str = "") -> None:
    del fraction, message


def _unit_in_scope(session: Session, unit_id: int, actor: Principal, perm: str) -> OrgUnit:
    unit = session.get(OrgUnit, unit_id)
    if unit is None or not actor.can(Perm.ORG_READ, unit.path):
        raise NotFound(f"org unit {unit_id} not found", field="unit")
    actor.require(perm, unit.path)
    return unit


def _display(value: float | None, units: str) -> str:
    if value is None:
        return "—"
    if units == "share":
        return f"{value * 100:.1f}%"
    if units in ("hours", "days"):
        return f"{value:.1f}"
    return f"{value:,.0f}"


# --- analysis runs behind the maps ------------------------------------------------

# A printed map needs far fewer cells than an interactive one.
MAP_CELLS = 150_000


def _map_cell_size(unit: OrgUnit) -> float | None:
    if unit.area_km2 is None or unit.area_km2 <= 0:
        return None
    return float(max(10.0, round((unit.area_km2 * 1e6 / MAP_CELLS) ** 0.5)))


def _record_runs(
    engine: Engine, unit: OrgUnit, period: Period, actor: Principal, progress: Progress
) -> tuple[dict[str, int], dict[str, Any], Any, str]:
    """Heat map and hotspots (this and the previous period) as stored, reproducible runs."""
    from pingan.incidents.analysis import heat, hotspots
    from pingan.incidents.analysis.params import HeatParams
    from pingan.incidents.analysis.runs import recorded_run

    runs: dict[str, int] = {}
    memo: dict[str, Any] = {}
    surface = None
    notes = []
    try:
        params = HeatParams(
            since=period.start, until=period.end, org_unit_id=unit.id,
            cell_size_m=_map_cell_size(unit),
        )  # fmt: skip
        with recorded_run(engine, "analysis.heat", params, actor, _silent) as record:
            with session_scope(engine) as session:
                surface = heat.heat_map(session, params, actor=actor)
            record.result = surface.summary()
            runs["heat"] = record.job_id
    except (PinganError, ValueError) as exc:
        notes.append(f"heat map not available: {getattr(exc, 'detail', str(exc))}")
    progress(0.25, "heat map")
    try:
        for name, window in (("hotspots", period), ("hotspots_previous", period.previous())):
            hp = hotspot_params(unit.id, window)
            with recorded_run(engine, "analysis.hotspots", hp, actor, _silent) as record:
                with session_scope(engine) as session:
                    collection = hotspots.hotspots(session, hp, actor=actor, sync=True)
                record.result = collection
                runs[name] = record.job_id
            memo[f"hotspots.{window.start.isoformat()}.{window.end.isoformat()}"] = collection
    except (PinganError, ValueError) as exc:
        # A unit too small for a hotspot statistic still gets its briefing, without that map.
        notes.append(f"hotspot map not available: {getattr(exc, 'detail', str(exc))}")
    progress(0.4, "hotspots")
    note = "; ".join(notes)
    return runs, memo, surface, note


def _base_map(session: Session, unit: OrgUnit, projector: Any, lang: str) -> charts.BaseMap | None:
    from pingan.dispatch.models import RoadEdge, RoadNode

    if unit.boundary is None:
        return None
    children = session.scalars(
        select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.code)
    ).all()
    parts = [
        (c.name_zh if lang == "zh" else c.name_en, c.boundary)
        for c in children
        if c.boundary is not None
    ]
    west, south, east, north = unit.boundary.bounds
    major = ["motorway", "trunk", "primary", "secondary"]
    classes = major if unit.level in ("city", "district") else [*major, "tertiary", "residential"]
    start = aliased(RoadNode)
    rows = session.execute(
        select(RoadEdge.road_class, RoadEdge.geom)
        .join(start, start.id == RoadEdge.from_node_id)
        .where(
            RoadEdge.road_class.in_(classes),
            or_(RoadEdge.oneway.is_(True), RoadEdge.from_node_id < RoadEdge.to_node_id),
            and_(start.lon >= west, start.lon <= east, start.lat >= south, start.lat <= north),
        )
        .limit(30_000)
    ).all()
    roads = [(cls, geom) for cls, geom in rows if geom.intersects(unit.boundary)]
    return charts.BaseMap(projector, unit.boundary, parts, roads)


# --- content ------------------------------------------------------------------------


def _change_dict(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: row[k] for k in ("baseline", "change", "ratio", "p_value", "significant", "direction")
    }


def _notable(session: Session, unit: OrgUnit, period: Period, actor: Principal) -> list[Any]:
    from pingan.incidents.models import Incident, IncidentType
    from pingan.incidents.service import _LEVEL_COLUMN, city_zone, scope_clause

    if not actor.can(Perm.INCIDENTS_READ, unit.path):
        return []
    grid = aliased(OrgUnit)
    rows = session.execute(
        select(Incident, IncidentType, grid)
        .join(IncidentType, IncidentType.id == Incident.type_id)
        .join(grid, grid.id == Incident.grid_id)
        .where(
            _LEVEL_COLUMN[unit.level] == unit.id,
            Incident.occurred_at >= period.start,
            Incident.occurred_at < period.end,
            Incident.severity >= NOTABLE_SEVERITY,
            scope_clause(actor, Perm.INCIDENTS_READ),
        )
        .order_by(Incident.severity.desc(), Incident.occurred_at.desc(), Incident.id)
        .limit(LIST_LIMIT)
    ).all()
    zone = city_zone()
    return [
        {
            "id": i.id,
            "occurred": i.occurred_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            "type_code": t.code,
            "type_zh": t.name_zh,
            "type_en": t.name_en,
            "grid_zh": g.name_zh,
            "grid_en": g.name_en,
            "severity": i.severity,
        }
        for i, t, g in rows
    ]


def build_content(
    engine: Engine,
    *,
    kind: BriefingKind,
    unit: OrgUnit,
    period: Period,
    actor: Principal,
    sensitive: bool,
    lang: str,
    progress: Progress = _silent,
) -> tuple[dict[str, Any], dict[str, int]]:
    """Every figure, list and image of a briefing, and the analysis runs behind its maps."""
    from pingan.incidents.service import city_zone
    from pingan.org.service import require_projector

    runs, memo, surface, maps_note = _record_runs(engine, unit, period, actor, progress)
    t = text(lang)
    with session_scope(engine) as session:
        unit = session.get(OrgUnit, unit.id) or unit
        values = compute_kpis(session, actor=actor, unit=unit, period=period, memo=memo)
        progress(0.6, "key figures")
        by_code = {d.code: (d, v) for d, v in values}
        figures = []
        for code in KEY_FIGURES:
            if code not in by_code:
                continue
            definition, value = by_code[code]
            card: dict[str, Any] = {
                "code": code,
                "title_en": definition.title_en,
                "title_zh": definition.title_zh,
                "value": value.value,
                "display": _display(value.value, definition.units),
                "available": value.available,
                "note": value.note,
                "records": len(value.records),
            }
            if code == "incidents.total" and value.available:
                card["previous"] = _change_dict(value.breakdown[0])
                card["last_year"] = _change_dict(value.breakdown[1])
            figures.append(card)
        by_type_value = by_code["incidents.by_type"][1]
        by_type = by_type_value.breakdown if by_type_value.available else []
        changes = []
        for row in by_type:
            for against in ("previous", "last_year"):
                change = row[against]
                changes.append({**row, "against": against, "change": change})
        changes = [r for r in changes if r["change"]["p_value"] is not None]
        changes.sort(key=lambda r: (not r["change"]["significant"], r["change"]["p_value"]))
        top = [
            {k: r[k] for k in ("type", "name_zh", "name_en", "against", "change")}
            for r in changes
            if r["change"]["change"] != 0
        ][:6]
        grid_names = {
            u.id: u
            for u in session.scalars(
                select(OrgUnit).where(OrgUnit.path.startswith(unit.path), OrgUnit.level == "grid")
            )
        }
        hotspots = {}
        for which in ("new", "persisting"):
            value = by_code[f"hotspots.{which}"][1]
            hotspots[which] = [
                {
                    "id": gid,
                    "code": grid_names[gid].code if gid in grid_names else str(gid),
                    "name_zh": grid_names[gid].name_zh if gid in grid_names else str(gid),
                    "name_en": grid_names[gid].name_en if gid in grid_names else str(gid),
                }
                for gid in value.records
            ]
        alerts_value = by_code["alerts.open"][1]
        cases_value = by_code["cases.overdue"][1]
        images: dict[str, str] = {}
        progress(0.7, "charts and maps")
        labels = {k: t[k] for k in ("this_period", "previous", "last_year", "no_incidents")}
        images["by_type"] = _b64(charts.bar_by_type(by_type, labels=labels, lang=lang))
        base = _base_map(session, unit, require_projector(session), lang)
        if base is not None and surface is not None:
            g = surface.grid
            extent = (g.x_min, g.x_min + g.nx * g.cell_size, g.y_min, g.y_min + g.ny * g.cell_size)
            images["heat"] = _b64(
                charts.heat_map_png(base, surface.values, extent, vmax=surface.vmax,
                                    units=surface.units)
            )  # fmt: skip
        hot_key = f"hotspots.{period.start.isoformat()}.{period.end.isoformat()}"
        if base is not None and hot_key in memo:
            class_labels = {c: t[k] for c, k in CLASS_KEYS.items()} | {0: t["no_hotspots"]}
            images["hotspots"] = _b64(
                charts.hotspot_map_png(base, memo[hot_key], class_labels=class_labels)
            )
        notable = _notable(session, unit, period, actor)
        zone = city_zone()
        content = {
            "kind": kind,
            "sensitive": sensitive,
            "unit": {
                "id": unit.id,
                "code": unit.code,
                "level": unit.level,
                "name_zh": unit.name_zh,
                "name_en": unit.name_en,
            },
            "period": {
                "label": period.label,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "local_start": period.start.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                "local_end": period.end.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            },
            "generated_at": utcnow().astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            "software_version": __version__,
            "key_figures": figures,
            "by_type": by_type,
            "top_changes": top,
            "hotspots": hotspots,
            "hot_grids_now": sorted(hot_grids(memo[hot_key])) if hot_key in memo else [],
            "open_alerts": alerts_value.breakdown[:LIST_LIMIT] if alerts_value.available else None,
            "overdue_cases": cases_value.breakdown[:LIST_LIMIT] if cases_value.available else None,
            "notable_incidents": notable,
            "runs": runs,
            "maps_note": maps_note,
            "images": images,
        }
    return content, runs


def _b64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def generate(
    engine: Engine,
    *,
    kind: BriefingKind,
    unit_id: int,
    day: dt.date,
    actor: Principal,
    sensitive: bool = False,
    lang: str = "zh",
    pdf: bool = False,
    progress: Progress = _silent,
) -> int:
    """Generate and archive a new draft version of a briefing; returns its id."""
    if kind not in KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(KINDS)}", field="kind")
    if lang not in LANGUAGES:
        raise ValidationFailed(f"language must be one of {', '.join(LANGUAGES)}", field="lang")
    period = briefing_period(kind, day, sensitive=sensitive)
    with session_scope(engine) as session:
        unit = _unit_in_scope(session, unit_id, actor, Perm.REPORTS_WRITE)
        session.expunge(unit)
    progress(0.05, f"{kind} briefing for {unit.code}, {period.label}")
    content, runs = build_content(
        engine, kind=kind, unit=unit, period=period, actor=actor, sensitive=sensitive, lang=lang,
        progress=progress,
    )  # fmt: skip
    # Rendered before the write transaction: progress reports write too (SQLite has one writer).
    progress(0.9, "rendering")
    with session_scope(engine) as session:
        version = _next_version(session, kind, unit.id, period)
    content["version"] = version
    content["status"] = BriefingStatus.DRAFT.value
    html = render_html(content, [], lang)
    rendered_pdf = render_pdf(content, [], lang) if pdf else None
    with session_scope(engine) as session:
        if _next_version(session, kind, unit.id, period) != version:
            # Another version was archived meanwhile: this one takes the next number.
            version = content["version"] = _next_version(session, kind, unit.id, period)
            html, rendered_pdf = render_html(content, [], lang), None
        briefing = Briefing(
            kind=kind,
            org_unit_id=unit.id,
            org_path=unit.path,
            period_label=period.label,
            period_start=period.start,
            period_end=period.end,
            sensitive=sensitive,
            version=version,
            status=BriefingStatus.DRAFT.value,
            language=lang,
            params=json.dumps(
                {
                    "kind": kind,
                    "unit": unit.code,
                    "date": day.isoformat(),
                    "sensitive": sensitive,
                    "lang": lang,
                    "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
                    "analysis_runs": runs,
                },
            ),
            content=json.dumps(content, default=str),
            html=html,
            pdf=rendered_pdf,
            created_by=actor.actor,
        )
        session.add(briefing)
        session.flush()
        audit.record(
            session, actor=actor.actor, action="briefing.generate", object_type="briefing",
            object_id=briefing.id,
            detail={"kind": kind, "unit": unit.code, "period": period.label, "version": version,
                    "analysis_runs": runs},
        )  # fmt: skip
        briefing_id = briefing.id
    progress(1.0, "done")
    return briefing_id


def _next_version(session: Session, kind: str, unit_id: int, period: Period) -> int:
    latest = session.scalar(
        select(func.max(Briefing.version)).where(
            Briefing.kind == kind,
            Briefing.org_unit_id == unit_id,
            Briefing.period_start == period.start,
        )
    )
    return int(latest or 0) + 1


# --- the archive ------------------------------------------------------------------------


def get_briefing(
    session: Session, briefing_id: int, *, actor: Principal, perm: str = Perm.REPORTS_READ
) -> Briefing:
    briefing = session.get(Briefing, briefing_id)
    if briefing is None or not actor.can(Perm.REPORTS_READ, briefing.org_path):
        raise NotFound(f"briefing {briefing_id} not found")
    actor.require(perm, briefing.org_path)
    return briefing


def list_briefings(
    session: Session,
    *,
    actor: Principal,
    kind: str | None = None,
    unit_id: int | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Briefing]:
    actor.require(Perm.REPORTS_READ)
    stmt = select(Briefing)
    if not actor.is_system:
        paths = [g.path for g in actor.grants_with(Perm.REPORTS_READ)]
        stmt = stmt.where(or_(*(Briefing.org_path.startswith(p) for p in paths)))
    if kind is not None:
        stmt = stmt.where(Briefing.kind == kind)
    if unit_id is not None:
        stmt = stmt.where(Briefing.org_unit_id == unit_id)
    if status is not None:
        stmt = stmt.where(Briefing.status == status)
    stmt = stmt.order_by(Briefing.period_start.desc(), Briefing.id.desc()).limit(limit)
    return list(session.scalars(stmt.offset(offset)))


def comments_of(session: Session, briefing_id: int) -> list[dict[str, Any]]:
    from pingan.incidents.service import city_zone

    zone = city_zone()
    rows = session.scalars(
        select(BriefingComment)
        .where(BriefingComment.briefing_id == briefing_id)
        .order_by(BriefingComment.id)
    )
    return [
        {
            "id": c.id,
            "section": c.section,
            "author": c.author,
            "body": c.body,
            "at": c.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        }
        for c in rows
    ]


def add_comment(
    session: Session, briefing_id: int, *, body: str, section: str, actor: Principal
) -> BriefingComment:
    """An analyst's comment on a draft; a published briefing takes no more comments."""
    briefing = get_briefing(session, briefing_id, actor=actor, perm=Perm.REPORTS_WRITE)
    text_ = body.strip()
    if not text_:
        raise ValidationFailed("a comment needs some text", field="body")
    if len(text_) > 5000:
        raise ValidationFailed("a comment holds at most 5000 characters", field="body")
    if briefing.status != BriefingStatus.DRAFT:
        raise Conflict(f"briefing {briefing_id} is published; regenerate it to comment")
    comment = BriefingComment(
        briefing_id=briefing.id, section=section or "general", author=actor.username, body=text_
    )
    session.add(comment)
    session.flush()
    _rerender(session, briefing, pdf=False)
    audit.record(
        session, actor=actor.actor, action="briefing.comment", object_type="briefing",
        object_id=briefing.id, detail={"comment_id": comment.id},
    )  # fmt: skip
    return comment


def _rerender(session: Session, briefing: Briefing, *, pdf: bool) -> None:
    content = briefing.content_dict()
    content["status"] = briefing.status
    briefing.content = json.dumps(content, default=str)
    comments = comments_of(session, briefing.id)
    briefing.html = render_html(content, comments, briefing.language)
    # A stored PDF would now be stale; it is rendered again when asked for.
    briefing.pdf = render_pdf(content, comments, briefing.language) if pdf else None


def publish(session: Session, briefing_id: int, *, actor: Principal) -> Briefing:
    """Publish a draft: no more comments; a regeneration makes a new version."""
    briefing = get_briefing(session, briefing_id, actor=actor, perm=Perm.REPORTS_PUBLISH)
    if briefing.status != BriefingStatus.DRAFT:
        raise Conflict(f"briefing {briefing_id} is already published")
    briefing.status = BriefingStatus.PUBLISHED.value
    briefing.published_at = utcnow()
    briefing.published_by = actor.actor
    # Frozen from here on; its PDF is rendered once, when first downloaded.
    _rerender(session, briefing, pdf=False)
    session.flush()
    audit.record(
        session, actor=actor.actor, action="briefing.publish", object_type="briefing",
        object_id=briefing.id, detail={"version": briefing.version},
    )  # fmt: skip
    return briefing


def pdf_of(session: Session, briefing: Briefing) -> bytes:
    """The stored PDF, rendered (and kept) when there is none yet."""
    if briefing.pdf is None:
        content = briefing.content_dict()
        briefing.pdf = render_pdf(content, comments_of(session, briefing.id), briefing.language)
        session.flush()
    return briefing.pdf
