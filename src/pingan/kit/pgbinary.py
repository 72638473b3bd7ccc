"""Columns of a PostgreSQL query straight into numpy, through binary COPY.

``COPY (SELECT ...) TO STDOUT (FORMAT binary)`` sends each row as a field
count and (length, big-endian value) pairs. When every column is fixed-width
and NOT NULL, every row has the same layout, so numpy views the whole stream
as one structured array: no Python object per row. The caller casts each
column in the query to the type it names here (``int8``, ``int4``,
``float8``...) and coalesces NULLs away; a stream that does not fit the
layout is refused rather than misread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

# Signature (11 bytes), flags (4) and header extension length (4), all zero-extension.
_HEADER = 19
_TRAILER = 2  # int16 -1

# PostgreSQL type name -> big-endian numpy type of its binary send format.
PG_TYPES = {
    "int2": ">i2",
    "int4": ">i4",
    "int8": ">i8",
    "float4": ">f4",
    "float8": ">f8",
    "bool": "?",
}


def row_dtype(columns: Sequence[tuple[str, str]]) -> np.dtype[Any]:
    """The wire layout of one row of ``columns`` (name, PostgreSQL type)."""
    fields: list[tuple[str, str]] = [("_nfields", ">i2")]
    for name, pg_type in columns:
        if pg_type not in PG_TYPES:
            raise ValueError(f"column {name!r}: {pg_type!r} is not a fixed-width type")
        fields += [(f"_{name}_len", ">i4"), (name, PG_TYPES[pg_type])]
    return np.dtype(fields)


def copy_columns(
    dbapi_connection: Any, select_sql: str, columns: Sequence[tuple[str, str]]
) -> dict[str, NDArray[Any]]:
    """Run ``select_sql`` through binary COPY; one native-order array per column.

    ``dbapi_connection`` is a psycopg 3 connection (the session's, so the rows
    are those its transaction sees).
    """
    dtype = row_dtype(columns)
    body = bytearray()
    statement = f"COPY ({select_sql}) TO STDOUT (FORMAT binary)"
    with dbapi_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for block in copy:
            body += block
    payload = len(body) - _HEADER - _TRAILER
    if payload < 0 or payload % dtype.itemsize:
        raise ValueError("binary COPY rows do not match the expected columns (a NULL, or a type)")
    rows = np.frombuffer(body, dtype=dtype, offset=_HEADER, count=payload // dtype.itemsize)
    if len(rows) and (
        np.any(rows["_nfields"] != len(columns))
        or any(
            np.any(rows[f"_{name}_len"] != np.dtype(PG_TYPES[t]).itemsize) for name, t in columns
        )
    ):
        raise ValueError("binary COPY rows do not match the expected columns (a NULL, or a type)")
    return {name: rows[name].astype(rows[name].dtype.newbyteorder("=")) for name, _ in columns}
