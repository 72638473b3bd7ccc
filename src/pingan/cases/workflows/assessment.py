"""Decision risk assessment as a case type, with the risk gate in its transitions.

registered -> start (panel seated) -> assessing -> one of rate_high /
rate_medium / rate_low, each allowed only when the stated rules
(``pingan.governance.assessments_rules``) give that level:

- high -> rejected: the decision is not implemented (``decline``);
- medium -> postponed: ``reassess`` once mitigations are recorded, which opens
  a new round of scoring;
- low -> cleared: ``implement`` with its controls (or ``decline``), then
  follow-up monitoring until ``complete``.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pingan.cases.engine import ClockRule, EscalationRule, Transition, Workflow
from pingan.cases.models import Case
from pingan.governance.assessments_models import (
    Assessment,
    Mitigation,
    MonitoringNote,
    PanelSeat,
)
from pingan.governance.assessments_rules import HIGH, LOW, MEDIUM, MIN_PANEL, rate
from pingan.kit.errors import Conflict, NotFound
from pingan.org.permissions import Perm

MANAGE = Perm.CASES_MANAGE.value


def assessment_of(session: Session, case: Case) -> Assessment:
    found = session.scalar(select(Assessment).where(Assessment.case_id == case.id))
    if found is None:
        raise NotFound(f"case {case.number} has no assessment record")
    return found


def _count(session: Session, model: type[Any], assessment: Assessment, **where: Any) -> int:
    stmt = select(func.count(model.id)).where(model.assessment_id == assessment.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return int(session.scalar(stmt) or 0)


def _check_panel(session: Session, case: Case, fields: dict[str, Any]) -> None:
    if _count(session, PanelSeat, assessment_of(session, case)) < MIN_PANEL:
        raise Conflict(f"seat a panel of at least {MIN_PANEL} experts first", field="panel")


def _gate(level: str) -> Any:
    def check(session: Session, case: Case, fields: dict[str, Any]) -> None:
        rating = rate(session, assessment_of(session, case))
        if rating.level != level:
            raise Conflict(
                f"the rules rate this round {rating.level!r}, not {level!r}: "
                + "; ".join(rating.reasons),
                field="transition",
                risk_level=rating.level,
            )

    return check


def _record_level(session: Session, case: Case, fields: dict[str, Any]) -> None:
    assessment = assessment_of(session, case)
    rating = rate(session, assessment)
    assessment.risk_level = rating.level
    assessment.risk_reasons = json.dumps(rating.reasons, ensure_ascii=False)


def _check_mitigations(session: Session, case: Case, fields: dict[str, Any]) -> None:
    assessment = assessment_of(session, case)
    if _count(session, Mitigation, assessment, round=assessment.round) == 0:
        raise Conflict(
            "record the mitigations of this round before reassessing", field="mitigations"
        )


def _next_round(session: Session, case: Case, fields: dict[str, Any]) -> None:
    assessment = assessment_of(session, case)
    assessment.round += 1
    assessment.risk_level = None


def _record_decision(session: Session, case: Case, fields: dict[str, Any]) -> None:
    assessment = assessment_of(session, case)
    assessment.decision = "implement" if case.state == "implementing" else "not_implement"
    assessment.decision_body = str(fields["decision_body"])[:200]
    assessment.decision_ref = str(fields.get("decision_ref") or "")[:100]
    assessment.decided_at = case.updated_at


def _check_monitored(session: Session, case: Case, fields: dict[str, Any]) -> None:
    if _count(session, MonitoringNote, assessment_of(session, case)) == 0:
        raise Conflict("record follow-up monitoring before completing", field="monitoring")


WORKFLOW = Workflow(
    key="assessment",
    number_prefix="RA",
    states=("registered", "assessing", "rejected", "postponed", "cleared", "implementing",
            "not_implemented", "completed", "withdrawn"),
    initial="registered",
    final=frozenset({"not_implemented", "completed", "withdrawn"}),
    transitions=(
        Transition("start", ("registered",), "assessing", MANAGE, label="panel seated, assess",
                   guard=_check_panel),
        Transition("rate_high", ("assessing",), "rejected", MANAGE,
                   label="high risk: do not implement", guard=_gate(HIGH), after=_record_level),
        Transition("rate_medium", ("assessing",), "postponed", MANAGE,
                   label="medium risk: postpone, mitigate, reassess", guard=_gate(MEDIUM),
                   after=_record_level),
        Transition("rate_low", ("assessing",), "cleared", MANAGE,
                   label="low risk: may implement with controls", guard=_gate(LOW),
                   after=_record_level),
        Transition("reassess", ("postponed",), "assessing", MANAGE,
                   label="mitigations recorded: assess again", guard=_check_mitigations,
                   after=_next_round),
        Transition("implement", ("cleared",), "implementing", MANAGE,
                   required=("decision_body", "decision_ref"),
                   label="decided: implement with controls", after=_record_decision),
        Transition("decline", ("rejected", "postponed", "cleared"), "not_implemented", MANAGE,
                   required=("decision_body", "reason"), label="decided: not implemented",
                   after=_record_decision),
        Transition("complete", ("implementing",), "completed", MANAGE, required=("result",),
                   label="follow-up monitoring concluded", guard=_check_monitored),
        Transition("withdraw", ("registered", "assessing", "postponed"), "withdrawn", MANAGE,
                   required=("reason",), label="withdrawn by the proposing unit"),
    ),
    clocks=(
        ClockRule("assess", ("start", "reassess"), ("rate_high", "rate_medium", "rate_low",
                  "withdraw"), from_category=True),
        ClockRule("decide", ("rate_high", "rate_low"), ("implement", "decline"),
                  basis="working_days", amount=10),
    ),
    escalations=(
        EscalationRule("assess-near", "assess", "near", ("notify",)),
        EscalationRule("assess-breach", "assess", "breach", ("notify", "flag")),
        EscalationRule("decide-breach", "decide", "breach", ("notify",)),
    ),
)  # fmt: skip

# code (ra_ keeps codes apart), name_zh, name_en, level, deadline amount, basis
DEFAULT_CATEGORIES: list[tuple[str, str, str, str, int, str]] = [
    ("ra_major_project", "重大工程项目", "Major construction project", "district", 30,
     "working_days"),
    ("ra_land_acquisition", "征地拆迁", "Land acquisition and resettlement", "district", 30,
     "working_days"),
    ("ra_public_policy", "重大政策", "Major public policy", "city", 20, "working_days"),
    ("ra_price_adjustment", "价格调整", "Public price adjustment", "city", 20, "working_days"),
    ("ra_environment", "环境影响", "Environmental impact", "district", 20, "working_days"),
    ("ra_reform", "重大改革", "Major reform", "city", 20, "working_days"),
]  # fmt: skip
