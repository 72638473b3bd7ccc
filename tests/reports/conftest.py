"""Hand-counted incidents in the test city, around October 2026, for the KPI tests.

=========  ======================  ==========  ===========  ============
grid       type                    2026-10     2026-09      2025-10
=========  ======================  ==========  ===========  ============
W1         theft.bicycle           12          4            3
E1         burglary.residential    2           6            2
W2         robbery (severity 5)    1           0            0
E2         fight                   3           0            0
=========  ======================  ==========  ===========  ============
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, select

from pingan.incidents import service
from pingan.incidents.models import Incident
from pingan.incidents.service import city_zone
from pingan.kit.db import session_scope
from pingan.org.principal import Principal
from tests.citykit import TestCity, grid_centre

SYSTEM = Principal.system("test")

PLAN: list[tuple[str, str, int, int, int, int | None]] = [
    # grid, type, October 2026, September 2026, October 2025, severity
    ("W1", "theft.bicycle", 12, 4, 3, None),
    ("E1", "burglary.residential", 2, 6, 2, None),
    ("W2", "robbery", 1, 0, 0, 5),
    ("E2", "fight", 3, 0, 0, None),
]


@dataclass
class Planted:
    ids: dict[tuple[str, str], list[int]]  # (grid, "2026-10" | "2026-09" | "2025-10") -> ids

    def october(self, *grids: str) -> list[int]:
        return sorted(i for g in grids for i in self.ids.get((g, "2026-10"), []))


def _rows() -> list[dict[str, object]]:
    zone = city_zone()
    rows: list[dict[str, object]] = []
    for grid, kind, oct26, sep26, oct25, severity in PLAN:
        lon, lat = grid_centre(grid)
        for month, count in (("2026-10", oct26), ("2026-09", sep26), ("2025-10", oct25)):
            year, mon = (int(p) for p in month.split("-"))
            for k in range(count):
                # Spread over the month's days and hours, well inside the month.
                when = dt.datetime(year, mon, 1 + (k * 2) % 27, 9 + k % 10, tzinfo=zone)
                row: dict[str, object] = {
                    "type": kind,
                    "occurred_at": when.isoformat(),
                    "lon": lon + 0.0003 * (k % 7),
                    "lat": lat + 0.0004 * (k % 5),
                    "external_id": f"{grid}-{month}-{k}",
                }
                if severity is not None:
                    row["severity"] = severity
                rows.append(row)
    return rows


@pytest.fixture
def planted(engine: Engine, city: TestCity) -> Planted:
    with session_scope(engine) as session:
        result = service.intake_batch(session, rows=_rows(), actor=SYSTEM)
        assert not result.rejected, result.rejected[:3]
        ids: dict[tuple[str, str], list[int]] = {}
        for incident in session.scalars(select(Incident)):
            grid, month = incident.external_id.split("-", 1)[0], incident.external_id[3:10]
            ids.setdefault((grid, month), []).append(incident.id)
    return Planted(ids)
