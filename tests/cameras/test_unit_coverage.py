"""One unit's street coverage (what a briefing shows) agrees with the full coverage report."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from pingan.cameras import coverage, registry, streets
from pingan.kit.db import session_scope
from pingan.kit.errors import NotFound
from pingan.org import users
from pingan.org.levels import Level
from pingan.org.principal import Principal
from pingan.org.users import principal_for
from tests.cameras.camkit import SYSTEM, add_owner, build_roads, standard_cameras
from tests.citykit import TestCity, unit


@pytest.fixture
def covered(engine: Engine, city: TestCity) -> TestCity:
    with session_scope(engine) as s:
        build_roads(s)
        add_owner(s)
        streets.build_segments(s, actor=SYSTEM)
        registry.upsert_cameras(s, list(enumerate(standard_cameras(s), 1)), actor=SYSTEM)
    return city


def _west_officer(engine: Engine) -> Principal:
    with session_scope(engine) as s:
        officer = users.create_user(s, username="w_off", password="pw-long-enough-1", actor=SYSTEM)
        users.grant_role(s, user=officer, role_name="officer", unit=unit(s, "DW"), actor=SYSTEM)
        return principal_for(s, officer, via="test")


def test_unit_figures_equal_the_report_for_every_unit(engine: Engine, covered: TestCity) -> None:
    for actor in (SYSTEM, _west_officer(engine)):
        with session_scope(engine) as s:
            for level in (Level.CITY, Level.DISTRICT, Level.GRID):
                report = coverage.coverage_report(s, actor=actor, level=level, incident_days=None)
                assert report.areas
                for area in report.areas:
                    found = coverage.unit_street_coverage(s, actor=actor, unit_id=area.org_unit_id)
                    assert found == pytest.approx((area.total_m, area.covered_m), abs=1e-6)


def test_a_unit_outside_scope_or_without_streets_has_no_figure(
    engine: Engine, covered: TestCity
) -> None:
    officer = _west_officer(engine)
    with session_scope(engine) as s:
        east = unit(s, "DE").id
        assert coverage.unit_street_coverage(s, actor=officer, unit_id=east) is None
        assert coverage.unit_street_coverage(s, actor=SYSTEM, unit_id=east) is not None
        with pytest.raises(NotFound):
            coverage.unit_street_coverage(s, actor=SYSTEM, unit_id=999_999)
