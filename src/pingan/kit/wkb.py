"""Point geometries encoded straight from coordinate arrays.

Bulk intake writes hundreds of thousands of points at a time; packing the
(E)WKB bytes with numpy is several times faster than building shapely
objects only to serialise them again.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

_WKB_POINT = 1
_EWKB_SRID_FLAG = 0x20000000


def points_wkb(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> list[bytes]:
    """ISO WKB (little-endian) for each point."""
    packed = np.empty(
        len(lon), dtype=[("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")]
    )
    packed["order"] = 1
    packed["kind"] = _WKB_POINT
    packed["x"] = lon
    packed["y"] = lat
    raw = packed.tobytes()
    size = packed.dtype.itemsize
    return [raw[i : i + size] for i in range(0, len(raw), size)]


def points_ewkb_hex(lon: NDArray[np.float64], lat: NDArray[np.float64], srid: int) -> list[str]:
    """PostGIS EWKB with SRID, as hex text (what COPY accepts for a geometry column)."""
    packed = np.empty(
        len(lon),
        dtype=[("order", "u1"), ("kind", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")],
    )
    packed["order"] = 1
    packed["kind"] = _WKB_POINT | _EWKB_SRID_FLAG
    packed["srid"] = srid
    packed["x"] = lon
    packed["y"] = lat
    text = packed.tobytes().hex()
    size = packed.dtype.itemsize * 2
    return [text[i : i + size] for i in range(0, len(text), size)]
