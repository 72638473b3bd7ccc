"""Binning: projected points onto a regular raster, epoch times into steps, lat/lng into H3.

Rasters are north-up: row 0 is the northern edge, column 0 the western edge, the
same orientation as PNG tiles and GeoTIFF. Coordinates are projected metres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from pingan.analytics._arrays import (
    FloatArray,
    IntArray,
    as_float_vector,
    check_positive,
    check_same_length,
)

# 25 million cells is 200 MB per float64 raster; a KDE holds a few of them at once.
DEFAULT_MAX_CELLS = 25_000_000

TimeStep = Literal["hour", "day", "week"]
STEP_SECONDS: dict[str, int] = {"hour": 3_600, "day": 86_400, "week": 604_800}
# 1970-01-01 was a Thursday; weeks start on Monday (ISO 8601), four days later.
_WEEK_ANCHOR_SECONDS = 4 * 86_400


@dataclass(frozen=True)
class GridSpec:
    """A north-up raster: ``nx`` columns by ``ny`` rows of square cells.

    ``x_min``/``y_min`` is the south-west corner in projected metres.
    """

    x_min: float
    y_min: float
    cell_size: float
    nx: int
    ny: int

    @classmethod
    def from_extent(
        cls,
        x_min: float,
        y_min: float,
        x_max: float,
        y_max: float,
        cell_size: float,
        *,
        max_cells: int = DEFAULT_MAX_CELLS,
    ) -> GridSpec:
        """Cover the extent with cells of ``cell_size`` metres; the last row/column may overhang.

        Raises ValueError before allocating anything when the raster would exceed
        ``max_cells``.
        """
        size = check_positive(cell_size, "cell_size")
        bounds = (x_min, y_min, x_max, y_max)
        if not all(math.isfinite(v) for v in bounds):
            raise ValueError(f"extent must be finite, got {bounds}")
        if x_max <= x_min or y_max <= y_min:
            raise ValueError(f"extent is empty: x {x_min}..{x_max}, y {y_min}..{y_max}")
        nx = max(1, math.ceil((x_max - x_min) / size - 1e-9))
        ny = max(1, math.ceil((y_max - y_min) / size - 1e-9))
        check_cell_budget(nx, ny, max_cells)
        return cls(float(x_min), float(y_min), size, nx, ny)

    @classmethod
    def around_points(
        cls,
        x: npt.ArrayLike,
        y: npt.ArrayLike,
        cell_size: float,
        *,
        margin: float = 0.0,
        max_cells: int = DEFAULT_MAX_CELLS,
    ) -> GridSpec:
        """The data's bounding box grown by ``margin`` metres on every side.

        Use a margin of the kernel radius to keep a KDE's full mass on the raster.
        """
        xs = as_float_vector(x, "x")
        ys = as_float_vector(y, "y")
        if xs.size == 0:
            raise ValueError("no points to build a grid around")
        check_same_length("x", xs, "y", ys)
        if margin < 0 or not math.isfinite(margin):
            raise ValueError(f"margin must be finite and >= 0, got {margin!r}")
        pad = max(float(margin), 0.5 * float(cell_size))
        return cls.from_extent(
            float(xs.min()) - pad,
            float(ys.min()) - pad,
            float(xs.max()) + pad,
            float(ys.max()) + pad,
            cell_size,
            max_cells=max_cells,
        )

    @property
    def shape(self) -> tuple[int, int]:
        """Array shape ``(rows, columns)``."""
        return (self.ny, self.nx)

    @property
    def x_max(self) -> float:
        return self.x_min + self.nx * self.cell_size

    @property
    def y_max(self) -> float:
        return self.y_min + self.ny * self.cell_size

    @property
    def cell_area_km2(self) -> float:
        return self.cell_size * self.cell_size / 1e6

    def column_centres(self) -> FloatArray:
        """x of each column's centre, west to east."""
        return self.x_min + (np.arange(self.nx, dtype=np.float64) + 0.5) * self.cell_size

    def row_centres(self) -> FloatArray:
        """y of each row's centre, north to south."""
        return self.y_max - (np.arange(self.ny, dtype=np.float64) + 0.5) * self.cell_size

    def cell_of(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[IntArray, IntArray]:
        """Row and column of each point; -1 for points outside the raster."""
        xs = np.asarray(x, dtype=np.float64)
        ys = np.asarray(y, dtype=np.float64)
        col = np.floor((xs - self.x_min) / self.cell_size)
        row = np.floor((self.y_max - ys) / self.cell_size)
        # NaN compares False, so NaN coordinates fall outside too.
        inside = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        col_i = np.where(inside, col, -1).astype(np.int64)
        row_i = np.where(inside, row, -1).astype(np.int64)
        return row_i, col_i


def check_cell_budget(nx: int, ny: int, max_cells: int = DEFAULT_MAX_CELLS) -> None:
    """Raise ValueError when an ``nx`` x ``ny`` raster is over the memory budget."""
    cells = int(nx) * int(ny)
    if cells > max_cells:
        megabytes = cells * 8 / 1e6
        raise ValueError(
            f"a raster of {nx} x {ny} = {cells:,} cells ({megabytes:,.0f} MB per float64 layer) "
            f"exceeds the limit of {max_cells:,} cells; use larger cells or a smaller extent"
        )


def bin_points(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    grid: GridSpec,
    weights: npt.ArrayLike | None = None,
) -> FloatArray:
    """Sum of weights (or count) of the points in each cell, shape ``grid.shape``.

    Points outside the raster are dropped; the dropped weight is
    ``total - result.sum()``.
    """
    xs = as_float_vector(x, "x", allow_nan=True)
    ys = as_float_vector(y, "y", allow_nan=True)
    check_same_length("x", xs, "y", ys)
    w: FloatArray | None = None
    if weights is not None:
        w = as_float_vector(weights, "weights")
        check_same_length("x", xs, "weights", w)
    col = np.floor((xs - grid.x_min) * (1.0 / grid.cell_size))
    row = np.floor((grid.y_max - ys) * (1.0 / grid.cell_size))
    inside = (col >= 0) & (col < grid.nx) & (row >= 0) & (row < grid.ny)
    if not inside.all():
        col, row = col[inside], row[inside]
        if w is not None:
            w = w[inside]
    flat = row.astype(np.int64) * grid.nx + col.astype(np.int64)
    counts = np.bincount(flat, weights=w, minlength=grid.nx * grid.ny)
    return counts.astype(np.float64, copy=False).reshape(grid.shape)


@dataclass(frozen=True)
class TimeBins:
    """Each event's step index and the start of every step (UTC, datetime64[s])."""

    index: IntArray
    starts: npt.NDArray[np.datetime64]
    step: TimeStep

    @property
    def n_steps(self) -> int:
        return int(self.starts.size)


def to_epoch_seconds(times: npt.ArrayLike) -> IntArray:
    """Epoch seconds from numbers (seconds) or numpy datetime64 of any unit."""
    arr = np.asarray(times)
    if np.issubdtype(arr.dtype, np.datetime64):
        if np.isnat(arr).any():
            raise ValueError("times contain NaT")
        return arr.astype("datetime64[s]").astype(np.int64)
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"times must be epoch seconds or datetime64, got dtype {arr.dtype}")
    values = arr.astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError("times contain NaN or infinite values")
    return np.floor(values).astype(np.int64)


