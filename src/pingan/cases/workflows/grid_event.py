"""Grid events: the seven steps of digital urban management as a workflow.

collection (reported) -> case creation (accepted, or cancelled as duplicate
or invalid) -> dispatch to the responsible department (dispatched) ->
handling -> feedback -> verification and closure by the reporter or grid
worker (verified) -> evaluation (evaluated).
"""

from __future__ import annotations

from pingan.cases.engine import ClockRule, EscalationRule, Transition, Workflow
from pingan.org.permissions import Perm

MANAGE = Perm.CASES_MANAGE.value
HANDLE = Perm.CASES_HANDLE.value
REPORT = Perm.CASES_REPORT.value

WORKFLOW = Workflow(
    key="grid_event",
    number_prefix="GE",
    states=(
        "reported",
        "accepted",
        "cancelled",
        "dispatched",
        "handling",
        "suspended",
        "feedback",
        "verified",
        "evaluated",
    ),
    initial="reported",
    final=frozenset({"cancelled", "verified", "evaluated"}),
    transitions=(
        Transition("accept", ("reported",), "accepted", MANAGE, label="verify and accept"),
        Transition(
            "cancel", ("reported",), "cancelled", MANAGE, required=("reason",),
            label="cancel as duplicate or invalid",
        ),
        Transition("dispatch", ("accepted",), "dispatched", MANAGE, label="send to department"),
        Transition("start", ("dispatched",), "handling", HANDLE, label="start handling"),
        Transition(
            "suspend", ("handling",), "suspended", HANDLE, required=("reason",),
            label="wait for a third party (pauses the clock)",
        ),
        Transition("resume", ("suspended",), "handling", HANDLE, label="resume handling"),
        Transition(
            "feedback", ("handling",), "feedback", HANDLE, required=("result",),
            label="report the result",
        ),
        Transition(
            "reopen", ("feedback",), "handling", REPORT, allow_reporter=True,
            required=("reason",), label="result not accepted",
        ),
        Transition(
            "verify", ("feedback",), "verified", REPORT, allow_reporter=True,
            label="verify on site and close",
        ),
        Transition(
            "evaluate", ("verified",), "evaluated", MANAGE, required=("rating",),
            label="evaluate the handling",
        ),
    ),
    clocks=(
        ClockRule("accept", ("create",), ("accept", "cancel"), basis="working_hours", amount=2),
        ClockRule(
            "handle", ("dispatch", "reopen"), ("feedback",),
            pause_on=("suspend",), resume_on=("resume",), from_category=True,
        ),
        ClockRule("verify", ("feedback",), ("verify", "reopen"), basis="working_days", amount=1),
    ),
    escalations=(
        EscalationRule("accept-breach", "accept", "breach", ("notify", "flag")),
        EscalationRule("handle-near", "handle", "near", ("notify",)),
        EscalationRule("handle-breach", "handle", "breach", ("notify", "reassign_up", "flag")),
        EscalationRule("verify-breach", "verify", "breach", ("notify",)),
    ),
)  # fmt: skip

# code, kind, name_zh, name_en, department, handling level, deadline amount, basis
DEFAULT_CATEGORIES: list[tuple[str, str, str, str, str, str, int, str]] = [
    ("manhole_cover", "component", "井盖", "Manhole cover", "municipal", "subdistrict", 4,
     "working_hours"),
    ("street_light", "component", "路灯", "Street light", "municipal", "district", 2,
     "working_days"),
    ("road_sign", "component", "交通标志", "Road sign", "traffic", "district", 3, "working_days"),
    ("illegal_dumping", "event", "乱倒垃圾", "Illegal dumping", "sanitation", "subdistrict", 1,
     "working_days"),
    ("blocked_passage", "event", "通道堵塞", "Blocked passage or fire exit", "fire_safety",
     "subdistrict", 8, "working_hours"),
    ("road_occupation", "event", "占道经营", "Occupied road", "urban_management", "subdistrict",
     2, "working_days"),
    ("hazard", "event", "安全隐患", "Safety hazard", "emergency", "district", 1, "calendar_days"),
    ("dispute", "event", "矛盾纠纷", "Dispute to mediation", "mediation", "community", 5,
     "working_days"),
]  # fmt: skip
