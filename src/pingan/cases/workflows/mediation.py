"""Dispute mediation as a case type: one case, whatever channel mediates it.

registered -> accept (into people's, administrative or judicial mediation)
-> mediating, where ``refer`` moves the dispute between channels keeping one
history, until an outcome: ``agree`` (terms and a follow-up date), ``partial``,
``fail`` (failed and referred out, e.g. to court), or ``withdraw``.

The 30-day mediation period is the general rule of the people's mediation
regulations ("一般在一个月内调结"); it restarts when another channel takes
the dispute over. Acceptance within 3 working days is local practice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.cases.engine import ClockRule, EscalationRule, Transition, Workflow
from pingan.cases.models import Case
from pingan.governance.mediation_models import ChannelMove, Dispute
from pingan.kit.errors import NotFound, ValidationFailed
from pingan.org.permissions import Perm

HANDLE = Perm.CASES_HANDLE.value

CHANNELS = ("people", "administrative", "judicial")
# Where a dispute goes when mediation fails.
OUTSIDE = ("court", "arbitration", "letters_and_visits", "police", "other")
OUTCOMES = {"agree": "agreed", "partial": "partial", "fail": "referred", "withdraw": "withdrawn"}


def dispute_of(session: Session, case: Case) -> Dispute:
    found = session.scalar(select(Dispute).where(Dispute.case_id == case.id))
    if found is None:
        raise NotFound(f"case {case.number} has no dispute record")
    return found


def _channel(fields: dict[str, Any]) -> str:
    channel = str(fields["channel"])
    if channel not in CHANNELS:
        raise ValidationFailed(
            f"channel must be one of {', '.join(CHANNELS)}", field="fields.channel"
        )
    return channel


def _check_accept(session: Session, case: Case, fields: dict[str, Any]) -> None:
    _channel(fields)


def _check_refer(session: Session, case: Case, fields: dict[str, Any]) -> None:
    if _channel(fields) == dispute_of(session, case).channel:
        raise ValidationFailed("the dispute is already in that channel", field="fields.channel")


def _check_agree(session: Session, case: Case, fields: dict[str, Any]) -> None:
    try:
        dt.date.fromisoformat(str(fields["follow_up_on"]))
    except ValueError:
        raise ValidationFailed(
            "follow_up_on must be a date (YYYY-MM-DD)", field="fields.follow_up_on"
        ) from None


def _check_fail(session: Session, case: Case, fields: dict[str, Any]) -> None:
    if fields["referred_to"] not in OUTSIDE:
        raise ValidationFailed(
            f"referred_to must be one of {', '.join(OUTSIDE)}", field="fields.referred_to"
        )


def _move(
    session: Session, dispute: Dispute, at: dt.datetime, to: str, fields: dict[str, Any]
) -> None:
    session.add(
        ChannelMove(
            dispute_id=dispute.id,
            at=at,
            from_channel=dispute.channel,
            to_channel=to,
            body=str(fields.get("body") or "")[:200],
            reason=str(fields.get("reason") or ""),
        )
    )


def _record_channel(session: Session, case: Case, fields: dict[str, Any]) -> None:
    dispute = dispute_of(session, case)
    _move(session, dispute, case.updated_at, str(fields["channel"]), fields)
    dispute.channel = str(fields["channel"])
    dispute.mediator_body = str(fields.get("body") or "")[:200]


def _record_outcome(session: Session, case: Case, fields: dict[str, Any]) -> None:
    dispute = dispute_of(session, case)
    dispute.outcome, dispute.outcome_at = case.state, case.updated_at
    if case.state in ("agreed", "partial"):
        dispute.terms = str(fields["terms"])
        if case.state == "partial":
            dispute.terms += "\n\nUnresolved: " + str(fields["unresolved"])
    if case.state == "agreed":
        dispute.follow_up_on = dt.date.fromisoformat(str(fields["follow_up_on"]))
    if case.state == "referred":
        dispute.referred_to = str(fields["referred_to"])
        _move(session, dispute, case.updated_at, dispute.referred_to, fields)


WORKFLOW = Workflow(
    key="mediation",
    number_prefix="MD",
    states=("registered", "mediating", "agreed", "partial", "referred", "withdrawn"),
    initial="registered",
    final=frozenset({"agreed", "partial", "referred", "withdrawn"}),
    transitions=(
        Transition("accept", ("registered",), "mediating", HANDLE, required=("channel",),
                   label="accept into a mediation channel", guard=_check_accept,
                   after=_record_channel),
        Transition("refer", ("mediating",), "mediating", HANDLE, required=("channel", "reason"),
                   label="refer to another mediation channel", guard=_check_refer,
                   after=_record_channel),
        Transition("agree", ("mediating",), "agreed", HANDLE, required=("terms", "follow_up_on"),
                   label="agreement reached", guard=_check_agree, after=_record_outcome),
        Transition("partial", ("mediating",), "partial", HANDLE, required=("terms", "unresolved"),
                   label="partly agreed", after=_record_outcome),
        Transition("fail", ("registered", "mediating"), "referred", HANDLE,
                   required=("referred_to", "reason"), label="failed and referred out",
                   guard=_check_fail, after=_record_outcome),
        Transition("withdraw", ("registered", "mediating"), "withdrawn", HANDLE,
                   required=("reason",), label="withdrawn by the parties",
                   after=_record_outcome),
    ),
    clocks=(
        ClockRule("accept", ("create",), ("accept", "fail", "withdraw"),
                  basis="working_days", amount=3),
        ClockRule("mediate", ("accept", "refer"), ("agree", "partial", "fail", "withdraw"),
                  from_category=True),
    ),
    escalations=(
        EscalationRule("accept-breach", "accept", "breach", ("notify", "flag")),
        EscalationRule("mediate-near", "mediate", "near", ("notify",)),
        EscalationRule("mediate-breach", "mediate", "breach", ("notify", "flag")),
    ),
)  # fmt: skip

# code (md_ keeps codes apart from other case types), name_zh, name_en,
# default responsible level, deadline amount, basis
DEFAULT_CATEGORIES: list[tuple[str, str, str, str, int, str]] = [
    ("md_neighbour", "邻里纠纷", "Neighbours", "community", 30, "calendar_days"),
    ("md_family", "婚姻家庭纠纷", "Marriage and family", "community", 30, "calendar_days"),
    ("md_property_mgmt", "物业纠纷", "Property management", "community", 30, "calendar_days"),
    ("md_labour", "劳动争议", "Labour", "subdistrict", 30, "calendar_days"),
    ("md_traffic_accident", "交通事故纠纷", "Traffic accident", "subdistrict", 30, "calendar_days"),
    ("md_medical", "医疗纠纷", "Medical", "district", 30, "calendar_days"),
    ("md_land_resettlement", "征地拆迁纠纷", "Land and resettlement", "district", 30,
     "calendar_days"),
    ("md_contract_debt", "合同债务纠纷", "Contract and debt", "subdistrict", 30, "calendar_days"),
    ("md_other", "其他纠纷", "Other", "community", 30, "calendar_days"),
]  # fmt: skip