def bin_times(
    times: npt.ArrayLike,
    step: TimeStep,
    *,
    start: npt.ArrayLike | None = None,
    end: npt.ArrayLike | None = None,
    utc_offset_seconds: int = 0,
) -> TimeBins:
    """Assign each time to an hour, day or ISO week (weeks start on Monday).

    Step boundaries are aligned in local time given by a fixed ``utc_offset_seconds``
    (for a city's calendar days; zones with daylight saving need the offset per
    event, which the caller applies before binning). ``start`` (inclusive) and
    ``end`` (exclusive) fix the window; by default it spans the data. Times outside
    the window get index -1.
    """
    if step not in STEP_SECONDS:
        raise ValueError(f"step must be one of {sorted(STEP_SECONDS)}, got {step!r}")
    size = STEP_SECONDS[step]
    anchor = (_WEEK_ANCHOR_SECONDS if step == "week" else 0) - int(utc_offset_seconds)
    secs = to_epoch_seconds(times).ravel()
    if start is None and end is None and secs.size == 0:
        raise ValueError("no times to bin and no window given")
    first_s = int(to_epoch_seconds(start).ravel()[0]) if start is not None else int(secs.min())
    # ``end`` is exclusive: the last step is the one holding the second before it.
    last_s = int(to_epoch_seconds(end).ravel()[0]) - 1 if end is not None else int(secs.max())
    if last_s < first_s:
        raise ValueError("the time window is empty (end is not after start)")
    first = (first_s - anchor) // size
    last = (last_s - anchor) // size
    index = (secs - anchor) // size - first
    n_steps = int(last - first + 1)
    index = np.where((index >= 0) & (index < n_steps), index, -1)
    starts = (np.arange(first, last + 1, dtype=np.int64) * size + anchor).astype("datetime64[s]")
    return TimeBins(index=index.astype(np.int64), starts=starts, step=step)


