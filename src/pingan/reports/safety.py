"""The composite safety index per subdistrict or community, with its components and stars.

Each component is scored 0-100 (higher is safer):

* incident rates per 10,000 residents (violent, property, disorder) score
  ``100 * clip(1 - rate / (2 * median), 0, 1)`` against the median of the
  peer units (the same level under the same parent unit) in the current
  period: the median unit scores 50, twice the median or more scores 0;
* shares (cases handled on time, responses within target) score ``100 * share``.

The index is the weighted mean of the components that have data (weights are
renormalised over them); stars are 1 + floor(index / 20), capped at 5. The
previous period is scored against the same medians, so the change is a change
in the unit's own figures, not in its peers'.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pingan.incidents.models import Incident, IncidentType
from pingan.incidents.service import _LEVEL_COLUMN, scope_clause
from pingan.kit.errors import ValidationFailed
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.reports.kpis.registry import KpiContext, capability_available
from pingan.reports.periods import Period

RATE_GROUPS: dict[str, tuple[str, ...]] = {
    "violent": ("robbery", "assault", "fight"),
    "property": ("theft", "burglary", "fraud"),
    "disorder": ("public_order", "dispute"),
}
DEFAULT_WEIGHTS: dict[str, float] = {
    "violent": 0.35,
    "property": 0.25,
    "disorder": 0.10,
    "cases_on_time": 0.15,
    "response": 0.15,
}
LEVELS = ("subdistrict", "community")
PER = 10_000.0


@dataclass
class SafetyRow:
    unit_id: int
    code: str
    name_zh: str
    name_en: str
    population: int | None
    components: dict[str, dict[str, Any]] = field(default_factory=dict)
    index: float | None = None
    stars: int | None = None
    previous_index: float | None = None
    change: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit_id": self.unit_id,
            "code": self.code,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "population": self.population,
            "index": self.index,
            "stars": self.stars,
            "previous_index": self.previous_index,
            "change": self.change,
            "components": self.components,
        }


def parse_weights(raw: Mapping[str, float] | None) -> dict[str, float]:
    weights = dict(DEFAULT_WEIGHTS)
    for name, value in (raw or {}).items():
        if name not in DEFAULT_WEIGHTS:
            raise ValidationFailed(
                f"unknown component {name!r} (known: {', '.join(DEFAULT_WEIGHTS)})",
                field="weights",
            )
        if not 0 <= float(value) <= 100:
            raise ValidationFailed("weights must lie between 0 and 100", field="weights")
        weights[name] = float(value)
    if sum(weights.values()) <= 0:
        raise ValidationFailed("at least one weight must be positive", field="weights")
    return weights


def stars_for(index: float) -> int:
    return int(min(5, 1 + int(index // 20)))


def rate_score(rate: float, median: float) -> float:
    if median <= 0:
        return 100.0 if rate <= 0 else 0.0
    return float(100.0 * np.clip(1.0 - rate / (2.0 * median), 0.0, 1.0))


def _populations(session: Session, units: list[OrgUnit]) -> dict[int, int | None]:
    out: dict[int, int | None] = {}
    for unit in units:
        if unit.population is not None:
            out[unit.id] = unit.population
            continue
        total = session.scalar(
            select(func.sum(OrgUnit.population)).where(
                OrgUnit.path.startswith(unit.path), OrgUnit.level == "grid"
            )
        )
        out[unit.id] = None if total is None else int(total)
    return out


def _group_counts(
    session: Session, actor: Principal, level: str, unit_ids: list[int], period: Period
) -> dict[int, dict[str, int]]:
    types = {t.id: t.code for t in session.scalars(select(IncidentType))}
    column = _LEVEL_COLUMN[level]
    rows = session.execute(
        select(column, Incident.type_id, func.count())
        .where(
            column.in_(unit_ids),
            Incident.occurred_at >= period.start,
            Incident.occurred_at < period.end,
            scope_clause(actor, Perm.INCIDENTS_READ),
        )
        .group_by(column, Incident.type_id)
    ).all()
    out: dict[int, dict[str, int]] = {u: dict.fromkeys(RATE_GROUPS, 0) for u in unit_ids}
    for unit_id, type_id, n in rows:
        root = types[int(type_id)].split(".", 1)[0]
        for group, roots in RATE_GROUPS.items():
            if root in roots:
                out[int(unit_id)][group] += int(n)
    return out


def _shares(
    session: Session, actor: Principal, unit: OrgUnit, period: Period
) -> dict[str, float | None]:
    from pingan.reports.kpis import REGISTRY

    ctx = KpiContext(session=session, actor=actor, unit=unit, period=period)
    out: dict[str, float | None] = {"cases_on_time": None, "response": None}
    if capability_available("cases"):
        value = REGISTRY["cases.on_time_rate"].compute(ctx)
        out["cases_on_time"] = value.value if value.available else None
    if capability_available("dispatch"):
        value = REGISTRY["dispatch.response_within_target"].compute(ctx)
        out["response"] = value.value if value.available else None
    return out


def safety_index(
    session: Session,
    *,
    actor: Principal,
    parent: OrgUnit,
    level: str,
    period: Period,
    weights: Mapping[str, float] | None = None,
) -> list[SafetyRow]:
    """The index of every ``level`` unit under ``parent``, best first."""
    if level not in LEVELS:
        raise ValidationFailed(f"level must be one of {', '.join(LEVELS)}", field="level")
    actor.require(Perm.INCIDENTS_READ, parent.path)
    w = parse_weights(weights)
    units = list(
        session.scalars(
            select(OrgUnit)
            .where(OrgUnit.path.startswith(parent.path), OrgUnit.level == level)
            .order_by(OrgUnit.code)
        )
    )
    if not units:
        raise ValidationFailed(f"{parent.code} holds no {level}", field="level")
    ids = [u.id for u in units]
    population = _populations(session, units)
    previous = period.previous()
    counts_now = _group_counts(session, actor, level, ids, period)
    counts_before = _group_counts(session, actor, level, ids, previous)

    def rate(
        unit_id: int, group: str, counts: dict[int, dict[str, int]], days: float
    ) -> float | None:
        pop = population[unit_id]
        if not pop:
            return None
        # Per 10,000 residents per 30 days, so periods of any length compare.
        return counts[unit_id][group] / pop * PER * 30.0 / days

    medians: dict[str, float] = {}
    for group in RATE_GROUPS:
        values = [r for u in ids if (r := rate(u, group, counts_now, period.days)) is not None]
        medians[group] = float(np.median(values)) if values else 0.0
    rows = []
    for unit in units:
        row = SafetyRow(unit.id, unit.code, unit.name_zh, unit.name_en, population[unit.id])
        scores: dict[str, list[float | None]] = {}
        for label, counts, window in (
            ("now", counts_now, period),
            ("before", counts_before, previous),
        ):
            shares = _shares(session, actor, unit, window)
            for group in RATE_GROUPS:
                value = rate(unit.id, group, counts, window.days)
                score = None if value is None else rate_score(value, medians[group])
                scores.setdefault(group, []).append(score)
                if label == "now":
                    row.components[group] = {
                        "count": counts[unit.id][group],
                        "rate_per_10k_30d": None if value is None else round(value, 3),
                        "peer_median": round(medians[group], 3),
                        "score": None if score is None else round(score, 1),
                        "weight": w[group],
                    }
            for name, share in shares.items():
                score = None if share is None else 100.0 * share
                scores.setdefault(name, []).append(score)
                if label == "now":
                    row.components[name] = {
                        "share": share,
                        "score": None if score is None else round(score, 1),
                        "weight": w[name],
                    }
        row.index = _composite({k: v[0] for k, v in scores.items()}, w)
        row.previous_index = _composite({k: v[1] for k, v in scores.items()}, w)
        if row.index is not None:
            row.stars = stars_for(row.index)
        if row.index is not None and row.previous_index is not None:
            row.change = round(row.index - row.previous_index, 1)
        rows.append(row)
    rows.sort(key=lambda r: (r.index is None, -(r.index or 0.0), r.code))
    return rows


def _composite(scores: Mapping[str, float | None], weights: Mapping[str, float]) -> float | None:
    used = {k: s for k, s in scores.items() if s is not None and weights[k] > 0}
    total = sum(weights[k] for k in used)
    if total <= 0:
        return None
    return round(sum(weights[k] * s for k, s in used.items()) / total, 1)
