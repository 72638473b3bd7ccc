"""Seed the demo city with an expert pool and assessments at each stage of the gate.

Does nothing if any assessment exists.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import Engine, func, select

from pingan.governance import assessments_service as service
from pingan.governance.assessments_models import Assessment
from pingan.governance.assessments_schemas import (
    AssessmentIn,
    ConsultationIn,
    ExpertIn,
    MitigationIn,
    MonitoringIn,
    ScoreSheetIn,
)
from pingan.governance.mediation_demo import grid_points
from pingan.kit.db import session_scope, utcnow
from pingan.org.principal import Principal

EXPERTS = [
    ("陈律师", "law", "市律师协会"),
    ("林教授", "law", "城市大学法学院"),
    ("周工", "planning", "市规划设计研究院"),
    ("吴研究员", "social", "市社会科学院"),
    ("郑教授", "finance", "财经大学"),
    ("冯工", "environment", "环境科学研究所"),
    ("褚主任", "social", "市信访研究中心"),
    ("卫工", "planning", "市住房和城乡建设局"),
]
# project, category, proposing organisation, per-dimension score, opposition share, how far
PROJECTS = [
    ("地铁三号线东延段", "ra_major_project", "市交通运输局", 4, 0.08, "completed"),
    ("老旧小区加装电梯", "ra_public_policy", "市住房和城乡建设局", 3, 0.3, "postponed"),
    ("垃圾焚烧发电厂选址", "ra_environment", "市城市管理局", 2, 0.62, "declined"),
    ("公交票价调整方案", "ra_price_adjustment", "市发展和改革委员会", 4, 0.1, "assessing"),
]


def _sheet(expert_id: int, base: int, rng: random.Random) -> ScoreSheetIn:
    def dim(name: str) -> dict[str, object]:
        score = max(1, min(5, base + rng.choice([0, 0, 1])))
        return {"score": score, "comment": f"{name}：依据材料评定为 {score} 分"}

    return ScoreSheetIn.model_validate(
        {"expert_id": expert_id, "legality": dim("合法性"), "reasonableness": dim("合理性"),
         "feasibility": dim("可行性"), "controllability": dim("可控性")}
    )  # fmt: skip


def seed_demo_assessments(engine: Engine, *, seed: int = 7, now: dt.datetime | None = None) -> int:
    now = now or utcnow()
    rng = random.Random(seed)
    actor = Principal.system("demo")
    with session_scope(engine) as session:
        if session.scalar(select(func.count(Assessment.id))):
            return 0
        service.ensure_categories(session)
        points = grid_points(session, rng, len(PROJECTS))
        if not points:
            return 0
        pool = [
            service.add_expert(session, expert_in=ExpertIn(name=n, field=f, affiliation=a),
                               actor=actor)
            for n, f, a in EXPERTS
        ]  # fmt: skip
        for (project, category, org, base, opposition, stage), point in zip(
            PROJECTS, points, strict=True
        ):
            at = now - dt.timedelta(days=rng.uniform(40, 90))
            case, a = service.register(
                session,
                assessment_in=AssessmentIn(category=category, project=project, proposing_org=org,
                                           lon=point.x, lat=point.y),
                actor=actor, now=at,
            )  # fmt: skip
            number = case.number
            eligible = [e.id for e in pool if not service.conflicts(session, a, e)]
            panel = rng.sample(eligible, 5)
            service.assign_panel(session, number=number, expert_ids=panel, actor=actor, now=at)
            answers = 400
            oppose = round(answers * opposition)
            service.add_consultation(
                session, number=number, actor=actor, now=at,
                consultation_in=ConsultationIn(
                    kind="survey", held_on=(at + dt.timedelta(days=3)).date(),
                    participants=answers, support=answers - oppose - 20, oppose=oppose,
                    neutral=20, summary="入户问卷与网上征求意见",
                ),
            )  # fmt: skip
            at += dt.timedelta(days=5)
            service.step(session, number=number, transition="start", fields={}, actor=actor,
                         now=at)  # fmt: skip
            for e in panel:
                service.record_scores(session, number=number, sheet=_sheet(e, base, rng),
                                      actor=actor, now=at)  # fmt: skip
            if stage == "assessing":
                continue
            at += dt.timedelta(days=10)
            service.conclude(session, number=number, actor=actor, now=at)
            if stage == "postponed":
                service.add_mitigation(
                    session, number=number, actor=actor, now=at,
                    mitigation_in=MitigationIn(measure="逐楼栋征求低层住户意见并制定补偿办法",
                                               owner="街道办事处"),
                )  # fmt: skip
            elif stage == "declined":
                decision = {"decision_body": "市政府常务会议", "reason": "风险等级高"}
                service.step(session, number=number, transition="decline", actor=actor, now=at,
                             fields=decision)  # fmt: skip
            elif stage == "completed":
                service.step(session, number=number, transition="implement", actor=actor, now=at,
                             fields={"decision_body": "市政府常务会议",
                                     "decision_ref": "市政纪〔2026〕9号"})  # fmt: skip
                service.add_monitoring(
                    session, number=number, actor=actor, now=at + dt.timedelta(days=20),
                    monitoring_in=MonitoringIn(status="on_track", note="施工有序，未发生信访"),
                )  # fmt: skip
    return len(PROJECTS)