def bin_space_time(
    cell_index: npt.ArrayLike,
    step_index: npt.ArrayLike,
    n_cells: int,
    n_steps: int,
    weights: npt.ArrayLike | None = None,
) -> FloatArray:
    """A space-time cube ``(n_cells, n_steps)`` of counts (or weight sums).

    Events with a negative cell or step index (outside the raster or window) are dropped.
    """
    cells = np.asarray(cell_index, dtype=np.int64).ravel()
    steps = np.asarray(step_index, dtype=np.int64).ravel()
    check_same_length("cell_index", cells, "step_index", steps)
    if n_cells <= 0 or n_steps <= 0:
        raise ValueError("n_cells and n_steps must be positive")
    check_cell_budget(n_cells, n_steps)
    keep = (cells >= 0) & (cells < n_cells) & (steps >= 0) & (steps < n_steps)
    w = None
    if weights is not None:
        w = as_float_vector(weights, "weights")
        check_same_length("cell_index", cells, "weights", w)
        w = w[keep]
    flat = cells[keep] * n_steps + steps[keep]
    cube = np.bincount(flat, weights=w, minlength=n_cells * n_steps)
    return cube.astype(np.float64, copy=False).reshape(n_cells, n_steps)


def h3_cells(lat: npt.ArrayLike, lng: npt.ArrayLike, resolution: int) -> npt.NDArray[np.uint64]:
    """The H3 (v4) cell of each WGS84 point at ``resolution`` as uint64 ids.

    h3-py has no array entry point, so this is a loop: about 1 s per million points.
    """
    import h3  # local: only this function needs the C extension

    if not 0 <= resolution <= 15:
        raise ValueError(f"H3 resolution must be 0..15, got {resolution}")
    lats = as_float_vector(lat, "lat")
    lngs = as_float_vector(lng, "lng")
    check_same_length("lat", lats, "lng", lngs)
    if np.any(np.abs(lats) > 90) or np.any(np.abs(lngs) > 180):
        raise ValueError("lat must be within ±90 and lng within ±180 degrees")
    to_cell = h3.latlng_to_cell
    out = np.fromiter(
        (
            int(to_cell(a, b, resolution), 16)
            for a, b in zip(lats.tolist(), lngs.tolist(), strict=True)
        ),
        dtype=np.uint64,
        count=lats.size,
    )
    return out


def bin_h3(
    lat: npt.ArrayLike,
    lng: npt.ArrayLike,
    resolution: int,
    weights: npt.ArrayLike | None = None,
) -> tuple[list[str], FloatArray]:
    """Occupied H3 cells (hex strings, sorted) and the count or weight sum in each."""
    cells = h3_cells(lat, lng, resolution)
    w = None if weights is None else as_float_vector(weights, "weights")
    if w is not None:
        check_same_length("lat", cells, "weights", w)
    unique, inverse = np.unique(cells, return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=w, minlength=unique.size).astype(np.float64)
    return [format(int(c), "x") for c in unique], sums
