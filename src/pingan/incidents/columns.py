"""A batch of incidents as numpy columns: the fast path into the table.

Validated API rows, imported files and the synthetic city all become an
``IncidentColumns`` and go through the same ``store`` function, so grid
assignment, idempotency and auditing are the same whatever the source.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

ObjArray = NDArray[np.object_]


@dataclass
class IncidentColumns:
    """Parallel arrays, one entry per incident; times are epoch microseconds UTC."""

    type_id: NDArray[np.int64]
    occurred_us: NDArray[np.int64]
    reported_us: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    severity: NDArray[np.int64]
    source: ObjArray
    status: ObjArray
    external_id: ObjArray
    summary: ObjArray

    def __len__(self) -> int:
        return len(self.type_id)

    def take(self, mask_or_index: NDArray[np.bool_] | NDArray[np.int64]) -> IncidentColumns:
        return IncidentColumns(
            **{name: getattr(self, name)[mask_or_index] for name in self.__dataclass_fields__}
        )

    @classmethod
    def concat(cls, parts: list[IncidentColumns]) -> IncidentColumns:
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return cls.empty()
        return cls(
            **{
                name: np.concatenate([getattr(p, name) for p in parts])
                for name in cls.__dataclass_fields__
            }
        )

    @classmethod
    def empty(cls) -> IncidentColumns:
        return cls.build(
            type_id=[],
            occurred_us=[],
            reported_us=[],
            lon=[],
            lat=[],
            severity=[],
            source=[],
            status=[],
            external_id=[],
            summary=[],
        )

    @classmethod
    def build(cls, **cols: object) -> IncidentColumns:
        return cls(
            type_id=np.asarray(cols["type_id"], dtype=np.int64),
            occurred_us=np.asarray(cols["occurred_us"], dtype=np.int64),
            reported_us=np.asarray(cols["reported_us"], dtype=np.int64),
            lon=np.asarray(cols["lon"], dtype=np.float64),
            lat=np.asarray(cols["lat"], dtype=np.float64),
            severity=np.asarray(cols["severity"], dtype=np.int64),
            source=_objects(cols["source"]),
            status=_objects(cols["status"]),
            external_id=_objects(cols["external_id"]),
            summary=_objects(cols["summary"]),
        )


def _objects(values: object) -> ObjArray:
    if isinstance(values, np.ndarray) and values.dtype == object:
        return values
    seq = list(values)  # type: ignore[call-overload]
    out = np.empty(len(seq), dtype=object)
    out[:] = seq
    return out


def us_to_sql_text(us: NDArray[np.int64]) -> NDArray[np.str_]:
    """Epoch microseconds as SQLAlchemy's SQLite datetime text (naive UTC)."""
    text = np.datetime_as_string(us.astype("datetime64[us]"), unit="us")
    return np.char.replace(text, "T", " ")
