"""Heat maps: a kernel density surface of the selected incidents, and its outputs.

The raster covers the study area and every selected incident, grown by the
kernel's reach, so the surface keeps the incidents' full mass (its integral
equals their count, or their severity sum). Surfaces are cached in-process by
(parameters, caller's scope, data versions), so map tiles of one surface are fast.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS
from sqlalchemy.orm import Session

from pingan.analytics.binning import GridSpec
from pingan.analytics.contours import contour_bands
from pingan.analytics.geotiff import geotiff_bytes
from pingan.analytics.heat import HeatSurface, kde, per_capita
from pingan.analytics.kernels import DEFAULT_GAUSSIAN_SUPPORT, bandwidth_rule, kernel_radius_m
from pingan.analytics.rasters import colourise, encode_png, legend
from pingan.analytics.tiles import mercator_to_lonlat, render_tile
from pingan.incidents.analysis.locations import org_grids
from pingan.incidents.analysis.params import MAX_HEAT_CELLS, HeatParams
from pingan.incidents.analysis.progress import Progress, silent
from pingan.incidents.analysis.selection import Selection, resolve, utc_window
from pingan.incidents.cube import EventCube, load_cube
from pingan.incidents.store import INCIDENTS_VERSION_KEY
from pingan.kit import meta
from pingan.kit.errors import ValidationFailed
from pingan.kit.geo import PolygonIndex, Projector
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.org.service import ORG_VERSION_KEY

FloatArray = npt.NDArray[np.float64]
# Automatic cell size aims at about this many cells over the raster.
AUTO_CELLS = 1_000_000
# The colour ramp tops out at this percentile of the non-empty cells.
VMAX_PERCENTILE = 99.5
# Cells below this share of vmax are transparent: the base map shows through.
TRANSPARENT_SHARE = 0.01
PER_CAPITA = 10_000.0
MAX_CACHED_SURFACES = 8
# Cached surfaces together stay under this many bytes (a 4M-cell surface is 64 MB).
MAX_CACHE_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class HeatMap:
    """A computed surface with everything needed to draw and export it.

    ``surface`` keeps the full mass of the incidents; ``values`` is what is shown
    and exported: the density (or rate) inside the study area, NaN outside it.
    """

    params: HeatParams
    values: FloatArray  # density per km², or incidents per 10,000 residents; north-up
    surface: HeatSurface
    projector: Projector
    epsg: int
    vmin: float
    vmax: float
    units: str
    n_events: int
    selection: dict[str, Any]

    @property
    def grid(self) -> GridSpec:
        return self.surface.grid

    @property
    def transparent_below(self) -> float:
        return max(self.vmax * TRANSPARENT_SHARE, 1e-12)

    @property
    def nbytes(self) -> int:
        return int(self.values.nbytes + self.surface.density.nbytes)

    @property
    def weight_in_area(self) -> float:
        """The integral of the surface over the cells shown (the study area)."""
        shown = np.isfinite(self.values)
        return float(self.surface.density[shown].sum() * self.grid.cell_area_km2)

    def legend(self, steps: int = 5) -> dict[str, Any]:
        stops = legend(
            self.vmin, self.vmax, ramp=self.params.ramp, scale=self.params.scale, steps=steps
        )
        return {
            "vmin": self.vmin,
            "vmax": self.vmax,
            "units": self.units,
            "ramp": self.params.ramp,
            "scale": self.params.scale,
            "transparent_below": self.transparent_below,
            "stops": [{"value": s.value, "colour": s.colour} for s in stops],
        }

    def summary(self) -> dict[str, Any]:
        """What a stored run keeps: the data window, the raster and the legend."""
        g = self.grid
        return {
            "selection": self.selection,
            "n_events": self.n_events,
            "kernel": self.surface.kernel,
            "bandwidth_m": self.surface.bandwidth_m,
            "total_weight": self.surface.total_weight,
            "weight_on_raster": self.surface.weight_on_raster,
            "weight_in_area": self.weight_in_area,
            "raster": {
                "epsg": self.epsg,
                "x_min": g.x_min,
                "y_min": g.y_min,
                "cell_size_m": g.cell_size,
                "columns": g.nx,
                "rows": g.ny,
            },
            "legend": self.legend(),
        }

    def tile(self, z: int, x: int, y: int) -> bytes:
        """A 256 x 256 PNG map tile (z/x/y, Web Mercator) of this surface."""
        projector = self.projector

        def to_grid(mx: FloatArray, my: FloatArray) -> tuple[FloatArray, FloatArray]:
            return projector.to_metric(*mercator_to_lonlat(mx, my))

        try:
            return render_tile(
                self.values,
                self.grid,
                z,
                x,
                y,
                to_grid,
                vmin=self.vmin,
                vmax=self.vmax,
                ramp=self.params.ramp,
                scale=self.params.scale,
                transparent_below=self.transparent_below,
            )
        except ValueError as exc:
            raise ValidationFailed(str(exc), field="z") from None

    def image_png(self) -> bytes:
        """The whole raster as one north-up PNG, one pixel per cell."""
        rgba = colourise(
            self.values,
            vmin=self.vmin,
            vmax=self.vmax,
            ramp=self.params.ramp,
            scale=self.params.scale,
            transparent_below=self.transparent_below,
        )
        return encode_png(rgba)

    def geotiff(self) -> bytes:
        """Float32 GeoTIFF in the city's projected CRS."""
        return geotiff_bytes(self.values, self.grid, epsg=self.epsg)

    def contours(self, levels: list[float] | None = None) -> dict[str, Any]:
        """GeoJSON bands between levels (lon/lat); by default five steps up to vmax."""
        if levels is None:
            if self.vmax <= 0:
                return {"type": "FeatureCollection", "features": [], "units": self.units}
            levels = [self.vmax * f for f in (0.2, 0.4, 0.6, 0.8, 1.0)]
        try:
            doc = contour_bands(
                self.values, self.grid, levels, to_output_crs=self.projector.to_lonlat
            )
        except ValueError as exc:
            raise ValidationFailed(str(exc), field="levels") from None
        doc["units"] = self.units
        return doc


