"""The common first steps of the location-based analyses (hotspots, emerging).

Everything that can be checked without reading incidents is checked here,
including the number of locations, so bad parameters fail before any work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import shapely
from sqlalchemy.orm import Session

from pingan.incidents.analysis.locations import (
    Locations,
    h3_hexagons,
    org_grids,
    square_cells,
)
from pingan.incidents.analysis.params import Filters, Unit
from pingan.incidents.analysis.selection import Selection, resolve
from pingan.incidents.cube import EventCube, load_cube
from pingan.kit.errors import ValidationFailed
from pingan.org.principal import Principal


@dataclass(frozen=True)
class Study:
    selection: Selection
    locations: Locations | None  # None until the incidents give the extent (no boundary known)
    unit: Unit = "cell"
    h3_resolution: int = 8


def prepare_study(
    session: Session,
    filters: Filters,
    *,
    unit: Unit,
    cell_size_m: float,
    actor: Principal,
    since: dt.datetime | None,
    until: dt.datetime | None,
    h3_resolution: int = 8,
) -> Study:
    selection = resolve(session, filters, actor=actor, since=since, until=until)
    if unit == "grid":
        return Study(selection, org_grids(session, selection, actor=actor), unit)
    if selection.area_metric is None:
        return Study(selection, None, unit, h3_resolution)
    if unit == "h3":
        hexes = h3_hexagons(selection.area_metric, h3_resolution, selection.projector)
        return Study(selection, hexes, unit, h3_resolution)
    return Study(selection, square_cells(selection.area_metric, cell_size_m), unit)


def load(
    session: Session, study: Study, *, cell_size_m: float, actor: Principal
) -> tuple[EventCube, Locations]:
    cube = load_cube(session, study.selection.cube_filter, actor=actor)
    locations = study.locations
    if locations is None and study.unit == "h3":
        extent = shapely.box(*_extent(cube))
        locations = h3_hexagons(extent, study.h3_resolution, study.selection.projector)
    elif locations is None:
        locations = square_cells(None, cell_size_m, fallback_xy=(cube.x, cube.y))
    return cube, locations


def _extent(cube: EventCube) -> tuple[float, float, float, float]:
    if len(cube) == 0:
        raise ValidationFailed("no boundary and no incidents: nothing to divide into cells")
    return (float(cube.x.min()), float(cube.y.min()), float(cube.x.max()), float(cube.y.max()))
