"""Seed the legal outreach register over the last 90 days. No-op if any activity exists."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import Engine, func, select

from pingan.governance import outreach_service as service
from pingan.governance.outreach_models import OutreachActivity
from pingan.kit.db import session_scope, utcnow
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal

TITLES = {
    "law_lecture": ("民法典进社区讲座", "司法所"),
    "mobile_court": ("移动微法院现场调解", "区人民法院"),
    "circuit_court": ("巡回审判进村居", "区人民法院"),
    "pro_bono_hours": ("一村(社区)一法律顾问值班", "律师事务所"),
    "legal_clinic": ("法律门诊", "公共法律服务站"),
}


def seed_demo_outreach(
    engine: Engine, *, seed: int = 7, count: int = 60, now: dt.datetime | None = None
) -> int:
    today = (now or utcnow()).date()
    rng = random.Random(seed)
    actor = Principal.system("demo")
    with session_scope(engine) as session:
        if session.scalar(select(func.count(OutreachActivity.id))):
            return 0
        communities = list(
            session.scalars(select(OrgUnit.code).where(OrgUnit.level == Level.COMMUNITY.value))
        )
        if not communities:
            return 0
        for _ in range(count):
            kind = rng.choice(list(TITLES))
            title, organiser = TITLES[kind]
            service.record(
                session,
                activity_in=service.ActivityIn(
                    kind=kind, title=title, organiser=organiser,
                    held_on=today - dt.timedelta(days=rng.randint(0, 90)),
                    unit=rng.choice(communities), attendance=rng.randint(8, 120),
                    hours=rng.choice([2.0, 3.0, 4.0]) if kind == "pro_bono_hours" else None,
                ),
                actor=actor,
            )  # fmt: skip
    return count
