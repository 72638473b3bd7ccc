"""A cube filter evaluated on the snapshot's segments with numpy masks.

Each condition is the SQL one of ``cube._where`` on the same stored values:
times as integer microseconds (``>=`` since, ``<`` until), type ids with
their subtypes, equality on an org level's column, the scope clause as a
union of level columns, and the area's bounding box on lon/lat followed by
``shapely.contains_xy``. So the rows are exactly those the query returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from pingan.incidents.cube_store import Columns

# The cube's fields, from the snapshot's columns.
OUTPUT = {
    "x": ("x", np.float64),
    "y": ("y", np.float64),
    "t": ("t_us", np.float64),
    "type_id": ("type_id", np.int32),
    "grid_id": ("grid_id", np.int32),
    "severity": ("severity", np.int16),
}


@dataclass(frozen=True)
class Selection:
    since_us: int | None = None
    until_us: int | None = None
    type_ids: tuple[int, ...] | None = None
    unit: tuple[str, int] | None = None  # (level column, org unit id)
    scope: dict[str, list[int]] | None = None  # level column -> unit ids; None: all rows
    area: BaseGeometry | None = None


def select(segments: list[Columns], selection: Selection) -> dict[str, NDArray[Any]]:
    """The cube's arrays for the rows of ``segments`` that ``selection`` keeps."""
    picked = [_rows(seg, selection) for seg in segments]
    counts = [
        len(seg["id"]) if rows is None else len(rows)
        for seg, rows in zip(segments, picked, strict=True)
    ]
    total = sum(counts)
    out: dict[str, NDArray[Any]] = {}
    # Each field is written once into its final array: no per-segment parts to concatenate.
    for field, (column, dtype) in OUTPUT.items():
        target = np.empty(total, dtype=dtype)
        start = 0
        for seg, rows, count in zip(segments, picked, counts, strict=True):
            part, source = target[start : start + count], seg[column]
            if rows is None:
                part[...] = source
            elif source.dtype == dtype:
                np.take(source, rows, out=part, mode="clip")  # indexes are in range
            else:
                part[...] = source[rows]
            start += count
        out[field] = target
    out["t"] /= 1e6  # t_us -> epoch seconds: one rounding, as the server's would be
    return out


def _rows(seg: Columns, sel: Selection) -> NDArray[np.intp] | None:
    """Indexes of the rows kept; None keeps them all."""
    mask = _mask(seg, sel)
    rows = None if mask is None else np.flatnonzero(mask)
    if sel.area is not None:
        lon = seg["lon"] if rows is None else seg["lon"][rows]
        lat = seg["lat"] if rows is None else seg["lat"][rows]
        inside = shapely.contains_xy(sel.area, np.asarray(lon), np.asarray(lat))
        rows = np.flatnonzero(inside) if rows is None else rows[inside]
    return rows


def _mask(seg: Columns, sel: Selection) -> NDArray[np.bool_] | None:
    """None keeps every row (no condition applies)."""
    conds: list[NDArray[np.bool_]] = []
    t = seg["t_us"]
    if sel.since_us is not None:
        conds.append(t >= sel.since_us)
    if sel.until_us is not None:
        conds.append(t < sel.until_us)
    if sel.type_ids is not None:
        conds.append(np.isin(seg["type_id"], np.asarray(sel.type_ids, dtype=np.int32)))
    if sel.unit is not None:
        column, unit_id = sel.unit
        conds.append(seg[column] == unit_id)
    if sel.scope is not None:
        allowed = np.zeros(len(t), dtype=bool)
        for column, ids in sel.scope.items():
            allowed |= np.isin(seg[column], np.asarray(ids, dtype=np.int64))
        conds.append(allowed)
    if sel.area is not None:
        west, south, east, north = sel.area.bounds
        lon, lat = seg["lon"], seg["lat"]
        conds.append((lon >= west) & (lon <= east) & (lat >= south) & (lat <= north))
    if not conds:
        return None
    mask = conds[0]
    for cond in conds[1:]:
        mask &= cond
    return mask
