"""Where a case goes: its grid by location, then up the org tree to the handling level."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.cases.models import CaseCategory
from pingan.kit.errors import ValidationFailed
from pingan.org.levels import LEVEL_ORDER, Level
from pingan.org.models import OrgUnit
from pingan.org.service import grid_locator


@dataclass(frozen=True)
class Route:
    grid: OrgUnit
    unit: OrgUnit
    department: str


def locate_grid(session: Session, lon: float, lat: float) -> OrgUnit:
    locator = grid_locator(session)
    found = locator.locate(np.array([lon]), np.array([lat]))
    grid_id = int(found[0])
    if grid_id < 0:
        raise ValidationFailed("the location is outside every grid of the city", field="lat")
    grid = session.get(OrgUnit, grid_id)
    assert grid is not None
    return grid


def unit_at_level(session: Session, grid: OrgUnit, level: str) -> OrgUnit:
    """The grid's ancestor (or the grid itself) at ``level``."""
    ids = grid.ancestor_ids()
    depth = LEVEL_ORDER.index(Level(level))
    unit = session.get(OrgUnit, ids[min(depth, len(ids) - 1)])
    assert unit is not None
    return unit


def route(session: Session, *, lon: float, lat: float, category: CaseCategory) -> Route:
    grid = locate_grid(session, lon, lat)
    return Route(grid, unit_at_level(session, grid, category.handling_level), category.department)


def parent_unit(session: Session, unit: OrgUnit) -> OrgUnit | None:
    if unit.parent_id is None:
        return None
    return session.scalar(select(OrgUnit).where(OrgUnit.id == unit.parent_id))
