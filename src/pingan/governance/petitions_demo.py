"""Seed the demo city with petitions, open and closed, driven through the services.

Every matter goes through the real steps (clocks, letters, timeline, audit)
at back-dated times, so the demo shows what would have been recorded.
Deterministic by seed; does nothing if petitions exist. Names are
placeholders, not people.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random

from sqlalchemy import Engine, func, select

from pingan.governance import petitions
from pingan.governance.petitions_calendar import load_mainland_holidays
from pingan.governance.petitions_models import Petition
from pingan.governance.petitions_schemas import PetitionIn, RepresentativeIn
from pingan.governance.petitions_steps import take
from pingan.kit.db import session_scope, utcnow
from pingan.kit.errors import PinganError
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal

MATTERS = {
    "petition.housing": ["小区电梯停运，物业不予维修", "楼顶渗水多年，维修基金迟迟不能动用"],
    "petition.labour_wages": ["工地拖欠工资数月未付", "公司解除劳动合同未支付经济补偿"],
    "petition.land_resettlement": ["拆迁安置房交付延期两年", "征地补偿款标准与公示不一致"],
    "petition.environment": ["餐馆油烟直排居民楼", "夜间施工噪音扰民到凌晨"],
    "petition.social_security": ["低保申请材料交齐后未答复", "医保异地结算手续办理困难"],
    "petition.official_conduct": ["窗口工作人员办事推诿", "执法人员态度粗暴"],
}
PLACES = ["幸福小区", "滨江花园", "城东安置区", "解放路", "南街社区", "北关村"]
OPINION: dict[str, object] = {"opinion": "经核查，已责成相关单位整改，并将结果告知信访人。"}


def _course(
    rng: random.Random, subdistricts: list[OrgUnit]
) -> list[tuple[str, dict[str, object], float]]:
    """The steps a matter takes, each with the days it waits before it."""
    if rng.random() < 0.1:
        refusal: dict[str, object] = {"reason": "属于诉讼途径解决的事项，已告知依法申请"}
        return [("decline", refusal, 3.0)]
    steps: list[tuple[str, dict[str, object], float]] = [
        ("forward", {"unit_id": rng.choice(subdistricts).id}, rng.uniform(1, 10)),
        ("accept", {}, rng.uniform(1, 10)),
    ]
    if rng.random() < 0.2:
        steps.append(("extend", {"reason": "需委托专业机构鉴定", "days": 30}, rng.uniform(20, 50)))
    # One reply in five comes after the 60 days.
    steps.append(
        ("reply", OPINION, rng.uniform(62, 75) if rng.random() < 0.2 else rng.uniform(10, 50))
    )
    if rng.random() < 0.35:
        steps += [
            ("request_review", {}, rng.uniform(5, 25)),
            ("review", OPINION, rng.uniform(10, 28)),
        ]
    # 40 days: past the 30-day window even when its last day moved over a long holiday.
    return [*steps, ("close", {"reason": "window_lapsed"}, 40.0)]


def seed_demo_petitions(
    engine: Engine, *, seed: int = 8, count: int = 20, now: dt.datetime | None = None
) -> int:
    now = now or utcnow()
    rng = random.Random(seed)
    actor = Principal.system("demo")
    with session_scope(engine) as session:
        if session.scalar(select(func.count(Petition.case_id))):
            return 0
        petitions.ensure_petition_categories(session)
        for year in (now.year - 1, now.year):
            # No official calendar for a year: weekends only.
            with contextlib.suppress(PinganError):
                load_mainland_holidays(session, year)
        root = session.scalar(select(OrgUnit).where(OrgUnit.parent_id.is_(None)))
        subdistricts = list(
            session.scalars(select(OrgUnit).where(OrgUnit.level == Level.SUBDISTRICT.value))
        )
    if root is None or not subdistricts:
        return 0
    for i in range(count):
        category = rng.choice(sorted(MATTERS))
        text, place = rng.choice(MATTERS[category]), rng.choice(PLACES)
        group = rng.random() < 0.2
        at = now - dt.timedelta(days=rng.uniform(2, 240))
        body = PetitionIn(
            channel=rng.choice(["visit", "letter", "phone", "web", "video"]), category=category,
            unit_id=root.id, matter=f"{place}：{text}。", place=place,
            petitioner_name=f"示例信访人{i + 1}", is_group=group, headcount=12 if group else 1,
            representatives=[RepresentativeIn(name=f"代表{k + 1}") for k in range(3)] if group
            else [], received_at=at,
        )  # fmt: skip
        with session_scope(engine) as session:
            case, *_rest = petitions.create_petition(session, petition_in=body, actor=actor, now=at)
            if case.state != "registered":
                continue
            for name, fields, wait in _course(rng, subdistricts):
                at = at + dt.timedelta(days=wait)
                if at >= now:
                    break  # still open today
                take(session, case_ref=case.id, name=name, fields=fields, actor=actor, now=at)
    return count
