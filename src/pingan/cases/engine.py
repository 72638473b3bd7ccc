"""How a case type is declared: states, transitions, clocks and escalation rules.

A hand-written state table rather than a library: a workflow is data that a
reader can take in at a glance, and the engine that runs it (``service`` and
``clocks``) is a few dozen lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pingan.kit.errors import Conflict

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from pingan.cases.models import Case

CREATE = "create"  # the pseudo-transition that starts a case


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    # Permission the actor needs over the case's assigned unit (or its grid).
    perm: str
    # The reporter of the case may also take it, whatever their grants.
    allow_reporter: bool = False
    required: tuple[str, ...] = ()
    label: str = ""
    # A case type's own rule (e.g. an assessment's risk gate), called as
    # guard(session, case, fields) before the step; it raises to refuse.
    guard: Callable[[Session, Case, dict[str, Any]], None] | None = field(
        default=None, compare=False
    )
    # Records the case type's own details (an agreement's terms...) after the step.
    after: Callable[[Session, Case, dict[str, Any]], None] | None = field(
        default=None, compare=False
    )


@dataclass(frozen=True)
class ClockRule:
    """An SLA clock: started, stopped, paused and resumed by named transitions.

    With ``from_category`` the duration comes from the case's category.
    """

    name: str
    start_on: tuple[str, ...]
    stop_on: tuple[str, ...]
    pause_on: tuple[str, ...] = ()
    resume_on: tuple[str, ...] = ()
    basis: str = "working_hours"
    amount: int = 0
    from_category: bool = False


@dataclass(frozen=True)
class EscalationRule:
    """What happens when a clock nears (``near``) or passes (``breach``) its deadline."""

    name: str
    clock: str
    when: str  # "near" | "breach"
    actions: tuple[str, ...]  # "notify", "reassign_up", "flag"


ACTIONS = frozenset({"notify", "reassign_up", "flag"})


@dataclass(frozen=True)
class Workflow:
    key: str
    number_prefix: str
    states: tuple[str, ...]
    initial: str
    final: frozenset[str]
    transitions: tuple[Transition, ...]
    clocks: tuple[ClockRule, ...] = ()
    escalations: tuple[EscalationRule, ...] = ()
    # A clock is "near" its deadline once this share of its budget is used.
    near_fraction: float = 0.8
    _by_name: dict[str, Transition] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for t in self.transitions:
            unknown = [s for s in (*t.sources, t.target) if s not in self.states]
            if unknown:
                raise ValueError(f"{self.key}.{t.name}: unknown states {unknown}")
            self._by_name[t.name] = t
        for rule in self.escalations:
            if not set(rule.actions) <= ACTIONS or rule.when not in ("near", "breach"):
                raise ValueError(f"{self.key}: bad escalation rule {rule.name}")

    def transition(self, name: str, state: str) -> Transition:
        """The named transition, if it may be taken from ``state``."""
        found = self._by_name.get(name)
        if found is None:
            known = ", ".join(self._by_name)
            raise Conflict(
                f"{self.key} has no transition {name!r} (known: {known})", field="transition"
            )
        if state not in found.sources:
            allowed = ", ".join(self.allowed_from(state)) or "none: the case is final"
            raise Conflict(
                f"transition {name!r} is not allowed from state {state!r} (allowed: {allowed})",
                field="transition",
                state=state,
            )
        return found

    def allowed_from(self, state: str) -> list[str]:
        return [t.name for t in self.transitions if state in t.sources]

    def escalations_for(self, clock: str) -> list[EscalationRule]:
        return [r for r in self.escalations if r.clock == clock]
