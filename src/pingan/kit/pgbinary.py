"""Rows of a PostgreSQL query straight into numpy, through binary COPY.

``COPY (SELECT ...) TO STDOUT (FORMAT binary)`` sends a 19-byte header, then
each row as a field count and (length, big-endian value) pairs, then a 2-byte
trailer. When every column is fixed-width and NOT NULL, every row has the
same layout, so numpy views the whole stream as one structured array: no
Python object per row.

Two ways in: ``copy_columns`` for a query whose columns are named by their
PostgreSQL type (it checks the stream against them and hands back one
native-order array per column), and ``copy_records`` / ``iter_copy_records``
for a record layout of big-endian numpy types (the event cube's pulls, which
read raw timestamps and want the records themselves, or bounded chunks).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.dialects import postgresql

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


def record_dtype(fields: Sequence[tuple[str, str]]) -> np.dtype[Any]:
    """The wire layout of one row whose fields are ``(name, big-endian numpy type)``."""
    parts: list[tuple[str, str]] = [("_nfields", ">i2")]
    for name, kind in fields:
        parts += [(f"_{name}_len", ">i4"), (name, kind)]
    return np.dtype(parts)


def row_dtype(columns: Sequence[tuple[str, str]]) -> np.dtype[Any]:
    """The wire layout of one row of ``columns`` (name, PostgreSQL type)."""
    for name, pg_type in columns:
        if pg_type not in PG_TYPES:
            raise ValueError(f"column {name!r}: {pg_type!r} is not a fixed-width type")
    return record_dtype([(name, PG_TYPES[pg_type]) for name, pg_type in columns])


def copy_sql(stmt: Any) -> str:
    """The binary COPY of a SQLAlchemy select, its values inlined."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    return f"COPY ({sql}) TO STDOUT (FORMAT binary)"


def copy_records(dbapi_connection: Any, statement: str, dtype: np.dtype[Any]) -> NDArray[Any]:
    """Stream one binary COPY into a buffer and view it as records, without a copy per row."""
    body = bytearray()
    with dbapi_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for block in copy:
            body += block
    # Skip the header and the -1 trailer; an empty result is the header and trailer alone.
    count = (len(body) - _HEADER - _TRAILER) // dtype.itemsize
    return np.frombuffer(body, dtype=dtype, offset=_HEADER, count=count)


def iter_copy_records(
    dbapi_connection: Any, statement: str, dtype: np.dtype[Any], chunk_rows: int
) -> Iterator[NDArray[Any]]:
    """The records of one binary COPY in chunks of about ``chunk_rows``: memory stays bounded."""
    size = dtype.itemsize
    want = max(1, chunk_rows) * size
    body = bytearray()
    skip = _HEADER
    with dbapi_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for block in copy:
            body += block
            if len(body) - skip >= want:
                count = (len(body) - skip) // size
                yield np.frombuffer(body, dtype=dtype, offset=skip, count=count).copy()
                del body[: skip + count * size]
                skip = 0
    count = max(0, (len(body) - skip - _TRAILER) // size)
    if count:
        yield np.frombuffer(body, dtype=dtype, offset=skip, count=count).copy()


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
