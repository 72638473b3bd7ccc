"""Contour bands and lines of a raster as GeoJSON-shaped dicts (via contourpy).

Values are taken at cell centres. Coordinates are in the raster's CRS unless a
``to_output_crs`` function is given (e.g. to WGS84 lon/lat for RFC 7946 GeoJSON).
Outer rings run anticlockwise and holes clockwise, as RFC 7946 asks.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any, cast

import contourpy
import numpy as np
import numpy.typing as npt

from pingan.analytics._arrays import FloatArray
from pingan.analytics.binning import GridSpec

ToOutputCrs = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]


def _generator(values: npt.ArrayLike, grid: GridSpec, **kwargs: Any) -> contourpy.ContourGenerator:
    raster = np.asarray(values, dtype=np.float64)
    if raster.shape != grid.shape:
        raise ValueError(f"values shape {raster.shape} differs from grid {grid.shape}")
    if min(grid.shape) < 2:
        raise ValueError("contours need a raster of at least 2 x 2 cells")
    # Flip to south-up so y increases with the row index, as contourpy expects.
    z = np.ma.masked_invalid(raster[::-1])
    return contourpy.contour_generator(grid.column_centres(), grid.row_centres()[::-1], z, **kwargs)


def _coords(points: FloatArray, to_output_crs: ToOutputCrs | None) -> list[list[float]]:
    xs, ys = points[:, 0], points[:, 1]
    if to_output_crs is not None:
        xs, ys = to_output_crs(xs, ys)
    out: list[list[float]] = np.column_stack([xs, ys]).tolist()
    return out


def _check_levels(levels: Sequence[float]) -> FloatArray:
    arr = np.asarray(levels, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError("levels must be a non-empty list of finite numbers")
    if np.any(np.diff(arr) <= 0):
        raise ValueError("levels must be strictly increasing")
    return arr


def contour_bands(
    values: npt.ArrayLike,
    grid: GridSpec,
    levels: Sequence[float],
    *,
    to_output_crs: ToOutputCrs | None = None,
) -> dict[str, Any]:
    """A FeatureCollection of MultiPolygons, one per band ``[levels[i], levels[i+1])``.

    The last band is open above (``upper`` is null). Empty bands are omitted.
    """
    bounds = _check_levels(levels)
    gen = _generator(values, grid, fill_type=contourpy.FillType.OuterOffset)
    uppers = [*bounds[1:].tolist(), None]
    features: list[dict[str, Any]] = []
    for lower, upper in zip(bounds.tolist(), uppers, strict=True):
        filled = gen.filled(lower, np.inf if upper is None else upper)
        # OuterOffset fill type: one point array and one ring-offset array per polygon.
        polys = cast(list[FloatArray], filled[0])
        offsets = cast(list[npt.NDArray[np.uint32]], filled[1])
        rings_of_polys = [
            [_coords(pts[start:stop], to_output_crs) for start, stop in itertools.pairwise(off)]
            for pts, off in zip(polys, offsets, strict=True)
        ]
        if not rings_of_polys:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "MultiPolygon", "coordinates": rings_of_polys},
                "properties": {"lower": lower, "upper": upper},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def contour_lines(
    values: npt.ArrayLike,
    grid: GridSpec,
    levels: Sequence[float],
    *,
    to_output_crs: ToOutputCrs | None = None,
) -> dict[str, Any]:
    """A FeatureCollection of MultiLineStrings, one per level that the raster crosses."""
    marks = _check_levels(levels)
    gen = _generator(values, grid, line_type=contourpy.LineType.Separate)
    features: list[dict[str, Any]] = []
    for level in marks.tolist():
        lines = cast(list[FloatArray], gen.lines(level))
        if not lines:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "MultiLineString",
                    "coordinates": [_coords(line, to_output_crs) for line in lines],
                },
                "properties": {"level": level},
            }
        )
    return {"type": "FeatureCollection", "features": features}
