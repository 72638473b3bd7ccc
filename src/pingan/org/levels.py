"""The administrative levels, from the whole city down to the grid."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    SUBDISTRICT = "subdistrict"
    COMMUNITY = "community"
    GRID = "grid"

    @property
    def depth(self) -> int:
        return LEVEL_ORDER.index(self)

    @property
    def child(self) -> Level | None:
        i = self.depth + 1
        return LEVEL_ORDER[i] if i < len(LEVEL_ORDER) else None

    @property
    def parent(self) -> Level | None:
        return LEVEL_ORDER[self.depth - 1] if self.depth > 0 else None


LEVEL_ORDER: list[Level] = [
    Level.CITY,
    Level.DISTRICT,
    Level.SUBDISTRICT,
    Level.COMMUNITY,
    Level.GRID,
]
