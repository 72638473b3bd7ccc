"""Seed the demo city with disputes, open and closed, driven through the workflow.

Deterministic by seed; does nothing if any dispute exists.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from shapely import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pingan.cases import actions
from pingan.cases.categories import list_categories
from pingan.cases.models import Case
from pingan.governance import mediation_service
from pingan.governance.mediation_models import Dispute
from pingan.governance.mediation_schemas import DisputeIn, PartyIn
from pingan.kit.db import session_scope, utcnow
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
TITLES = {
    "md_neighbour": "楼上漏水引发邻里纠纷",
    "md_family": "赡养费用分担纠纷",
    "md_property_mgmt": "物业费与停车管理纠纷",
    "md_labour": "工程款与工资拖欠纠纷",
    "md_traffic_accident": "电动车剐蹭赔偿纠纷",
    "md_medical": "术后并发症赔偿纠纷",
    "md_land_resettlement": "拆迁补偿标准纠纷",
    "md_contract_debt": "装修合同尾款纠纷",
    "md_other": "宠物伤人赔偿纠纷",
}


def grid_points(session: Session, rng: random.Random, n: int) -> list[Point]:
    """``n`` random points inside the city's grids (an empty list if there are none)."""
    grids: list[BaseGeometry] = [
        g
        for g in session.scalars(
            select(OrgUnit.boundary).where(
                OrgUnit.level == Level.GRID.value, OrgUnit.boundary.is_not(None)
            )
        )
        if g is not None
    ]
    points = []
    for _ in range(n if grids else 0):
        boundary = rng.choice(grids)
        west, south, east, north = boundary.bounds
        point = boundary.representative_point()
        for _try in range(20):
            candidate = Point(rng.uniform(west, east), rng.uniform(south, north))
            if boundary.contains(candidate):
                point = candidate
                break
        points.append(point)
    return points


@dataclass
class _Walk:
    """Takes a seeded dispute's steps in time order, stopping at the present."""

    session: Session
    case: Case
    actor: Principal
    at: dt.datetime
    now: dt.datetime

    def step(self, name: str, days: float, **fields: object) -> bool:
        self.at += dt.timedelta(days=days)
        if self.at >= self.now:
            return False
        actions.transition(
            self.session, case=self.case, name=name, fields=fields, actor=self.actor, now=self.at
        )
        return True


def _walk(w: _Walk, rng: random.Random) -> None:
    if rng.random() < 0.05:
        w.step("withdraw", rng.uniform(0.5, 3), reason="当事人自行和解")
        return
    channel = rng.choice(["people", "people", "administrative"])
    if not w.step("accept", rng.uniform(0.2, 2), channel=channel):
        return
    if rng.random() < 0.2 and not w.step(
        "refer", rng.uniform(3, 10), channel="judicial", reason="当事人申请司法调解"
    ):
        return
    roll, days = rng.random(), rng.uniform(3, 35)
    if roll < 0.6:
        follow = (w.at + dt.timedelta(days=days + 30)).date().isoformat()
        w.step("agree", days, terms="一方赔偿对方损失并当面致歉", follow_up_on=follow)
    elif roll < 0.72:
        w.step("partial", days, terms="赔偿部分达成一致", unresolved="后续维修费用")
    elif roll < 0.85:
        w.step("fail", days, referred_to="court", reason="分歧较大，引导诉讼")
    # otherwise: still in mediation


def seed_demo_disputes(
    engine: Engine, *, seed: int = 7, count: int = 40, now: dt.datetime | None = None
) -> int:
    """Register ``count`` disputes over the last 120 days; returns how many."""
    now = now or utcnow()
    rng = random.Random(seed)
    actor = Principal.system("demo")
    with session_scope(engine) as session:
        if session.scalar(select(func.count(Dispute.id))):
            return 0
        mediation_service.ensure_categories(session)
        codes = [c.code for c in list_categories(session, "mediation")]
        points = grid_points(session, rng, count)
        for point in points:
            code = rng.choice(codes)
            at = now - dt.timedelta(days=rng.uniform(1, 120))
            group = rng.random() < 0.1
            dispute_in = DisputeIn(
                category=code,
                title=TITLES.get(code, code),
                lon=point.x,
                lat=point.y,
                source=rng.choice(["screening", "brought", "brought", "referred"]),
                scale="group" if group else rng.choice(["individual", "multi_party"]),
                people_involved=rng.randint(5, 40) if group else rng.randint(2, 4),
                risk_level=rng.choices(["low", "medium", "high"], [6, 3, 1])[0],
                parties=[
                    PartyIn(role="applicant", name=rng.choice(SURNAMES) + "某"),
                    PartyIn(role="respondent", name=rng.choice(SURNAMES) + "某"),
                ],
            )
            case, _ = mediation_service.register(
                session, dispute_in=dispute_in, actor=actor, now=at
            )
            _walk(_Walk(session, case, actor, at, now), rng)
    return len(points)
