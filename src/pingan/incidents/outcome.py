"""Per-row outcome of storing a batch, and the checks that need no database."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from pingan.incidents.columns import IncidentColumns
from pingan.org.permissions import Perm
from pingan.org.principal import Principal

ACCEPTED, DUPLICATE, REJECTED = 0, 1, 2


@dataclass
class StoreOutcome:
    """Per input row: its outcome code, incident id (or -1) and reason."""

    outcome: NDArray[np.int8]
    incident_id: NDArray[np.int64]
    reason: dict[int, tuple[str | None, str]] = field(default_factory=dict)

    @classmethod
    def all_accepted(cls, n: int) -> StoreOutcome:
        return cls(np.full(n, ACCEPTED, np.int8), np.full(n, -1, np.int64))

    @classmethod
    def concat(cls, parts: list[tuple[int, StoreOutcome]]) -> StoreOutcome:
        """Join outcomes of consecutive chunks; each comes with its first row's offset."""
        if not parts:
            return cls.all_accepted(0)
        joined = cls(
            np.concatenate([p.outcome for _, p in parts]),
            np.concatenate([p.incident_id for _, p in parts]),
        )
        for offset, part in parts:
            joined.reason.update({offset + i: why for i, why in part.reason.items()})
        return joined

    def reject(self, index: int, field_name: str | None, why: str) -> None:
        self.outcome[index] = REJECTED
        self.reason[index] = (field_name, why)


def reject_outside(result: StoreOutcome, grid: NDArray[np.int64]) -> None:
    for i in np.flatnonzero(grid < 0):
        result.reject(int(i), "lon", "location is outside every grid of the city")


def check_scope(
    result: StoreOutcome, grid: NDArray[np.int64], paths: dict[int, str], actor: Principal
) -> None:
    if actor.is_system:
        return
    for grid_id in np.unique(grid[(grid >= 0) & (result.outcome == ACCEPTED)]):
        if not actor.can(Perm.INCIDENTS_WRITE, paths[int(grid_id)]):
            for i in np.flatnonzero((grid == grid_id) & (result.outcome == ACCEPTED)):
                result.reject(int(i), "lon", "location is outside your org scope")


def mark_repeats(
    cols: IncidentColumns, result: StoreOutcome, first_row: dict[tuple[str, str], int], offset: int
) -> None:
    """Mark rows whose (source, external_id) came earlier in the batch.

    ``first_row`` carries the keys seen so far across chunks; ``offset`` is
    the batch position of this chunk's first row.
    """
    accepted = result.outcome == ACCEPTED
    keyed = np.flatnonzero(accepted & (cols.external_id != None))  # noqa: E711 (elementwise)
    sources, externals = cols.source[keyed].tolist(), cols.external_id[keyed].tolist()
    for i, source, external in zip(keyed.tolist(), sources, externals, strict=True):
        key = (str(source), str(external))
        first = first_row.setdefault(key, offset + i)
        if first != offset + i:
            result.outcome[i] = DUPLICATE
            result.reason[i] = (None, f"repeats row {first} of this batch")


class AncestorTable:
    """Grid id -> (community, subdistrict, district, city), looked up for whole arrays."""

    def __init__(self, ancestors: dict[int, tuple[int, int, int, int]]) -> None:
        self._keys = np.array(sorted(ancestors), dtype=np.int64)
        self._rows = np.array([ancestors[int(k)] for k in self._keys], dtype=np.int64)
        self._rows = self._rows.reshape(-1, 4)

    def of(self, grid: NDArray[np.int64]) -> NDArray[np.int64]:
        pos = np.searchsorted(self._keys, grid)
        # Every grid here came from the locator, so it is in the table.
        if len(grid) and (pos.max() >= len(self._keys) or np.any(self._keys[pos] != grid)):
            raise KeyError("grid without a full set of ancestors")
        return self._rows[pos]
