"""Totals of compound remediation by area, computed from the cases.

A compound counts as remediated when its project case was accepted
(state ``remediated``); its residents then count as benefiting. Cancelled
projects are counted apart and in no other column.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from pingan.governance.compounds_service import (
    CANCELLED,
    COMPLETED,
    IN_PROGRESS,
    PLANNED,
    list_projects,
)
from pingan.org.levels import LEVEL_ORDER, Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal


@dataclass
class AreaTotals:
    unit_id: int
    name: str
    compounds: int = 0
    no_property_management: int = 0
    no_responsible_department: int = 0
    no_self_governance: int = 0
    planned: int = 0
    in_progress: int = 0
    remediated: int = 0
    cancelled: int = 0
    residents_benefiting: int = 0
    steps_done: int = 0
    flagged: int = 0


def totals(
    session: Session, *, actor: Principal, area_level: Level = Level.DISTRICT
) -> list[AreaTotals]:
    """Per area (where the compound lies): projects, flags, progress, residents benefiting."""
    depth = LEVEL_ORDER.index(area_level)
    by_area: dict[int, AreaTotals] = {}
    for project, n in list_projects(session, actor=actor):
        ids = [int(p) for p in project.record.grid_path.strip("/").split("/") if p]
        if len(ids) <= depth:
            continue
        key = ids[depth]
        if key not in by_area:
            unit = session.get(OrgUnit, key)
            by_area[key] = AreaTotals(key, unit.name_zh if unit is not None else str(key))
        t, r, status = by_area[key], project.record, project.status
        if status == CANCELLED:
            t.cancelled += 1
            continue
        t.compounds += 1
        t.no_property_management += r.no_property_management
        t.no_responsible_department += r.no_responsible_department
        t.no_self_governance += r.no_self_governance
        t.planned += status == PLANNED
        t.in_progress += status == IN_PROGRESS
        if status == COMPLETED:
            t.remediated += 1
            t.residents_benefiting += r.residents
        t.steps_done += n
        t.flagged += project.case.supervision_flag
    return [by_area[k] for k in sorted(by_area)]
