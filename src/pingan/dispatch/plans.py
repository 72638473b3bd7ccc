"""Response plans: which tiers, how many, and how fast each must acknowledge.

A plan is chosen by the incident type (the most specific code with a plan,
e.g. ``traffic.collision`` falls back to ``traffic``) and the severity: at
or above a plan's ``min_severity``. Types with no plan get the default plan.

The built-in plans below serve until an operator writes their own as JSON
(``PINGAN_DISPATCH_PLANS_FILE``)::

    {"ack_seconds": {"1": 30, "2": 60, "3": 120},
     "default": {"name": "default", "slots": [{"tier": 1}]},
     "plans": {"fight": [{"name": "fight", "slots": [{"tier": 1, "count": 2},
                                                      {"tier": 2}]}]}}

The file is checked whole when read (a bad file is refused with the place of
each error, and the previous plans stay in force) and read again when it
changes.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pingan.kit.errors import ValidationFailed
from pingan.settings import get_settings

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class PlanSet:
    plans: dict[str, tuple[Plan, ...]]
    default: Plan
    ack_seconds: dict[int, int]
    source: str


BUILTIN = PlanSet(PLANS, DEFAULT_PLAN, ACK_SECONDS, "built-in")


# --- the JSON form, checked with pydantic -------------------------------------------


class _SlotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tier: int = Field(ge=1, le=3)
    count: int = Field(1, ge=1, le=50)
    skill: str | None = Field(None, max_length=50)
    within_m: float | None = Field(None, gt=0, le=50_000)


class _PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    slots: list[_SlotIn] = Field(min_length=1, max_length=20)
    min_severity: int = Field(1, ge=1, le=5)


class _PlanSetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ack_seconds: dict[int, int] = Field(default_factory=lambda: dict(ACK_SECONDS))
    default: _PlanIn = Field(
        default_factory=lambda: _PlanIn(name="default", slots=[_SlotIn(tier=1)])
    )
    plans: dict[str, list[_PlanIn]] = Field(default_factory=dict)


def _plan(p: _PlanIn) -> Plan:
    return Plan(p.name, tuple(Slot(s.tier, s.count, s.skill, s.within_m) for s in p.slots),
                p.min_severity)  # fmt: skip


def parse_plans(text: str, source: str) -> PlanSet:
    """A plan set from JSON text; ``ValidationFailed`` names each error's place."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            f"{source}: not JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None
    try:
        doc = _PlanSetIn.model_validate(raw)
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:10]
        )
        raise ValidationFailed(f"{source}: {where}") from None
    missing = {1, 2, 3} - set(doc.ack_seconds)
    if missing or any(not 5 <= v <= 3600 for v in doc.ack_seconds.values()):
        raise ValidationFailed(f"{source}: ack_seconds needs tiers 1, 2 and 3, each 5-3600 seconds")
    for code, plans in doc.plans.items():
        severities = [p.min_severity for p in plans]
        if severities != sorted(severities, reverse=True):
            # The first plan whose min_severity is met wins: the most severe must come first.
            raise ValidationFailed(
                f"{source}: plans.{code}: list plans from the highest min_severity down"
            )
    return PlanSet(
        plans={code: tuple(_plan(p) for p in plans) for code, plans in doc.plans.items()},
        default=_plan(doc.default),
        ack_seconds=dict(doc.ack_seconds),
        source=source,
    )


_lock = threading.Lock()
_loaded: dict[str, tuple[float, PlanSet]] = {}


def active_plans() -> PlanSet:
    """The configured plan set; the file is read again when its modification time changes."""
    path = get_settings().dispatch_plans_file
    if not path:
        return BUILTIN
    try:
        mtime = Path(path).stat().st_mtime
    except OSError as exc:
        raise ValidationFailed(f"dispatch plans file {path}: {exc.strerror}") from None
    with _lock:
        cached = _loaded.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
    try:
        plan_set = parse_plans(Path(path).read_text(encoding="utf-8"), path)
    except ValidationFailed:
        if cached is None:
            raise  # nothing to fall back on: dispatch says why instead of guessing
        log.error("dispatch plans file %s is invalid; keeping the plans read before", path)
        return cached[1]
    with _lock:
        _loaded[path] = (mtime, plan_set)
    return plan_set


def ack_seconds(tier: int) -> int:
    return active_plans().ack_seconds[tier]


def plan_for(type_code: str, severity: int, plan_set: PlanSet | None = None) -> Plan:
    plan_set = plan_set or active_plans()
    code: str | None = type_code
    while code:
        for plan in plan_set.plans.get(code, ()):
            if severity >= plan.min_severity:
                return plan
        code = code.rsplit(".", 1)[0] if "." in code else None
    return plan_set.default
