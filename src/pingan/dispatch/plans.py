"""Response plans: which tiers, how many, and how fast each must acknowledge.

A plan is chosen by the incident type (the most specific code with a plan,
e.g. ``traffic.collision`` falls back to ``traffic``) and the severity: at
or above a plan's ``min_severity``. Types with no plan get ``DEFAULT_PLAN``.
"""

from __future__ import annotations

from dataclasses import dataclass

# Seconds allowed to acknowledge, by tier of the responder sent.
ACK_SECONDS: dict[int, int] = {1: 30, 2: 60, 3: 120}


@dataclass(frozen=True)
class Slot:
    tier: int
    count: int = 1
    skill: str | None = None
    # Straight-line radius around the incident (PulsePoint-style alerts to volunteers).
    within_m: float | None = None


@dataclass(frozen=True)
class Plan:
    name: str
    slots: tuple[Slot, ...]
    min_severity: int = 1


PLANS: dict[str, tuple[Plan, ...]] = {
    "fight": (Plan("fight", (Slot(1, 2), Slot(2, 1))),),
    "assault": (Plan("assault", (Slot(1, 2), Slot(3, 2, "first_aid", 400.0))),),
    "robbery": (Plan("robbery", (Slot(1, 2),)),),
    "fire": (Plan("fire", (Slot(1, 1), Slot(3, 2, "fire_safety", 400.0))),),
    "medical": (Plan("medical", (Slot(1, 1), Slot(3, 3, "first_aid", 400.0))),),
    "traffic": (
        Plan("traffic-major", (Slot(1, 2), Slot(3, 1, "first_aid", 400.0)), min_severity=3),
        Plan("traffic", (Slot(1, 1),)),
    ),
    "dispute": (Plan("dispute", (Slot(2, 1),)),),
    "hazard": (Plan("hazard", (Slot(2, 1),)),),
    "public_order": (Plan("public_order", (Slot(2, 1),)),),
}
DEFAULT_PLAN = Plan("default", (Slot(1, 1),))


def plan_for(type_code: str, severity: int) -> Plan:
    code: str | None = type_code
    while code:
        for plan in PLANS.get(code, ()):
            if severity >= plan.min_severity:
                return plan
        code = code.rsplit(".", 1)[0] if "." in code else None
    return DEFAULT_PLAN
