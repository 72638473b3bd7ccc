"""Complaints and petitions (letters and visits) with the statutory clocks.

The periods follow the Regulations on Letters and Visits (信访工作条例, 2022):

- the office registers the matter and forwards or assigns it within 15 days
  (``register``);
- the handling body tells the petitioner in writing within 15 days whether it
  accepts (``notify``); a body that has no jurisdiction objects within 5
  working days (``objection``), which sends the matter back to the office;
- handling ends with a written reply within 60 days of acceptance
  (``handle``), extendable once by up to 30 days with a reason told to the
  petitioner;
- the petitioner may ask for a review within 30 days of the reply
  (``review_window``), answered within 30 days (``review``), and for a
  re-review likewise; after the re-review the same facts are not accepted
  again.

Day periods are ``statutory_days``: counted from the day after the event,
ending at midnight, moved to the next working day when the last day is off.

Every step goes through ``pingan.governance.petitions``, which checks what
the state table cannot (jurisdiction, the accused's unit, the once-only
extension, the review windows); the guard refuses the step elsewhere.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy.orm import Session

from pingan.cases.engine import ClockRule, EscalationRule, Transition, Workflow
from pingan.cases.models import Case
from pingan.kit.errors import Conflict
from pingan.org.permissions import Perm

MANAGE = Perm.PETITIONS_MANAGE.value
HANDLE = Perm.PETITIONS_HANDLE.value

# Set by the petitions service while it takes a step it has checked.
IN_SERVICE: ContextVar[bool] = ContextVar("petition_service", default=False)


def _through_service(session: Session, case: Case, fields: dict[str, Any]) -> None:
    if not IN_SERVICE.get():
        raise Conflict(
            "petition steps are taken through /api/v1/petitions (statutory checks apply)",
            field="transition",
        )


def _step(
    name: str, sources: tuple[str, ...], target: str, perm: str, *required: str, label: str = ""
) -> Transition:
    return Transition(name, sources, target, perm, required=required, label=label,
                      guard=_through_service)  # fmt: skip


OPEN_WORK = ("registered", "forwarded", "accepted", "reviewing", "rereviewing")

WORKFLOW = Workflow(
    key="petition",
    number_prefix="XF",
    states=(
        "registered", "forwarded", "accepted", "not_accepted", "replied", "reviewing",
        "reviewed", "rereviewing", "concluded", "closed", "withdrawn",
    ),
    initial="registered",
    final=frozenset({"not_accepted", "concluded", "closed", "withdrawn"}),
    transitions=(
        _step("forward", ("registered",), "forwarded", MANAGE, "unit_id",
              label="forward or assign to the handling body"),
        _step("decline", ("registered", "forwarded"), "not_accepted", HANDLE, "reason",
              label="not accepted (told in writing)"),
        _step("object", ("forwarded",), "registered", HANDLE, "reason",
              label="no jurisdiction: back to the office"),
        _step("accept", ("forwarded",), "accepted", HANDLE, label="accept (told in writing)"),
        _step("extend", ("accepted",), "accepted", HANDLE, "reason", "days",
              label="extend handling once, up to 30 days"),
        _step("reply", ("accepted",), "replied", HANDLE, "opinion",
              label="written handling opinion"),
        _step("request_review", ("replied",), "reviewing", MANAGE,
              label="petitioner asks for a review"),
        _step("review", ("reviewing",), "reviewed", HANDLE, "opinion",
              label="review opinion"),
        _step("request_rereview", ("reviewed",), "rereviewing", MANAGE,
              label="petitioner asks for a re-review"),
        _step("rereview", ("rereviewing",), "concluded", HANDLE, "opinion",
              label="re-review opinion (final)"),
        _step("close", ("replied", "reviewed"), "closed", MANAGE, "reason",
              label="close: window lapsed or petitioner satisfied"),
        _step("withdraw", OPEN_WORK, "withdrawn", MANAGE, "reason",
              label="petitioner withdraws"),
    ),
    clocks=(
        ClockRule("register", ("create", "object"), ("forward", "decline", "withdraw"),
                  basis="statutory_days", amount=15),
        ClockRule("notify", ("forward",), ("accept", "decline", "object", "withdraw"),
                  basis="statutory_days", amount=15),
        ClockRule("objection", ("forward",), ("accept", "decline", "object", "withdraw"),
                  basis="working_days", amount=5),
        ClockRule("handle", ("accept",), ("reply", "withdraw"), basis="statutory_days",
                  amount=60),
        ClockRule("review_window", ("reply",), ("request_review", "close"),
                  basis="statutory_days", amount=30),
        ClockRule("review", ("request_review",), ("review", "withdraw"),
                  basis="statutory_days", amount=30),
        ClockRule("rereview_window", ("review",), ("request_rereview", "close"),
                  basis="statutory_days", amount=30),
        ClockRule("rereview", ("request_rereview",), ("rereview", "withdraw"),
                  basis="statutory_days", amount=30),
    ),
    escalations=(
        # Every duty clock reminds near its deadline and flags for supervision past it.
        *(
            rule
            for clock in ("register", "notify", "handle", "review", "rereview")
            for rule in (
                EscalationRule(f"{clock}-near", clock, "near", ("notify",)),
                EscalationRule(f"{clock}-breach", clock, "breach", ("notify", "flag")),
            )
        ),
    ),
)  # fmt: skip

# The clocks owed by the offices (on-time statistics); the windows are the petitioner's.
DUTY_CLOCKS = ("register", "notify", "handle", "review", "rereview")
WINDOW_CLOCKS = {"replied": "review_window", "reviewed": "rereview_window"}
MAX_EXTENSION_DAYS = 30
CHANNELS = ("visit", "letter", "phone", "web", "video")

# code, name_zh, name_en, department, handling level
DEFAULT_CATEGORIES: list[tuple[str, str, str, str, str]] = [
    ("petition.land_resettlement", "征地拆迁", "Land and resettlement", "natural_resources",
     "district"),
    ("petition.labour_wages", "劳动工资", "Labour and unpaid wages", "human_resources",
     "district"),
    ("petition.housing", "住房物业", "Housing and property management", "housing",
     "subdistrict"),
    ("petition.social_security", "社会保障", "Social security and relief", "civil_affairs",
     "district"),
    ("petition.environment", "生态环境", "Environment and pollution", "environment",
     "district"),
    ("petition.law_enforcement", "执法监督", "Law enforcement conduct", "supervision",
     "district"),
    ("petition.official_conduct", "干部作风", "Conduct of officials", "discipline",
     "district"),
    ("petition.other", "其他", "Other matters", "letters_visits", "subdistrict"),
]  # fmt: skip
