"""Seed remediation projects for the demo city's unmanaged compounds. No-op if any exist."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import Engine, func, select

from pingan.governance import compounds_service as service
from pingan.governance.compounds_models import Remediation
from pingan.kit.db import session_scope, utcnow
from pingan.org.principal import Principal
from pingan.places.models import Management, ResidentialCompound


def seed_demo_remediations(
    engine: Engine, *, seed: int = 7, count: int = 30, now: dt.datetime | None = None
) -> int:
    today = (now or utcnow()).date()
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
            no_self = rng.random() < 0.7
            service.register(
                session,
                remediation_in=service.RemediationIn(
                    compound=c.code, no_property_management=True,
                    no_responsible_department=rng.random() < 0.5, no_self_governance=no_self,
                    residents=max(1, round(c.households * rng.uniform(2.2, 3.0))),
                ),
                actor=actor,
            )  # fmt: skip
            day = today - dt.timedelta(days=rng.randint(60, 300))
            for step in service.STEPS[: rng.randint(0, len(service.STEPS))]:
                day = min(today, day + dt.timedelta(days=rng.randint(5, 40)))
                service.record_step(
                    session, code=c.code, actor=actor,
                    step_in=service.StepDoneIn(step=step, done_on=day, note="街道验收"),
                )  # fmt: skip
    return len(compounds)
