"""Who a session token or API key stands for, remembered for a few seconds.

Resolving a credential takes two queries (the token or key with its user,
then the user's grants); under load that was a third of the statements of a
typical read. A process keeps each answer for ``ttl_s`` seconds
(``PINGAN_AUTH_CACHE_SECONDS``; 0 turns the cache off) and forgets them all
as soon as anything that could change an answer commits:

* in the committing process, synchronously after the commit (so a logout or
  a revoked key is refused by the very next request);
* in every other process through the event bus (PostgreSQL ``NOTIFY``,
  delivered within milliseconds of the commit), channel ``auth``;
* and at the latest after ``ttl_s``, should an event be missed (a change
  made outside the application).

On PostgreSQL a process answers from its cache only while its event bus is
connected: while it cannot hear the others, it asks the database every time,
and once it hears them again it starts afresh. On SQLite (one serving
process) a change committed by another process, such as the CLI, is seen
after ``ttl_s`` at the latest.

What changes an answer: any delete of users, tokens, keys, memberships,
roles or org units, an update of what a principal is made of (a user's name
or active flag, a token's or key's revocation, expiry or scopes, anything of
a membership, role or unit: a unit's path is part of a grant), and any new
membership or role. A new token or key does not (it is not cached yet), nor
does a login's bookkeeping or recording a key's last use.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event, inspect
from sqlalchemy.orm import InstanceState, ORMExecuteState, Session

from pingan.kit import events
from pingan.org.models import ApiKey, AuthToken, Membership, OrgUnit, Role, User
from pingan.org.principal import Principal

CHANNEL = "auth"
MAX_ENTRIES = 10_000
# Put on a statement that touches an auth table without changing any answer.
NEUTRAL = "pingan_auth_neutral"

_WATCHED = (User, AuthToken, ApiKey, Membership, Role, OrgUnit)
_WATCHED_TABLES = frozenset(cls.__tablename__ for cls in _WATCHED)
# The attributes of an updated row that a principal depends on (None: any). A login
# resets the user's failure count and a request records a key's last use: neither
# changes whom a credential stands for, and a login must not empty every cache.
_MATTERS: dict[type, frozenset[str] | None] = {
    User: frozenset({"username", "is_active"}),
    AuthToken: frozenset({"revoked_at", "expires_at", "user_id", "token_hash"}),
    ApiKey: frozenset({"revoked_at", "scopes", "user_id", "key_hash"}),
    Membership: None,
    Role: None,
    OrgUnit: None,
}
# New rows of these change existing principals; new users, tokens, keys and units do not.
_NEW_MATTERS = (Membership, Role)
_CHANGED = "pingan.auth.changed"


class PrincipalCache:
    """Credential digest -> (principal, monotonic deadline); bounded, thread-safe."""

    def __init__(self, ttl_s: float, hearing: threading.Event | None = None) -> None:
        self.ttl_s = ttl_s
        # Set while other processes' changes are heard; None: always (tests, one process).
        self.hearing = hearing
        self._unsubscribe: Callable[[], None] | None = None
        self._entries: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0
        _caches.add(self)

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0 and (self.hearing is None or self.hearing.is_set())

    def generation(self) -> int:
        """Taken before a lookup; an answer looked up across a clear is not kept."""
        return self._generation

    def get(self, digest: str) -> Principal | None:
        if not self.enabled:
            return None
        with self._lock:
            found = self._entries.get(digest)
            if found is None:
                return None
            principal, deadline = found
            if time.monotonic() >= deadline:
                del self._entries[digest]
                return None
            return principal

    def put(
        self, digest: str, principal: Principal, generation: int, *, valid_s: float | None = None
    ) -> None:
        """Keep ``principal`` for ``ttl_s`` (or ``valid_s`` if shorter: a token about to expire)."""
        if not self.enabled:
            return
        keep = self.ttl_s if valid_s is None else min(self.ttl_s, valid_s)
        if keep <= 0:
            return
        with self._lock:
            if generation != self._generation:
                return  # something changed while this answer was read: it may be stale
            self._entries[digest] = (principal, time.monotonic() + keep)
            self._entries.move_to_end(digest)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)

    def clear(self, _payload: object = None) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1

    def __len__(self) -> int:
        return len(self._entries)

    def close(self) -> None:
        """Stop listening (the app is shutting down) and forget everything."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.clear()


_caches: weakref.WeakSet[PrincipalCache] = weakref.WeakSet()


def start(engine: Engine, ttl_s: float) -> PrincipalCache | None:
    """A serving process's cache, listening to the others' auth changes (None when off)."""
    if ttl_s <= 0:
        return None
    bus = events.bus_for(engine)
    cache = PrincipalCache(ttl_s, hearing=bus.connected)
    cache._unsubscribe = bus.subscribe(CHANNEL, cache.clear)
    return cache


def forget_everything() -> None:
    """Clear every cache of this process (after a local auth change commits)."""
    for cache in list(_caches):
        cache.clear()


def _mark_changed(session: Session) -> None:
    if not session.info.get(_CHANGED):
        session.info[_CHANGED] = True
        events.publish(session, CHANNEL, {})


@event.listens_for(Session, "before_flush")
def _watch_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(_CHANGED):
        return
    if (
        any(isinstance(o, _NEW_MATTERS) for o in session.new)
        or any(isinstance(o, _WATCHED) for o in session.deleted)
        or any(_changes_a_principal(o) for o in session.dirty)
    ):
        _mark_changed(session)


def _changes_a_principal(obj: object) -> bool:
    if not isinstance(obj, _WATCHED):
        return False
    matters = _MATTERS[type(obj)]
    state: InstanceState[Any] = inspect(obj)
    changed = (name for name, attr in state.attrs.items() if attr.history.has_changes())
    return any(matters is None or name in matters for name in changed)


@event.listens_for(Session, "do_orm_execute")
def _watch_bulk(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete) or state.session.info.get(_CHANGED):
        return
    if state.execution_options.get(NEUTRAL):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _WATCHED_TABLES:
        _mark_changed(state.session)


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        forget_everything()


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)
