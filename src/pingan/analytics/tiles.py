"""Slippy-map tiles (z/x/y, Web Mercator EPSG:3857) and rendering a raster onto them.

Tile (0, 0) at each zoom is the north-west corner, as in OpenStreetMap and
MapLibre. The renderer samples the raster at each pixel centre (nearest cell),
so any raster CRS works given a function from EPSG:3857 metres to that CRS.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from pingan.analytics._arrays import FloatArray, IntArray
from pingan.analytics.binning import GridSpec
from pingan.analytics.rasters import RampScale, colourise, encode_png

# Half the Web Mercator world width: pi times the WGS84 semi-major axis.
MERCATOR_HALF_WORLD = math.pi * 6_378_137.0
MAX_ZOOM = 24
MAX_LATITUDE = 85.0511287798066

ToGridCrs = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]


def _check_tile(z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_ZOOM:
        raise ValueError(f"zoom must be 0..{MAX_ZOOM}, got {z}")
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise ValueError(f"tile {z}/{x}/{y} does not exist (x and y must be 0..{n - 1})")


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """``(min_x, min_y, max_x, max_y)`` of a tile in EPSG:3857 metres."""
    _check_tile(z, x, y)
    size = 2 * MERCATOR_HALF_WORLD / (1 << z)
    min_x = -MERCATOR_HALF_WORLD + x * size
    max_y = MERCATOR_HALF_WORLD - y * size
    return (min_x, max_y - size, min_x + size, max_y)


def mercator_to_lonlat(mx: npt.ArrayLike, my: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """EPSG:3857 metres to WGS84 degrees (spherical Mercator inverse)."""
    r = 6_378_137.0
    lon = np.degrees(np.asarray(mx, dtype=np.float64) / r)
    lat = np.degrees(2 * np.arctan(np.exp(np.asarray(my, dtype=np.float64) / r)) - math.pi / 2)
    return lon, lat


def lonlat_to_mercator(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS84 degrees to EPSG:3857 metres; latitudes are clamped to the Mercator limit."""
    r = 6_378_137.0
    lam = np.radians(np.asarray(lon, dtype=np.float64))
    phi = np.radians(np.clip(np.asarray(lat, dtype=np.float64), -MAX_LATITUDE, MAX_LATITUDE))
    return r * lam, r * np.log(np.tan(math.pi / 4 + phi / 2))


def tile_bounds_lonlat(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` of a tile in degrees."""
    min_x, min_y, max_x, max_y = tile_bounds(z, x, y)
    lon, lat = mercator_to_lonlat(np.array([min_x, max_x]), np.array([min_y, max_y]))
    return (float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1]))


def lonlat_to_tile(lon: npt.ArrayLike, lat: npt.ArrayLike, z: int) -> tuple[IntArray, IntArray]:
    """Tile column and row holding each point at zoom ``z``."""
    _check_tile(z, 0, 0)
    mx, my = lonlat_to_mercator(lon, lat)
    n = 1 << z
    size = 2 * MERCATOR_HALF_WORLD / n
    tx = np.clip(np.floor((mx + MERCATOR_HALF_WORLD) / size), 0, n - 1).astype(np.int64)
    ty = np.clip(np.floor((MERCATOR_HALF_WORLD - my) / size), 0, n - 1).astype(np.int64)
    return tx, ty


def tiles_covering(
    bounds_3857: tuple[float, float, float, float], z: int
) -> list[tuple[int, int, int]]:
    """Every ``(z, x, y)`` tile that intersects a box in EPSG:3857 metres."""
    _check_tile(z, 0, 0)
    min_x, min_y, max_x, max_y = bounds_3857
    if not (min_x < max_x and min_y < max_y):
        raise ValueError(f"empty bounds {bounds_3857}")
    n = 1 << z
    size = 2 * MERCATOR_HALF_WORLD / n

    def clamp(v: float) -> int:
        return min(max(int(v), 0), n - 1)

    x0 = clamp(math.floor((min_x + MERCATOR_HALF_WORLD) / size))
    x1 = clamp(math.ceil((max_x + MERCATOR_HALF_WORLD) / size) - 1)
    y0 = clamp(math.floor((MERCATOR_HALF_WORLD - max_y) / size))
    y1 = clamp(math.ceil((MERCATOR_HALF_WORLD - min_y) / size) - 1)
    return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def pixel_centres(z: int, x: int, y: int, size: int = 256) -> tuple[FloatArray, FloatArray]:
    """EPSG:3857 coordinates of a tile's pixel centres, each shaped ``(size, size)``."""
    min_x, _, max_x, max_y = tile_bounds(z, x, y)
    step = (max_x - min_x) / size
    offsets = (np.arange(size, dtype=np.float64) + 0.5) * step
    xs = np.broadcast_to(min_x + offsets, (size, size))
    ys = np.broadcast_to((max_y - offsets)[:, None], (size, size))
    return np.ascontiguousarray(xs), np.ascontiguousarray(ys)


def sample_tile(
    values: npt.ArrayLike,
    grid: GridSpec,
    z: int,
    x: int,
    y: int,
    to_grid_crs: ToGridCrs,
    *,
    size: int = 256,
) -> FloatArray:
    """The raster resampled (nearest cell) onto a tile's pixels; NaN off the raster."""
    raster = np.asarray(values, dtype=np.float64)
    if raster.shape != grid.shape:
        raise ValueError(f"values shape {raster.shape} differs from grid {grid.shape}")
    if not 1 <= size <= 4096:
        raise ValueError("tile size must be 1..4096 pixels")
    mx, my = pixel_centres(z, x, y, size)
    gx, gy = to_grid_crs(mx.ravel(), my.ravel())
    row, col = grid.cell_of(gx, gy)
    inside = row >= 0
    out = np.full(row.shape, np.nan)
    out[inside] = raster[row[inside], col[inside]]
    return out.reshape(size, size)


def render_tile(
    values: npt.ArrayLike,
    grid: GridSpec,
    z: int,
    x: int,
    y: int,
    to_grid_crs: ToGridCrs,
    *,
    vmin: float,
    vmax: float,
    ramp: str = "heat",
    scale: RampScale = "linear",
    transparent_below: float | None = None,
    opacity: float = 0.8,
    size: int = 256,
) -> bytes:
    """A PNG tile of the raster on a colour ramp; transparent off the raster and below the floor."""
    sampled = sample_tile(values, grid, z, x, y, to_grid_crs, size=size)
    rgba = colourise(
        sampled,
        vmin=vmin,
        vmax=vmax,
        ramp=ramp,
        scale=scale,
        transparent_below=transparent_below,
        opacity=opacity,
    )
    return encode_png(rgba)
