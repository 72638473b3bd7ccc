"""Seed the demo city with grid-event cases, open and closed, driven through the engine.

Every case goes through the real workflow (create, transitions, clocks,
timeline, audit) at back-dated times, so the demo shows what the engine
would have recorded. Deterministic by seed; does nothing if cases exist.
"""

from __future__ import annotations

import datetime as dt
import random

from shapely import Point
from sqlalchemy import Engine, func, select

from pingan.cases import actions, service
from pingan.cases.categories import ensure_categories, list_categories
from pingan.cases.models import Case
from pingan.cases.schemas import CaseIn
from pingan.kit.db import session_scope, utcnow
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal

# The path each seeded case follows; where it stops is drawn per case.
_PATH: list[tuple[str, dict[str, object]]] = [
    ("accept", {}),
    ("dispatch", {}),
    ("start", {}),
    ("feedback", {"result": "handled on site"}),
    ("verify", {}),
    ("evaluate", {"rating": 4}),
]
_TITLES = {
    "manhole_cover": "Manhole cover broken",
    "street_light": "Street light out",
    "road_sign": "Road sign knocked down",
    "illegal_dumping": "Rubbish dumped on the pavement",
    "blocked_passage": "Fire exit blocked by goods",
    "road_occupation": "Stall occupying the road",
    "hazard": "Loose hoarding near the school",
    "dispute": "Neighbours in dispute over parking",
}


def seed_demo_cases(
    engine: Engine, *, seed: int = 7, count: int = 80, now: dt.datetime | None = None
) -> int:
    """File ``count`` cases over the last 30 days; returns how many were created."""
    now = now or utcnow()
    rng = random.Random(seed)
    actor = Principal.system("demo")
    with session_scope(engine) as session:
        if session.scalar(select(func.count(Case.id))):
            return 0
        ensure_categories(session)
        codes = [c.code for c in list_categories(session, "grid_event")]
        grids = list(
            session.execute(
                select(OrgUnit.boundary).where(
                    OrgUnit.level == Level.GRID.value, OrgUnit.boundary.is_not(None)
                )
            ).scalars()
        )
        if not grids:
            return 0
        for _ in range(count):
            boundary = rng.choice(grids)
            assert boundary is not None
            west, south, east, north = boundary.bounds
            for _try in range(20):
                point = Point(rng.uniform(west, east), rng.uniform(south, north))
                if boundary.contains(point):
                    break
            else:
                point = boundary.representative_point()
            code = rng.choice(codes)
            at = now - dt.timedelta(days=rng.uniform(0.5, 30))
            case_in = CaseIn(category=code, title=_TITLES.get(code, code), lon=point.x, lat=point.y)
            case, _dups = service.create_case(session, case_in=case_in, actor=actor, now=at)
            if rng.random() < 0.08:
                actions.transition(
                    session, case=case, name="cancel", fields={"reason": "invalid"},
                    actor=actor, now=at + dt.timedelta(hours=1),
                )  # fmt: skip
                continue
            for name, fields in _PATH[: rng.randint(0, len(_PATH))]:
                at = min(now, at + dt.timedelta(hours=rng.uniform(0.5, 20)))
                actions.transition(
                    session, case=case, name=name, fields=dict(fields), actor=actor, now=at
                )
    return count
