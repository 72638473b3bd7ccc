"""Reading fixed-width rows out of PostgreSQL's binary COPY with numpy.

Binary COPY sends a 19-byte header, then per row a field count and a
(length, value) pair per field, big-endian, then a 2-byte trailer. When every
column is fixed-width and NOT NULL, every row has the same layout, so numpy
can view a whole buffer as records without a Python object per row. Shared by
the direct cube pull (``cube.py``) and the snapshot's sync (``cube_sync.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.dialects import postgresql

from pingan.incidents.pgcopy import PG_EPOCH_US

__all__ = ["PG_EPOCH_US", "copy_rows", "copy_sql", "iter_copy_rows", "row_dtype"]

_HEADER = 19
_TRAILER = 2


def row_dtype(fields: Sequence[tuple[str, str]]) -> np.dtype[Any]:
    """The record of one COPY row whose fields are ``(name, big-endian numpy type)``."""
    parts: list[tuple[str, str]] = [("nfields", ">i2")]
    for name, kind in fields:
        parts += [(f"{name}_len", ">i4"), (name, kind)]
    return np.dtype(parts)


def copy_sql(stmt: Any) -> str:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    return f"COPY ({sql}) TO STDOUT (FORMAT binary)"


def copy_rows(dbapi: Any, statement: str, dtype: np.dtype[Any]) -> NDArray[Any]:
    """Stream one binary COPY into a buffer and view it as rows without a copy per row."""
    body = bytearray()
    with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
        for block in copy:
            body += block
    # Skip the header and the -1 trailer; an empty result is the header and trailer alone.
    count = (len(body) - _HEADER - _TRAILER) // dtype.itemsize
    return np.frombuffer(body, dtype=dtype, offset=_HEADER, count=count)


def iter_copy_rows(
    dbapi: Any, statement: str, dtype: np.dtype[Any], chunk_rows: int
) -> Iterator[NDArray[Any]]:
    """The rows of one binary COPY in chunks of about ``chunk_rows``: memory stays bounded."""
    size = dtype.itemsize
    want = max(1, chunk_rows) * size
    body = bytearray()
    skip = _HEADER
    with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
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
