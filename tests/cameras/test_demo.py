"""Demo seeding on the tiny synthetic city: several owners' networks, coverage and a plan, once."""

from __future__ import annotations

from sqlalchemy import Engine, distinct, func, select

from pingan.cameras.demo import seed_demo_cameras
from pingan.cameras.models import Camera, PlacementPlan, StreetSegment
from pingan.cameras.streets import recompute
from pingan.kit.db import session_scope
from pingan.sim.city import build_city


def test_demo_seeding_is_idempotent(engine: Engine) -> None:
    build_city(engine, scale="tiny", seed=11)
    created = seed_demo_cameras(engine, seed=3)
    assert created > 100
    assert seed_demo_cameras(engine, seed=3) == 0
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Camera)) == created
        assert s.scalar(select(func.count(distinct(Camera.owner_id)))) >= 4
        assert s.scalar(select(func.count(distinct(Camera.network)))) >= 4
        covered = s.scalar(select(func.count()).where(StreetSegment.cover_count > 0))
        total = s.scalar(select(func.count()).select_from(StreetSegment))
        assert total and 0 < (covered or 0) < total
        assert s.scalar(select(func.count()).select_from(PlacementPlan)) == 1
        assert recompute(s) == 0  # the stored counts are current
