"""Demo seeding of issue 8's mediation, assessments, compounds and outreach: once only."""

from __future__ import annotations

import datetime as dt

from shapely import box
from sqlalchemy import Engine, func, select

from pingan.cases.models import Case
from pingan.governance.assessments_demo import seed_demo_assessments
from pingan.governance.assessments_models import Assessment
from pingan.governance.compounds_demo import seed_demo_remediations
from pingan.governance.mediation_demo import seed_demo_disputes
from pingan.governance.mediation_models import Dispute
from pingan.governance.mediation_stats import ledger, mediation_stats
from pingan.governance.outreach_demo import seed_demo_outreach
from pingan.kit.audit import verify_chain
from pingan.kit.db import session_scope
from pingan.org.principal import Principal
from pingan.places.models import Management
from pingan.places.service import CompoundIn, add_compounds
from tests.citykit import TestCity, grid_centre

NOW = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)
SYSTEM = Principal.system("test")


def test_demo_seeding_is_realistic_and_idempotent(engine: Engine, city: TestCity) -> None:
    with session_scope(engine) as s:
        lon, lat = grid_centre("E1")
        add_compounds(
            s,
            [
                CompoundIn(code=f"Q{i}", name_zh=f"Q{i}", name_en=f"Q{i}", households=200,
                           buildings=4, management=Management.UNMANAGED,
                           geom=box(lon, lat, lon + 0.001, lat + 0.001))
                for i in range(3)
            ],
            actor=SYSTEM,
        )  # fmt: skip
    assert seed_demo_disputes(engine, seed=3, count=30, now=NOW) == 30
    assert seed_demo_assessments(engine, seed=3, now=NOW) == 4
    assert seed_demo_remediations(engine, seed=3, now=NOW) == 3
    assert seed_demo_outreach(engine, seed=3, count=20, now=NOW) == 20
    for again in (
        seed_demo_disputes(engine, seed=3, count=30, now=NOW),
        seed_demo_assessments(engine, seed=3, now=NOW),
        seed_demo_remediations(engine, seed=3, now=NOW),
        seed_demo_outreach(engine, seed=3, count=20, now=NOW),
    ):
        assert again == 0
    with session_scope(engine) as s:
        states = dict(
            s.execute(
                select(Case.state, func.count(Case.id))
                .where(Case.case_type == "mediation")
                .group_by(Case.state)
            ).all()
        )
        assert states.get("agreed", 0) > 0 and states.get("mediating", 0) > 0
        assert s.scalar(select(func.count(Dispute.id))) == 30
        levels = dict(
            s.execute(
                select(Case.state, Assessment.risk_level).join(Case, Case.id == Assessment.case_id)
            ).all()
        )
        assert levels == {
            "implementing": "low",
            "postponed": "medium",
            "not_implemented": "high",
            "assessing": None,
        }
        stats = mediation_stats(
            s, actor=SYSTEM, start=dt.date(2026, 7, 1), end=dt.date(2026, 12, 1)
        )
        assert stats.registered == 30 and stats.total.mediated > 0
        assert len(ledger(s, actor=SYSTEM, now=NOW)) == sum(
            n for st, n in states.items() if st in ("registered", "mediating")
        )
        assert verify_chain(s).ok
