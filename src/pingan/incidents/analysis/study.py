"""The common first steps of the location-based analyses (hotspots, emerging).

Everything that can be checked without reading incidents is checked here,
including the number of locations, so bad parameters fail before any work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from pingan.incidents.analysis.locations import Locations, org_grids, square_cells
from pingan.incidents.analysis.params import Filters, Unit
from pingan.incidents.analysis.selection import Selection, resolve
from pingan.incidents.cube import EventCube, load_cube
from pingan.org.principal import Principal


@dataclass(frozen=True)
class Study:
    selection: Selection
    locations: Locations | None  # None until the incidents give the extent (no boundary known)


def prepare_study(
    session: Session,
    filters: Filters,
    *,
    unit: Unit,
    cell_size_m: float,
    actor: Principal,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> Study:
    selection = resolve(session, filters, actor=actor, since=since, until=until)
    if unit == "grid":
        return Study(selection, org_grids(session, selection, actor=actor))
    if selection.area_metric is None:
        return Study(selection, None)
    return Study(selection, square_cells(selection.area_metric, cell_size_m))


def load(
    session: Session, study: Study, *, cell_size_m: float, actor: Principal
) -> tuple[EventCube, Locations]:
    cube = load_cube(session, study.selection.cube_filter, actor=actor)
    locations = study.locations
    if locations is None:
        locations = square_cells(None, cell_size_m, fallback_xy=(cube.x, cube.y))
    return cube, locations
