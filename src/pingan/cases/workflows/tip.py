"""Anonymous tips: received -> triaged -> referred -> concluded (or dismissed).

A tip has no reporter: no account, no address, no device. The tipster holds
the tip number and a PIN. Steps go through ``pingan.governance.tips``, which
records the triage level, the referral and the outcome beside the case; the
guard refuses the step elsewhere.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy.orm import Session

from pingan.cases.engine import ClockRule, EscalationRule, Transition, Workflow
from pingan.cases.models import Case
from pingan.kit.errors import Conflict
from pingan.org.permissions import Perm

HANDLE = Perm.TIPS_HANDLE.value

IN_SERVICE: ContextVar[bool] = ContextVar("tip_service", default=False)


def _through_service(session: Session, case: Case, fields: dict[str, Any]) -> None:
    if not IN_SERVICE.get():
        raise Conflict("tip steps are taken through /api/v1/tips", field="transition")


LEVELS = ("urgent", "high", "normal", "low")
# Outcomes, most to least substantial; rewards are tiered by them.
OUTCOMES = ("major_confirmed", "confirmed", "partly_confirmed", "unfounded")

WORKFLOW = Workflow(
    key="tip",
    number_prefix="JB",
    states=("received", "triaged", "referred", "concluded", "dismissed"),
    initial="received",
    final=frozenset({"concluded", "dismissed"}),
    transitions=(
        Transition("triage", ("received",), "triaged", HANDLE, required=("level",),
                   label="assess urgency and category", guard=_through_service),
        Transition("dismiss", ("received", "triaged"), "dismissed", HANDLE,
                   required=("reason",), label="no actionable content",
                   guard=_through_service),
        Transition("refer", ("triaged",), "referred", HANDLE, required=("unit_id",),
                   label="refer to the handling unit", guard=_through_service),
        Transition("conclude", ("referred",), "concluded", HANDLE, required=("outcome",),
                   label="record the outcome", guard=_through_service),
    ),
    clocks=(
        # Tips come day and night, threats among them: triage within 24 hours, not office hours.
        ClockRule("triage", ("create",), ("triage", "dismiss"), basis="calendar_days",
                  amount=1),
        ClockRule("handle", ("refer",), ("conclude",), from_category=True),
    ),
    escalations=(
        EscalationRule("triage-breach", "triage", "breach", ("notify", "flag")),
        EscalationRule("handle-near", "handle", "near", ("notify",)),
        EscalationRule("handle-breach", "handle", "breach", ("notify", "flag")),
    ),
)  # fmt: skip

# code, name_zh, name_en, department, handling level, deadline amount, basis
DEFAULT_CATEGORIES: list[tuple[str, str, str, str, str, int, str]] = [
    ("tip.violence_terror", "暴恐威胁", "Threats of violence or terrorism", "public_security",
     "city", 3, "calendar_days"),
    ("tip.drugs", "涉毒", "Drugs", "public_security", "district", 30, "calendar_days"),
    ("tip.safety_hazard", "安全隐患", "Safety hazards", "emergency", "district", 10,
     "working_days"),
    ("tip.fraud", "诈骗", "Fraud", "public_security", "district", 30, "calendar_days"),
    ("tip.gambling", "赌博", "Gambling", "public_security", "district", 30, "calendar_days"),
    ("tip.organised_crime", "涉黑涉恶", "Organised crime", "public_security", "city", 60,
     "calendar_days"),
    ("tip.pollution", "环境污染", "Pollution", "environment", "district", 15, "working_days"),
    ("tip.other", "其他", "Other", "letters_visits", "district", 15, "working_days"),
]  # fmt: skip
