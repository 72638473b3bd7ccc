"""Where counts are taken: square cells over the study area, or the org grids.

Each location has an id, a centre and a polygon in metres (city CRS); events
are assigned by position (cells) or by their stored grid (grids). Spatial
weights between locations are built here from the request's neighbour rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from scipy import sparse
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from pingan.analytics.binning import GridSpec, h3_cells
from pingan.analytics.weights import distance_band, knn, queen_contiguity
from pingan.incidents.analysis.params import MAX_LOCATIONS, NeighbourParams
from pingan.incidents.analysis.selection import Selection
from pingan.incidents.cube import EventCube
from pingan.kit.errors import ValidationFailed
from pingan.kit.geo import Projector
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal
from pingan.org.service import list_units

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_PAGE = 1_000


@dataclass(frozen=True)
class Locations:
    """Cells or grids of one analysis, in a fixed order."""

    kind: str  # "cell", "grid" or "h3"
    ids: list[str]
    centres: FloatArray  # (n, 2) metres
    polygons: npt.NDArray[np.object_]  # metres
    grid: GridSpec | None = None  # cells only
    cell_index: IntArray | None = None  # flat raster index -> location, -1 if dropped
    unit_ids: IntArray | None = None  # grids only
    names: list[str] | None = None
    population: FloatArray | None = None
    h3_ids: npt.NDArray[np.uint64] | None = None  # h3 only, sorted
    h3_resolution: int | None = None
    projector: Projector | None = None  # h3 only: events are indexed by lon/lat

    def __len__(self) -> int:
        return len(self.ids)

    def locate(self, cube: EventCube) -> IntArray:
        """Location of each event; -1 for events outside every location."""
        if self.grid is not None and self.cell_index is not None:
            row, col = self.grid.cell_of(cube.x, cube.y)
            flat = np.where(row >= 0, row * self.grid.nx + col, -1)
            out: IntArray = np.where(flat >= 0, self.cell_index[np.maximum(flat, 0)], -1)
            return out
        if self.h3_ids is not None:
            return self._locate_h3(cube)
        assert self.unit_ids is not None
        lookup = np.full(
            int(max(self.unit_ids.max(initial=0), cube.grid_id.max(initial=0))) + 1, -1
        )
        lookup[self.unit_ids] = np.arange(len(self.unit_ids))
        located: IntArray = lookup[cube.grid_id.astype(np.int64)]
        return located

    def _locate_h3(self, cube: EventCube) -> IntArray:
        assert self.h3_ids is not None and self.projector is not None
        assert self.h3_resolution is not None
        if len(cube) == 0:
            return np.empty(0, dtype=np.int64)
        lon, lat = self.projector.to_lonlat(cube.x, cube.y)
        cells = h3_cells(lat, lon, self.h3_resolution)
        pos = np.searchsorted(self.h3_ids, cells)
        pos = np.minimum(pos, len(self.h3_ids) - 1)
        out: IntArray = np.where(self.h3_ids[pos] == cells, pos, -1).astype(np.int64)
        return out

    def counts(self, cube: EventCube) -> FloatArray:
        where = self.locate(cube)
        inside = where >= 0
        out: FloatArray = np.bincount(where[inside], minlength=len(self)).astype(np.float64)
        return out

    def polygons_lonlat(self, projector: Projector) -> npt.NDArray[np.object_]:
        """Polygons in WGS84, coordinates rounded to 1e-7 degrees (about 1 cm)."""

        def to_lonlat(coords: FloatArray) -> FloatArray:
            lon, lat = projector.to_lonlat(coords[:, 0], coords[:, 1])
            rounded: FloatArray = np.column_stack([lon, lat]).round(7)
            return rounded

        out: npt.NDArray[np.object_] = shapely.transform(self.polygons, to_lonlat)
        return out

    def weights(self, rule: NeighbourParams) -> sparse.csr_array:
        n = len(self)
        if n < 3:
            raise ValidationFailed(
                f"only {n} locations in the study area: use smaller cells or a larger area",
                field="cell_size_m" if self.kind == "cell" else "unit",
            )
        if rule.weights == "knn":
            if rule.k >= n:
                raise ValidationFailed(f"k must be below the {n} locations", field="k")
            return knn(self.centres, rule.k)
        if rule.weights == "distance_band":
            band = rule.distance_m or _least_connecting_distance(self.centres)
            return distance_band(self.centres, band)
        if self.grid is not None:
            # Square cells: queen contiguity is the 3 x 3 block around each cell.
            return distance_band(self.centres, self.grid.cell_size * 1.5)
        # Half a metre of slack joins grids whose shared edges are not noded exactly.
        return queen_contiguity(shapely.buffer(self.polygons, 0.5), method="intersects")


def _least_connecting_distance(centres: FloatArray) -> float:
    """The smallest band that gives every location at least one neighbour."""
    distances, _ = cKDTree(centres).query(centres, k=2)
    return float(distances[:, 1].max()) * (1 + 1e-9)


def square_cells(
    area: BaseGeometry | None,
    cell_size: float,
    *,
    fallback_xy: tuple[FloatArray, FloatArray] | None = None,
) -> Locations:
    """Cells of ``cell_size`` metres covering the area (or the events, if no area is known).

    A cell belongs to the study when it overlaps the area's interior.
    """
    if area is not None:
        x0, y0, x1, y1 = area.bounds
    elif fallback_xy is not None and len(fallback_xy[0]):
        xs, ys = fallback_xy
        x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1e-6, ys.max() + 1e-6
    else:
        raise ValidationFailed("no boundary and no incidents: nothing to divide into cells")
    try:
        grid = GridSpec.from_extent(x0, y0, x1, y1, cell_size, max_cells=MAX_LOCATIONS)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="cell_size_m") from None
    cx, cy = np.meshgrid(grid.column_centres(), grid.row_centres())
    half = grid.cell_size / 2
    boxes = shapely.box(cx - half, cy - half, cx + half, cy + half).ravel()
    if area is not None:
        shapely.prepare(area)
        keep = shapely.intersects(area, boxes) & ~shapely.touches(area, boxes)
    else:
        keep = np.ones(boxes.size, dtype=bool)
    cell_index = np.full(boxes.size, -1, dtype=np.int64)
    cell_index[keep] = np.arange(int(keep.sum()))
    flat = np.flatnonzero(keep)
    rows, cols = np.divmod(flat, grid.nx)
    return Locations(
        kind="cell",
        ids=[f"r{r}c{c}" for r, c in zip(rows.tolist(), cols.tolist(), strict=True)],
        centres=np.column_stack([cx.ravel()[keep], cy.ravel()[keep]]),
        polygons=boxes[keep],
        grid=grid,
        cell_index=cell_index,
    )


def h3_hexagons(area: BaseGeometry, resolution: int, projector: Projector) -> Locations:
    """The H3 cells (v4) whose centres fall in the area, with their hexagons in metres."""
    import h3  # the C extension is only needed here

    area_lonlat = projector.geometry_to_lonlat(area)
    cells = sorted(h3.geo_to_cells(area_lonlat, resolution))
    if len(cells) > MAX_LOCATIONS:
        raise ValidationFailed(
            f"{len(cells):,} H3 cells is more than {MAX_LOCATIONS:,}: use a coarser resolution",
            field="h3_resolution",
        )
    ids = np.array([int(c, 16) for c in cells], dtype=np.uint64)
    rings = [[(lng, lat) for lat, lng in h3.cell_to_boundary(c)] for c in cells]
    polygons = np.array(
        [projector.geometry_to_metric(shapely.Polygon(ring)) for ring in rings], dtype=object
    )
    centres = shapely.get_coordinates(shapely.centroid(polygons)).reshape(-1, 2)
    return Locations(
        kind="h3",
        ids=cells,
        centres=centres,
        polygons=polygons,
        h3_ids=ids,
        h3_resolution=resolution,
        projector=projector,
    )


def org_grids(session: Session, selection: Selection, *, actor: Principal) -> Locations:
    """The grid units within the study's org paths (and touching its key site, if any)."""
    units = grid_units(session, actor=actor, paths=selection.unit_paths)
    units = [u for u in units if u.boundary is not None]
    projector = selection.projector
    polygons = np.array(
        [projector.geometry_to_metric(u.boundary) for u in units if u.boundary is not None],
        dtype=object,
    )
    if selection.cube_filter.area is not None and selection.area_metric is not None:
        keep = shapely.intersects(selection.area_metric, polygons)
        units = [u for u, k in zip(units, keep.tolist(), strict=True) if k]
        polygons = polygons[keep]
    if len(units) > MAX_LOCATIONS:
        raise ValidationFailed(f"more than {MAX_LOCATIONS:,} grids", field="unit")
    centroids = shapely.centroid(polygons)
    return Locations(
        kind="grid",
        ids=[u.code for u in units],
        centres=shapely.get_coordinates(centroids).reshape(-1, 2),
        polygons=polygons,
        unit_ids=np.array([u.id for u in units], dtype=np.int64),
        names=[u.name_en for u in units],
        population=np.array(
            [np.nan if u.population is None else u.population for u in units], dtype=np.float64
        ),
    )


def grid_units(
    session: Session, *, actor: Principal, paths: tuple[str, ...] | None
) -> list[OrgUnit]:
    return units_at(session, Level.GRID, actor=actor, paths=paths)


def units_at(
    session: Session, level: Level, *, actor: Principal, paths: tuple[str, ...] | None
) -> list[OrgUnit]:
    """Every unit of ``level`` the caller may read, under one of ``paths`` (None: anywhere)."""
    found: list[OrgUnit] = []
    after: int | None = None
    while True:
        page = list_units(session, principal=actor, level=level, limit=_PAGE, after_id=after)
        found += [u for u in page if paths is None or any(u.path.startswith(p) for p in paths)]
        if len(page) < _PAGE:
            return found
        after = page[-1].id
