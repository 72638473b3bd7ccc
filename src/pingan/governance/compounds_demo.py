"""Seed remediation projects for the demo city's unmanaged compounds, through the engine.

Each project is registered months ago and taken step by step to where it
stands today: some still waiting for their survey, most part-way through the
four steps, a few suspended or postponed, some at acceptance, about a third
remediated, and the odd one cancelled. No-op if any project exists.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pingan.governance import compounds_service as service
from pingan.governance.compounds_models import Remediation
from pingan.kit.db import session_scope, utcnow
from pingan.org.principal import Principal
from pingan.places.models import Management, ResidentialCompound

EVIDENCE = {
    "self_governance": "业主委员会（自管小组）成立备案回执",
    "access_control": "门禁系统安装验收单",
    "gatekeeping": "门卫值守协议及排班表",
    "quasi_property": "准物业服务协议（社区服务中心托管）",
}


def _plan(rng: random.Random) -> tuple[int, str | None]:
    """How far a project has got: steps done, and what happened after."""
    roll = rng.random()
    if roll < 0.1:
        return -1, None  # not yet surveyed
    if roll < 0.15:
        return rng.randint(0, 2), "terminate"
    if roll < 0.55:
        # Suspending and postponing need the work started (a step recorded).
        return rng.randint(1, 3), rng.choice([None, None, "suspend", "postpone"])
    if roll < 0.65:
        return 4, None  # waiting for acceptance
    return 4, rng.choice(["accept", "accept", "accept", "reject_then_accept"])


def _walk(
    session: Session,
    number: str,
    plan: tuple[int, str | None],
    *,
    rng: random.Random,
    at: dt.datetime,
    now: dt.datetime,
    actor: Principal,
) -> None:
    """Take one project from registration to where its plan says it stands."""
    steps, after = plan

    def take(name: str, fields: dict[str, Any], gap: int) -> None:
        nonlocal at
        at = min(now, at + dt.timedelta(days=gap, hours=rng.randint(1, 6)))
        if name == "record_step":
            fields = {**fields, "done_on": at.date().isoformat()}
        service.take(session, number=number, transition=name, fields=fields, actor=actor, now=at)

    if steps < 0:
        return
    take("survey", {"findings": "无物业、无门卫，楼道堆物，居民自治组织未建立"}, 10)
    for step in service.STEPS[:steps]:
        take("record_step", {"step": step, "evidence": EVIDENCE[step]}, 14)
    if after == "terminate":
        take("terminate", {"reason": "小区纳入旧城改造征收范围"}, 7)
    elif after == "suspend":
        take("suspend", {"reason": "业主意见分歧，暂停征求意见"}, 5)
    elif after == "postpone":
        take("postpone", {"reason": "门禁设备采购延期", "days": 60}, 5)
    elif after == "reject_then_accept":
        take("reject", {"reason": "门禁未覆盖北侧出入口"}, 6)
        take("request_acceptance", {}, 12)
        take("accept", {"opinion": "整改到位，验收合格"}, 5)
    elif after == "accept":
        take("accept", {"opinion": "街道验收合格"}, rng.randint(3, 12))


def seed_demo_remediations(
    engine: Engine, *, seed: int = 7, count: int = 30, now: dt.datetime | None = None
) -> int:
    now = now or utcnow()
    rng = random.Random(seed)
    actor = Principal.system("demo")
    with session_scope(engine) as session:
        if session.scalar(select(func.count(Remediation.id))):
            return 0
        candidates = list(
            session.scalars(
                select(ResidentialCompound)
                .where(ResidentialCompound.management != Management.PROPERTY_COMPANY.value)
                .order_by(ResidentialCompound.id)
            )
        )
        compounds = rng.sample(candidates, min(count, len(candidates)))
        for c in compounds:
            at = now - dt.timedelta(days=rng.randint(60, 300), hours=rng.randint(0, 8))
            case, _ = service.register(
                session,
                remediation_in=service.RemediationIn(
                    compound=c.code, no_property_management=True,
                    no_responsible_department=rng.random() < 0.5,
                    no_self_governance=rng.random() < 0.7,
                    residents=max(1, round(c.households * rng.uniform(2.2, 3.0))),
                ),
                actor=actor, now=at,
            )  # fmt: skip
            _walk(session, case.number, _plan(rng), rng=rng, at=at, now=now, actor=actor)
    return len(compounds)
