"""Writes a transaction makes as it commits, in one declared order.

Some writes belong at COMMIT rather than where the change happens: version
counters and stamps (hot rows, locked until the commit), and the audit chain
(one lock every writer shares). Their order matters: the chain must come last,
so that nothing else runs while its lock is held. SQLAlchemy runs
``before_commit`` listeners in the order they were registered, which is the
order modules happen to be imported in; hooks registered here run by rank
instead, lowest first.

Hooks run for the outer commit only, not when a savepoint is released.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

Hook = Callable[[Session], None]

VERSIONS = 10  # kit/meta: counters bumped at commit
STAMPS = 20  # stamps that name what the transaction wrote (cameras/streets)
AUDIT_CHAIN = 100  # last: the chain's lock is held from here to COMMIT

_hooks: dict[str, tuple[int, Hook]] = {}
# The hooks in running order, kept sorted as they register: every commit reads it.
_in_order: list[Hook] = []


def at_commit(rank: int) -> Callable[[Hook], Hook]:
    """Register the decorated function to run as a transaction commits, by ``rank``."""

    def register(hook: Hook) -> Hook:
        _hooks[f"{hook.__module__}.{hook.__qualname__}"] = (rank, hook)
        _reorder()
        return hook

    return register


def unregister(hook: Hook) -> None:
    """Remove a hook (tests that register one of their own)."""
    _hooks.pop(f"{hook.__module__}.{hook.__qualname__}", None)
    _reorder()


def registered() -> list[str]:
    """The hooks' names in the order they run."""
    return [name for name, _ in sorted(_hooks.items(), key=lambda kv: (kv[1][0], kv[0]))]


def _reorder() -> None:
    _in_order[:] = [_hooks[name][1] for name in registered()]


@event.listens_for(Session, "before_commit")
def _run_hooks(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint being released: the outer commit runs them
    for hook in _in_order:
        hook(session)
