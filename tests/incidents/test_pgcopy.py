"""The binary COPY layout agrees with the ``incidents`` table it writes to."""

from __future__ import annotations

import numpy as np
from sqlalchemy import BigInteger, Float, Integer, SmallInteger

from pingan.incidents import pgcopy
from pingan.incidents.models import Incident
from pingan.kit.db import UTCDateTime

_WIDTH = {BigInteger: 8, Integer: 4, SmallInteger: 2, Float: 8, UTCDateTime: 8}


def _width(column_type: object) -> int:
    for kind, width in _WIDTH.items():
        # Test the narrower integer kinds first: SmallInteger and BigInteger subclass Integer.
        if type(column_type) is kind:
            return width
    for kind, width in _WIDTH.items():
        if isinstance(column_type, kind):
            return width
    raise AssertionError(f"no wire width for {column_type!r}")


def test_every_column_is_written_once() -> None:
    assert sorted(pgcopy.COLUMNS) == sorted(Incident.__table__.columns.keys())
    assert len(set(pgcopy.COLUMNS)) == len(pgcopy.COLUMNS)


def test_fixed_cells_have_the_width_of_their_column_type() -> None:
    table = Incident.__table__
    for name in pgcopy.FIXED_COLUMNS:
        if name == "geom":
            continue
        wire = np.dtype(pgcopy._WIRE_TYPES[name])
        assert wire.itemsize == _width(table.c[name].type), name
        assert wire.byteorder == ">", name  # the protocol is big-endian


def test_one_row_has_the_documented_shape() -> None:
    n = 2
    columns = {name: np.zeros(n, dtype=np.int64) for name in pgcopy.FIXED_COLUMNS}
    columns.update({name: np.zeros(n) for name in ("lon", "lat", "x", "y")})
    columns.update({name: np.array(["ab", None], dtype=object) for name in pgcopy.TEXT_COLUMNS})
    data = pgcopy.encode_rows(columns, 4326)
    fixed = 2 + sum(4 + np.dtype(t).itemsize for t in pgcopy._WIRE_TYPES.values()) + 4 + 25
    first, second = data[: fixed + 4 * 6], data[fixed + 4 * 6 :]
    assert len(second) == fixed + 4 * 4
    assert int.from_bytes(first[:2], "big") == int.from_bytes(second[:2], "big") == 21
    # The text cells close each row: length 2 and "ab", then the NULL marker.
    assert first.endswith(b"\x00\x00\x00\x02ab" * 4)
    assert second.endswith(b"\xff\xff\xff\xff" * 4)