@dataclass(frozen=True)
class _Cached:
    surface: HeatMap
    incidents_version: int
    made_at: float  # _clock()


_clock = time.monotonic  # a name of our own, so a test can move it
_cache_lock = threading.Lock()
_cache: OrderedDict[tuple[Any, ...], _Cached] = OrderedDict()
# One computation per surface at a time: a map view asks for a dozen tiles at once, and
# each would otherwise compute the same surface (a lock per hash bucket, bounded).
_flights = [threading.Lock() for _ in range(32)]


def _cache_key(session: Session, params: HeatParams, actor: Principal) -> tuple[Any, ...]:
    scope = tuple(sorted((g.unit_id, g.path) for g in actor.grants_with(Perm.INCIDENTS_READ)))
    return (
        str(session.get_bind().engine.url),
        actor.is_system,
        scope,
        params.model_dump_json(),
        meta.get_version(session, ORG_VERSION_KEY),
    )


def _usable(hit: _Cached | None, version: int, max_age_s: float) -> bool:
    if hit is None:
        return False
    return hit.incidents_version == version or _clock() - hit.made_at <= max_age_s


def heat_map(
    session: Session,
    params: HeatParams,
    *,
    actor: Principal,
    progress: Progress = silent,
    max_age_s: float = 0.0,
) -> HeatMap:
    """The heat map for ``params`` within the caller's scope (cached while the data stand).

    ``max_age_s`` lets a display (map tiles, their legend) use a surface made at most
    that long ago even if incidents arrived since: during intake every new incident
    would otherwise send each tile back to recomputing the whole surface.
    Analyses and exports keep the default 0: exactly the data as they stand.
    """
    actor.require(Perm.INCIDENTS_READ)
    key = _cache_key(session, params, actor)
    version = meta.get_version(session, INCIDENTS_VERSION_KEY)
    with _cache_lock:
        hit = _cache.get(key)
        if _usable(hit, version, max_age_s):
            _cache.move_to_end(key)
            assert hit is not None
            return hit.surface
    with _flights[hash(key) % len(_flights)]:
        with _cache_lock:  # made by another request while this one waited?
            hit = _cache.get(key)
            if _usable(hit, version, max_age_s):
                assert hit is not None
                return hit.surface
        result = _compute(session, params, actor, progress)
        with _cache_lock:
            _cache[key] = _Cached(result, version, _clock())
            _cache.move_to_end(key)
            while len(_cache) > MAX_CACHED_SURFACES or (
                len(_cache) > 1 and sum(c.surface.nbytes for c in _cache.values()) > MAX_CACHE_BYTES
            ):
                _cache.popitem(last=False)
    return result


def prepare(session: Session, params: HeatParams, *, actor: Principal) -> Selection:
    """Check everything that needs no incidents, the raster's size included when it can be."""
    since, until = utc_window(params)
    selection = resolve(session, params, actor=actor, since=since, until=until)
    if params.bandwidth_rule is None and selection.area_metric is not None:
        # A fixed bandwidth fixes the raster before any incident is read: refuse early.
        reach = kernel_radius_m(params.kernel, params.bandwidth_m, DEFAULT_GAUSSIAN_SUPPORT)
        _raster(selection.area_metric.bounds, reach, params.cell_size_m)
    return selection


