"""Fixtures of the dispatch tests: the river network with responders, and the API users."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from pingan.dispatch.responder_models import ResponderKind
from pingan.kit.db import session_scope, utcnow
from tests.api.conftest import client, people  # noqa: F401  (fixtures shared with the API tests)
from tests.citykit import TestCity
from tests.dispatch.dispatchkit import add_incident, add_responder, build_roads

T0 = utcnow().replace(microsecond=0)
K = ResponderKind


@pytest.fixture
def t0() -> dt.datetime:
    return T0


@pytest.fixture
def world(engine: Engine, city: TestCity, request: pytest.FixtureRequest) -> dict[str, int]:
    # Over HTTP the server reads the real clock, and T0 was taken when the tests were
    # collected: late in a long suite it is older than a position stays fresh.
    now = utcnow().replace(microsecond=0) if "client" in request.fixturenames else T0
    with session_scope(engine) as s:
        build_roads(s)
        ids = {
            "B": add_responder(s, name="Car B", kind=K.POLICE_UNIT, org_unit_id=city.id("W1"),
                               at_m=(1000, 0), now=now),
            "A": add_responder(s, name="Car A", kind=K.POLICE_UNIT, org_unit_id=city.id("W1"),
                               at_m=(0, 400), now=now),
            "C": add_responder(s, name="Worker C", kind=K.GRID_WORKER, org_unit_id=city.id("W2"),
                               at_m=(1000, 400), now=now),
            "D": add_responder(s, name="Worker D", kind=K.GRID_WORKER, org_unit_id=city.id("E1"),
                               at_m=(3000, 0), now=now),
            "V": add_responder(s, name="Volunteer V", kind=K.VOLUNTEER, org_unit_id=city.id("W1"),
                               at_m=(0, 100), now=now, skills=["first_aid"], travel_mode="walk"),
        }  # fmt: skip
        ids["incident"] = add_incident(
            s, type_code="fight", at_m=(0, 0), reported=now - dt.timedelta(seconds=60)
        )
    return ids


from tests.sim.conftest import tiny_city  # noqa: E402, F401  (the synthetic tiny city, per module)
