"""A small hand-built city whose geometry every test can reason about.

Around (120.0 E, 30.0 N). The city is a 4 km x 2 km rectangle split into
two districts (west and east), each with one subdistrict and one community
split into two grids, so there are four 1 km x 2 km... grids:

    lon 120.00-120.01  grid W1   |  lon 120.02-120.03  grid E1
    lon 120.01-120.02  grid W2   |  lon 120.03-120.04  grid E2

all spanning lat 30.00-30.02.
"""

from __future__ import annotations

from dataclasses import dataclass

from shapely import box
from sqlalchemy.orm import Session

from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal
from pingan.org.service import UnitSpec, add_units

LAT0, LAT1 = 30.00, 30.02


@dataclass
class TestCity:
    __test__ = False  # not a test class, despite the name

    units: dict[str, int]

    def id(self, code: str) -> int:
        return self.units[code]


def grid_centre(code: str) -> tuple[float, float]:
    """A point well inside the named grid."""
    west = {"W1": 120.00, "W2": 120.01, "E1": 120.02, "E2": 120.03}[code]
    return west + 0.005, (LAT0 + LAT1) / 2


def build_test_city(session: Session) -> TestCity:
    specs = [
        UnitSpec(Level.CITY, "C", "测试市", "Test City", box(120.00, LAT0, 120.04, LAT1)),
    ]
    for side, lon0 in (("W", 120.00), ("E", 120.02)):
        specs += [
            UnitSpec(
                Level.DISTRICT,
                f"D{side}",
                f"{side}区",
                f"District {side}",
                box(lon0, LAT0, lon0 + 0.02, LAT1),
                parent_code="C",
            ),
            UnitSpec(
                Level.SUBDISTRICT,
                f"S{side}",
                f"{side}街道",
                f"Subdistrict {side}",
                box(lon0, LAT0, lon0 + 0.02, LAT1),
                parent_code=f"D{side}",
            ),
            UnitSpec(
                Level.COMMUNITY,
                f"M{side}",
                f"{side}社区",
                f"Community {side}",
                box(lon0, LAT0, lon0 + 0.02, LAT1),
                parent_code=f"S{side}",
            ),
        ]
        for k in (1, 2):
            g0 = lon0 + 0.01 * (k - 1)
            specs.append(
                UnitSpec(Level.GRID, f"{side}{k}", f"{side}{k}网格", f"Grid {side}{k}",
                         box(g0, LAT0, g0 + 0.01, LAT1), parent_code=f"M{side}",
                         population=2000, households=700)
            )  # fmt: skip
    units = add_units(session, specs, actor=Principal.system("test"))
    return TestCity({u.code: u.id for u in units})


def unit(session: Session, code: str) -> OrgUnit:
    from sqlalchemy import select

    found = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    assert found is not None
    return found
