"""Incident rows as PostgreSQL binary COPY data, packed with numpy.

Binary COPY skips the server's text parsing of numbers, times and hex
geometry, and lets the client build every fixed-width cell of a batch in a
few numpy assignments instead of one ``str()`` per cell. The fixed-width
columns come first in the column list, so each row is one numpy record
followed by its four text cells.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain
from typing import Any

import numpy as np
from numpy.typing import NDArray

# timestamptz travels as microseconds since 2000-01-01 UTC.
PG_EPOCH_US = 946_684_800_000_000
HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
TRAILER = b"\xff\xff"
_NULL = b"\xff\xff\xff\xff"
_WKB_POINT_WITH_SRID = 1 | 0x20000000

FIXED_COLUMNS = (
    "id", "type_id", "occurred_at", "reported_at", "geom", "lon", "lat", "x", "y", "severity",
    "grid_id", "community_id", "subdistrict_id", "district_id", "city_id", "created_at",
    "updated_at",
)  # fmt: skip
TEXT_COLUMNS = ("source", "status", "external_id", "summary")
COLUMNS = FIXED_COLUMNS + TEXT_COLUMNS
TIME_COLUMNS = frozenset({"occurred_at", "reported_at", "created_at", "updated_at"})

# The table's column types, big-endian as the protocol wants them.
_WIRE_TYPES = {
    "id": ">i8", "type_id": ">i4", "occurred_at": ">i8", "reported_at": ">i8", "lon": ">f8",
    "lat": ">f8", "x": ">f8", "y": ">f8", "severity": ">i2", "grid_id": ">i4",
    "community_id": ">i4", "subdistrict_id": ">i4", "district_id": ">i4", "city_id": ">i4",
    "created_at": ">i8", "updated_at": ">i8",
}  # fmt: skip


def _record_dtype() -> np.dtype[np.void]:
    fields: list[tuple[str, str]] = [("nfields", ">i2")]
    for name in FIXED_COLUMNS:
        fields.append((f"{name}_len", ">i4"))
        if name == "geom":
            # PostGIS reads EWKB in the byte order its first byte names: little-endian here.
            fields += [("geom_order", "u1"), ("geom_kind", "<u4"), ("geom_srid", "<u4")]
            fields += [("geom_x", "<f8"), ("geom_y", "<f8")]
        else:
            fields.append((name, _WIRE_TYPES[name]))
    return np.dtype(fields)


_RECORD = _record_dtype()
_GEOM_BYTES = 1 + 4 + 4 + 8 + 8


def encode_rows(columns: Mapping[str, NDArray[Any]], srid: int) -> bytes:
    """Binary COPY tuples (no header or trailer) for the columns in ``COLUMNS``.

    Times are epoch microseconds UTC; ``geom`` is built from ``lon``/``lat``.
    """
    n = len(columns["id"])
    records = np.empty(n, dtype=_RECORD)
    records["nfields"] = len(COLUMNS)
    for name in FIXED_COLUMNS:
        if name == "geom":
            records["geom_len"] = _GEOM_BYTES
            records["geom_order"] = 1
            records["geom_kind"] = _WKB_POINT_WITH_SRID
            records["geom_srid"] = srid
            records["geom_x"] = columns["lon"]
            records["geom_y"] = columns["lat"]
            continue
        records[f"{name}_len"] = np.dtype(_WIRE_TYPES[name]).itemsize
        values = columns[name]
        records[name] = values - PG_EPOCH_US if name in TIME_COLUMNS else values
    raw = records.tobytes()
    size = _RECORD.itemsize
    fixed = [raw[i : i + size] for i in range(0, len(raw), size)]
    texts = [
        (vocabulary_cells if name in _FEW_VALUES else text_cells)(columns[name])
        for name in TEXT_COLUMNS
    ]
    return b"".join(chain.from_iterable(zip(fixed, *texts, strict=True)))


# Columns with a handful of distinct values: encode each value once.
_FEW_VALUES = frozenset({"source", "status"})


def vocabulary_cells(values: NDArray[np.object_]) -> list[bytes]:
    """Like ``text_cells``, for a column of few distinct values."""
    items = values.tolist()
    distinct = list(set(items))
    cells = dict(zip(distinct, text_cells(np.array(distinct, dtype=object)), strict=True))
    return [cells[v] for v in items]


def text_cells(values: NDArray[np.object_]) -> list[bytes]:
    """Each value as a length-prefixed UTF-8 cell, or the NULL marker."""
    out: list[bytes] = []
    for value in values.tolist():
        if value is None:
            out.append(_NULL)
        else:
            data = str(value).encode()
            out.append(len(data).to_bytes(4, "big") + data)
    return out
