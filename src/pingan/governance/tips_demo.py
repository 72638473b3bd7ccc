"""Seed the demo city with anonymous tips, some rewarded and paid, through the services.

Deterministic by seed; does nothing if tips exist. Each tip's PIN is made up
here and forgotten, except to pay the rewards that the demo pays.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import Engine, func, select

from pingan.governance import tips, tips_rewards
from pingan.governance.tips_models import Tip
from pingan.governance.tips_schemas import TipIn
from pingan.kit.db import session_scope, utcnow
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal

TIPS = {
    "tip.drugs": "Parcels handed over at night behind the market",
    "tip.fraud": "An 'investment club' asks the elderly for deposits",
    "tip.safety_hazard": "Gas cylinders stored in a basement restaurant",
    "tip.gambling": "Card games for money in a rented flat",
    "tip.pollution": "Waste oil poured into the creek at dawn",
}


def seed_demo_tips(
    engine: Engine, *, seed: int = 9, count: int = 12, now: dt.datetime | None = None
) -> int:
    now = now or utcnow()
    rng = random.Random(seed)
    handler, approver = Principal.system("demo"), Principal.system("demo-approver")
    with session_scope(engine) as session:
        if session.scalar(select(func.count(Tip.case_id))):
            return 0
        tips.ensure_tip_categories(session)
        districts = list(
            session.scalars(select(OrgUnit).where(OrgUnit.level == Level.DISTRICT.value))
        )
    if not districts:
        return 0
    for _ in range(count):
        category = rng.choice(sorted(TIPS))
        pin = f"demo-{rng.randint(100000, 999999)}"
        at = now - dt.timedelta(days=rng.uniform(1, 90))
        with session_scope(engine) as session:
            case = tips.create_tip(
                session, tip_in=TipIn(category=category, content=TIPS[category], pin=pin), now=at
            )
            number, stop = case.number, rng.random()
            if stop < 0.2:
                continue
            steps: list[tuple[str, dict[str, object]]] = [
                ("triage", {"level": rng.choice(["high", "normal", "low"])}),
                ("refer", {"unit_id": rng.choice(districts).id}),
                ("conclude", {"outcome": rng.choice(
                    ["major_confirmed", "confirmed", "partly_confirmed", "unfounded"])}),
            ]  # fmt: skip
            for name, fields in steps[: 1 if stop < 0.3 else 2 if stop < 0.45 else 3]:
                at = min(now, at + dt.timedelta(days=rng.uniform(0.2, 10)))
                tips.take(session, case_ref=number, name=name, fields=fields, actor=handler, now=at)
            tip = session.get(Tip, case.id)
            if case.state == "concluded" and tip is not None and tip.outcome != "unfounded":
                reward = tips_rewards.propose(session, case_ref=number, actor=handler, now=at)
                tips_rewards.decide(session, reward_id=reward.id, approve=True, actor=approver,
                                    now=at)  # fmt: skip
                if rng.random() < 0.5:
                    tips_rewards.pay(session, number=number, pin=pin, actor=approver, now=at)
    return count