def _compute(session: Session, params: HeatParams, actor: Principal, progress: Progress) -> HeatMap:
    selection = prepare(session, params, actor=actor)
    progress(0.1, "loading incidents")
    cube = load_cube(session, selection.cube_filter, actor=actor)
    weights = cube.severity.astype(np.float64) if params.weight == "severity" else None
    bandwidth = _bandwidth(params, cube, weights)
    reach = kernel_radius_m(params.kernel, bandwidth, DEFAULT_GAUSSIAN_SUPPORT)
    grid = _raster(_extent(selection, cube), reach, params.cell_size_m)
    progress(0.4, f"smoothing {len(cube):,} incidents on {grid.nx} x {grid.ny} cells")
    if len(cube):
        surface = kde(
            cube.x, cube.y, grid, bandwidth=bandwidth, kernel=params.kernel, weights=weights
        )
    else:
        surface = HeatSurface(np.zeros(grid.shape), grid, params.kernel, bandwidth, 0.0)
    values, units = surface.density, "incidents per km²"
    if params.weight == "severity":
        units = "severity-weighted incidents per km²"
    if params.per_capita:
        progress(0.7, "population surface")
        population = population_raster(session, selection, grid, actor=actor)
        values = per_capita(surface, population, per=PER_CAPITA)
        units = units.replace("per km²", f"per {PER_CAPITA:,.0f} residents")
    inside = _inside(selection, grid)
    if inside is not None:
        # Shown only within the study area: no heat painted over units the caller cannot see.
        values = np.where(inside, values, np.nan)
    progress(0.9, "colour scale")
    return HeatMap(
        params=params,
        values=values,
        surface=surface,
        projector=selection.projector,
        epsg=_epsg(selection.projector),
        vmin=0.0,
        vmax=_vmax(values),
        units=units,
        n_events=len(cube),
        selection=selection.described,
    )


def _inside(selection: Selection, grid: GridSpec) -> npt.NDArray[np.bool_] | None:
    """Which cells have their centre in the study area; None when no area is known."""
    area = selection.area_metric
    if area is None:
        return None
    cx, cy = np.meshgrid(grid.column_centres(), grid.row_centres())
    shapely.prepare(area)
    out: npt.NDArray[np.bool_] = shapely.contains_xy(area, cx, cy)
    return out


def _bandwidth(params: HeatParams, cube: EventCube, weights: FloatArray | None) -> float:
    if params.bandwidth_rule is None:
        return params.bandwidth_m
    try:
        return bandwidth_rule(
            cube.x, cube.y, params.bandwidth_rule, weights=weights, kernel=params.kernel
        )
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="bandwidth_rule") from None


def _extent(selection: Selection, cube: EventCube) -> tuple[float, float, float, float]:
    boxes = []
    if selection.area_metric is not None:
        boxes.append(selection.area_metric.bounds)
    if len(cube):
        boxes.append((cube.x.min(), cube.y.min(), cube.x.max(), cube.y.max()))
    if not boxes:
        raise ValidationFailed("no boundary and no incidents: nothing to map")
    arr = np.asarray(boxes, dtype=np.float64)
    return (arr[:, 0].min(), arr[:, 1].min(), arr[:, 2].max(), arr[:, 3].max())


def _raster(
    bounds: tuple[float, float, float, float], reach: float, cell_size: float | None
) -> GridSpec:
    """The raster over ``bounds`` grown by the kernel's reach; refused if too big."""
    x0, y0, x1, y1 = bounds[0] - reach, bounds[1] - reach, bounds[2] + reach, bounds[3] + reach
    if cell_size is None:
        # Whole metres, multiples of 5, about AUTO_CELLS cells in all.
        cell_size = max(5.0, 5.0 * math.ceil(math.sqrt((x1 - x0) * (y1 - y0) / AUTO_CELLS) / 5))
    try:
        return GridSpec.from_extent(x0, y0, x1, y1, cell_size, max_cells=MAX_HEAT_CELLS)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="cell_size_m") from None


def _vmax(values: FloatArray) -> float:
    shown = values[np.isfinite(values) & (values > 0)]
    return float(np.percentile(shown, VMAX_PERCENTILE)) if shown.size else 0.0


def _epsg(projector: Projector) -> int:
    code = CRS.from_user_input(projector.crs).to_epsg()
    if code is None:
        raise ValidationFailed(f"the city CRS {projector.crs} has no EPSG code for GeoTIFF")
    return int(code)


def population_raster(
    session: Session, selection: Selection, grid: GridSpec, *, actor: Principal
) -> FloatArray:
    """Residents per raster cell, from the org grids' populations.

    Each grid's residents are shared equally among the cells whose centres fall
    inside it (uniform density within a grid); a grid too small to hold a cell
    centre puts them all in the cell under its representative point. So the
    raster's total is exactly the grids' total.
    """
    grids = org_grids(session, selection, actor=actor)
    if grids.population is None or not np.any(grids.population > 0):
        raise ValidationFailed(
            "no population is recorded for the grids in the study area", field="per_capita"
        )
    population = np.nan_to_num(grids.population, nan=0.0)
    cx, cy = np.meshgrid(grid.column_centres(), grid.row_centres())
    index = PolygonIndex(list(range(len(grids))), list(grids.polygons))
    owner = index.locate(cx.ravel(), cy.ravel())
    inside = owner >= 0
    per_grid = np.bincount(owner[inside], minlength=len(grids))
    raster = np.zeros(grid.nx * grid.ny)
    share = np.divide(population, per_grid, out=np.zeros_like(population), where=per_grid > 0)
    raster[inside] = share[owner[inside]]
    for g in np.flatnonzero(per_grid == 0).tolist():
        point = shapely.point_on_surface(grids.polygons[g])
        row, col = grid.cell_of(np.array([point.x]), np.array([point.y]))
        if row[0] >= 0:
            raster[row[0] * grid.nx + col[0]] += population[g]
    out: FloatArray = raster.reshape(grid.shape)
    return out
