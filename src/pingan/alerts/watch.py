"""Heightened watch around key sites: rules checked as incidents arrive.

The ``alerts.watch`` job runs every 30 s. It reads the incidents stored since
its last run (by ``created_at``, up to ``LAG`` ago so a batch still being
committed is not half-read; the high-water mark is kept in ``pingan_meta``),
and for each active rule:

* ``proximity``: an incident of the rule's types within ``radius_m`` of a
  site of protection level <= ``max_level`` (or of the rule's one site) raises
  an alert for that site at once;
* ``count``: where new incidents arrived near a site, the count there over the
  last ``window_hours`` is compared with the ``baseline_days`` before (same
  window length, Poisson); an upper tail below ``alpha`` raises an alert.

Alerts go through ``alerts.service.record_signal``, so a site that keeps
firing updates its one open alert instead of flooding the inbox.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from scipy import stats
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pingan.alerts.service import Signal, record_signal
from pingan.alerts.watch_models import WatchKind, WatchRule
from pingan.incidents.models import Incident, IncidentType
from pingan.incidents.service import city_zone
from pingan.kit import audit, jobs, meta
from pingan.kit.db import session_scope, utcnow
from pingan.kit.errors import NotFound, ValidationFailed
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.org.service import city_projector
from pingan.places.models import Place

KIND = "alerts.watch"
MARK_KEY = "alerts.watch.mark"
LAG = dt.timedelta(seconds=30)
# The first run looks back this far, so rules apply to what arrived just before.
FIRST_LOOK_BACK = dt.timedelta(hours=1)
WATCHER = Principal.system("alerts-watch")
MAX_RULES = 500


@dataclass(frozen=True)
class RuleIn:
    name: str
    kind: WatchKind
    incident_types: tuple[str, ...] = ()
    max_level: int = 1
    place_id: int | None = None
    radius_m: float = 300.0
    window_hours: float = 24.0
    baseline_days: int = 28
    alpha: float = 0.01


def _check(session: Session, rule: RuleIn) -> None:
    if not rule.name.strip() or len(rule.name) > 200:
        raise ValidationFailed("name must be 1-200 characters", field="name")
    if not 1 <= rule.max_level <= 5:
        raise ValidationFailed("max_level is 1 (most protected) to 5", field="max_level")
    if not 10 <= rule.radius_m <= 10_000:
        raise ValidationFailed("radius_m is 10 to 10,000", field="radius_m")
    if not 1 <= rule.window_hours <= 24 * 14 or not 7 <= rule.baseline_days <= 365:
        raise ValidationFailed("window 1 h-14 d, baseline 7-365 days", field="window_hours")
    if not 0 < rule.alpha < 0.5:
        raise ValidationFailed("alpha is between 0 and 0.5", field="alpha")
    known = {c for (c,) in session.execute(select(IncidentType.code))}
    for code in rule.incident_types:
        if not any(k == code or k.startswith(code + ".") for k in known):
            raise ValidationFailed(f"unknown incident type {code!r}", field="incident_types")
    if rule.place_id is not None and session.get(Place, rule.place_id) is None:
        raise ValidationFailed(f"key site {rule.place_id} does not exist", field="place_id")


def add_rule(session: Session, rule: RuleIn, *, actor: Principal) -> WatchRule:
    actor.require(Perm.PLACES_WRITE)
    actor.require(Perm.INCIDENTS_WRITE)
    _check(session, rule)
    if len(list_rules(session, actor=actor)) >= MAX_RULES:
        raise ValidationFailed(f"at most {MAX_RULES} watch rules", field="name")
    row = WatchRule(
        name=rule.name.strip(), kind=rule.kind.value, incident_types=list(rule.incident_types),
        max_level=rule.max_level, place_id=rule.place_id, radius_m=rule.radius_m,
        window_hours=rule.window_hours, baseline_days=rule.baseline_days, alpha=rule.alpha,
        created_by=actor.actor,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, actor=actor.actor, action="alerts.watch.rule.add",
                 object_type="watch_rule", object_id=row.id, detail={"name": row.name})  # fmt: skip
    return row


def list_rules(session: Session, *, actor: Principal) -> list[WatchRule]:
    actor.require(Perm.INCIDENTS_READ)
    return list(session.scalars(select(WatchRule).order_by(WatchRule.id)))


def set_active(session: Session, rule_id: int, active: bool, *, actor: Principal) -> WatchRule:
    actor.require(Perm.PLACES_WRITE)
    rule = session.get(WatchRule, rule_id)
    if rule is None:
        raise NotFound(f"watch rule {rule_id} not found")
    rule.active = active
    audit.record(
        session, actor=actor.actor, action="alerts.watch.rule.active",
        object_type="watch_rule", object_id=rule.id, detail={"active": active},
    )  # fmt: skip
    return rule


@dataclass
class WatchReport:
    incidents: int = 0
    signals: int = 0
    alerts_opened: int = 0
    by_rule: dict[int, int] = field(default_factory=dict)


def run_watch(engine: Engine, *, now: dt.datetime | None = None) -> WatchReport:
    """Check the incidents stored since the last run against every active rule."""
    now = now or utcnow()
    report = WatchReport()
    with session_scope(engine) as session:
        until = now - LAG
        mark = meta.get_value(session, MARK_KEY)
        since = dt.datetime.fromisoformat(mark) if mark else until - FIRST_LOOK_BACK
        if until <= since:
            return report
        rules = list(session.scalars(select(WatchRule).where(WatchRule.active.is_(True))))
        projector = city_projector(session, required=False)
        if rules and projector is not None:
            new = _new_incidents(session, since, until)
            report.incidents = len(new["id"])
            if report.incidents:
                codes = _codes(session)
                for rule in rules:
                    fired = _apply(session, rule, new, codes, projector, now, report)
                    report.by_rule[rule.id] = fired
        meta.set_value(session, MARK_KEY, until.isoformat())
    return report


def _codes(session: Session) -> dict[int, str]:
    return {tid: code for tid, code in session.execute(select(IncidentType.id, IncidentType.code))}


def _new_incidents(session: Session, since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
    rows = session.execute(
        select(Incident.id, Incident.type_id, Incident.x, Incident.y, Incident.occurred_at)
        .where(Incident.created_at > since, Incident.created_at <= until)
        .order_by(Incident.id)
    ).all()
    return {
        "id": np.array([r[0] for r in rows], dtype=np.int64),
        "type_id": np.array([r[1] for r in rows], dtype=np.int64),
        "x": np.array([r[2] for r in rows], dtype=np.float64),
        "y": np.array([r[3] for r in rows], dtype=np.float64),
        "at": [r[4] for r in rows],
    }


def _type_ok(rule: WatchRule, type_ids: np.ndarray, codes: dict[int, str]) -> np.ndarray:
    if not rule.incident_types:
        return np.ones(len(type_ids), dtype=bool)
    wanted = {
        tid for tid, code in codes.items()
        if any(code == c or code.startswith(c + ".") for c in rule.incident_types)
    }  # fmt: skip
    return np.isin(type_ids, list(wanted))


def _sites(session: Session, rule: WatchRule) -> list[Place]:
    if rule.place_id is not None:
        place = session.get(Place, rule.place_id)
        return [] if place is None else [place]
    return list(
        session.scalars(
            select(Place).where(Place.protection_level <= rule.max_level).order_by(Place.id)
        )
    )


def _apply(
    session: Session,
    rule: WatchRule,
    new: dict[str, Any],
    codes: dict[int, str],
    projector: Any,
    now: dt.datetime,
    report: WatchReport,
) -> int:
    keep = _type_ok(rule, new["type_id"], codes)
    if not keep.any():
        return 0
    points = shapely.points(new["x"][keep], new["y"][keep])
    ids = new["id"][keep]
    fired = 0
    for site in _sites(session, rule):
        area = projector.geometry_to_metric(site.geom)
        near = shapely.dwithin(area, points, rule.radius_m)
        if not near.any() or site.grid_id is None:
            continue
        signal = (
            _proximity(rule, site, ids[near], now)
            if rule.kind == WatchKind.PROXIMITY
            else _count(session, rule, site, area, codes, now)
        )
        if signal is None:
            continue
        _, created = record_signal(session, signal=signal, actor=WATCHER)
        report.signals += 1
        report.alerts_opened += int(created)
        fired += 1
    return fired


def _day(now: dt.datetime) -> dt.date:
    return now.astimezone(city_zone()).date()


def _proximity(rule: WatchRule, site: Place, ids: np.ndarray, now: dt.datetime) -> Signal:
    assert site.grid_id is not None
    return Signal(
        method="watch.proximity", org_unit_id=site.grid_id, grid_ids=(site.grid_id,),
        window_start=_day(now), window_end=_day(now), statistic=float(len(ids)),
        observed=len(ids), expected=0.0, incident_types=tuple(rule.incident_types),
        extra={"rule_id": rule.id, "rule": rule.name, "site": site.code,
               "protection_level": site.protection_level, "radius_m": rule.radius_m,
               "incident_ids": [int(i) for i in ids[:50]]},
    )  # fmt: skip


def _count(
    session: Session,
    rule: WatchRule,
    site: Place,
    area: Any,
    codes: dict[int, str],
    now: dt.datetime,
) -> Signal | None:
    """Count near the site in the window vs. its baseline: Poisson upper tail."""
    assert site.grid_id is not None
    window = dt.timedelta(hours=rule.window_hours)
    start = now - window - dt.timedelta(days=rule.baseline_days)
    x0, y0, x1, y1 = area.buffer(rule.radius_m).bounds
    rows = session.execute(
        select(Incident.type_id, Incident.x, Incident.y, Incident.occurred_at).where(
            Incident.occurred_at >= start, Incident.occurred_at < now,
            Incident.x.between(x0, x1), Incident.y.between(y0, y1),
        )
    ).all()  # fmt: skip
    if not rows:
        return None
    type_ids = np.array([r[0] for r in rows], dtype=np.int64)
    near = shapely.dwithin(area, shapely.points([r[1] for r in rows], [r[2] for r in rows]),
                           rule.radius_m) & _type_ok(rule, type_ids, codes)  # fmt: skip
    recent = np.array([r[3] >= now - window for r in rows], dtype=bool)
    observed = int((near & recent).sum())
    baseline = int((near & ~recent).sum())
    expected = baseline * (rule.window_hours / (rule.baseline_days * 24.0))
    # Expected is floored at 0.1: with no history, two incidents (at alpha 0.01) are news.
    p = float(stats.poisson.sf(observed - 1, max(expected, 0.1)))
    if observed == 0 or p >= rule.alpha:
        return None
    return Signal(
        method="watch.count", org_unit_id=site.grid_id, grid_ids=(site.grid_id,),
        window_start=_day(now - window), window_end=_day(now), statistic=float(observed),
        observed=observed, expected=round(expected, 3), p_value=p,
        incident_types=tuple(rule.incident_types),
        extra={"rule_id": rule.id, "rule": rule.name, "site": site.code,
               "protection_level": site.protection_level, "radius_m": rule.radius_m,
               "window_hours": rule.window_hours, "baseline_days": rule.baseline_days},
    )  # fmt: skip


@jobs.register(KIND, "Check new incidents against the key-site watch rules")
def _watch_job(engine: Engine, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    report = run_watch(engine)
    return {"incidents": report.incidents, "signals": report.signals,
            "alerts_opened": report.alerts_opened}  # fmt: skip
