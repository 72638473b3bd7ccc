"""Events between processes: publish after commit, subscribe anywhere in any process.

``publish(session, channel, payload)`` inside a transaction announces a change
that the transaction makes; listeners hear it only once the transaction has
committed, and never if it rolls back, so a listener that reads the database
on an event always finds the change.

- PostgreSQL: ``NOTIFY`` inside the transaction (PostgreSQL itself delivers it
  at commit, to every process that listens). Each process holds one listening
  psycopg connection, on a background thread, and reconnects after a
  PostgreSQL restart; after a reconnect every listener is told that events may
  have been missed (payload ``None``) so it reads the database again.
- SQLite (single-process embedded mode): the events are kept on the session
  and delivered in this process after commit. Other processes' writes (the
  CLI) are not announced: readers also poll the database now and then.

Listeners are called on the bus thread (or the committing thread on SQLite)
and must return quickly: hand the event over to a queue or an event loop.
An event says "this changed, read the database": a transaction sends at most
``MAX_PER_TRANSACTION`` events per channel (a bulk change is not a flood).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

log = logging.getLogger("pingan.events")

# Payload ``None`` means "events may have been lost; read the database again".
Listener = Callable[[dict[str, Any] | None], None]

PREFIX = "pingan_"
_CHANNEL = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
_PENDING = "pingan.events.pending"
_COUNTS = "pingan.events.counts"
MAX_PER_TRANSACTION = 20
# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more.
MAX_PAYLOAD_BYTES = 7900


def _check_channel(channel: str) -> None:
    if not _CHANNEL.match(channel):
        raise ValueError(f"bad event channel {channel!r}: lower-case letters, digits, _")


def _url_key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def publish(session: Session, channel: str, payload: dict[str, Any]) -> None:
    """Announce, on ``channel``, a change this session's transaction makes (sent at commit)."""
    _check_channel(channel)
    text = json.dumps(payload, separators=(",", ":"), default=str)
    if len(text.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"event payload on {channel!r} too large: send ids, not rows")
    counts: dict[str, int] = session.info.setdefault(_COUNTS, {})
    counts[channel] = counts.get(channel, 0) + 1
    if counts[channel] > MAX_PER_TRANSACTION:
        return
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # Transactional: PostgreSQL delivers it at commit and drops it on rollback.
        session.execute(select(func.pg_notify(PREFIX + channel, text)))
        return
    engine = bind if isinstance(bind, Engine) else bind.engine
    session.info.setdefault(_PENDING, []).append((_url_key(engine), channel, json.loads(text)))


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session: Session) -> None:
    session.info.pop(_COUNTS, None)
    for url, channel, payload in session.info.pop(_PENDING, ()):
        bus = _buses.get(url)
        if bus is not None:
            bus.dispatch(channel, payload)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_COUNTS, None)


class EventBus:
    """The subscriptions of one process to one database's events."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.over_postgres = engine.dialect.name == "postgresql"
        self._listeners: dict[str, list[Listener]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        # Set while the listening connection is up (always set on SQLite).
        self.connected = threading.Event()
        if not self.over_postgres:
            self.connected.set()

    def subscribe(self, channel: str, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for every event on ``channel``; returns the unsubscribe function."""
        _check_channel(channel)
        with self._lock:
            self._listeners.setdefault(channel, []).append(listener)
            if self.over_postgres and self._thread is None:
                self._thread = threading.Thread(
                    target=self._listen, name="pingan-events", daemon=True
                )
                self._thread.start()

        def unsubscribe() -> None:
            with self._lock:
                found = self._listeners.get(channel, [])
                if listener in found:
                    found.remove(listener)

        return unsubscribe

    def dispatch(self, channel: str, payload: dict[str, Any] | None) -> None:
        with self._lock:
            listeners = list(self._listeners.get(channel, ()))
        for listener in listeners:
            try:
                listener(payload)
            except Exception:  # one broken listener must not silence the others
                log.exception("event listener failed", extra={"channel": channel})

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _listen(self) -> None:
        """The listening connection: LISTEN on every channel, hand notifications out.

        The thread ends once nobody listens any more (a later subscriber starts
        another), so a process holds the connection only while it streams.
        """
        import psycopg
        from psycopg import sql

        conninfo = self.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        backoff, ever_connected = 0.2, False
        while True:
            try:
                with psycopg.connect(
                    conninfo, autocommit=True, connect_timeout=5, application_name="pingan-events"
                ) as conn:
                    listening: set[str] = set()
                    idle = 0
                    while True:
                        if self._done():
                            return
                        with self._lock:
                            wanted = set(self._listeners) - listening
                        for channel in sorted(wanted):
                            conn.execute(
                                sql.SQL("LISTEN {}").format(sql.Identifier(PREFIX + channel))
                            )
                            listening.add(channel)
                            # Events sent before LISTEN took hold (since the subscription,
                            # or while the connection was down) are lost: say so.
                            self.dispatch(channel, None)
                        if not self.connected.is_set():
                            self.connected.set()
                            backoff = 0.2
                            if ever_connected:
                                log.warning("event bus reconnected")
                            ever_connected = True
                        got = 0
                        for note in conn.notifies(timeout=1.0):
                            got += 1
                            self._hand_out(note.channel, note.payload)
                        # A silent connection may be a dead one: check it now and then.
                        idle = 0 if got else idle + 1
                        if idle >= 10:
                            conn.execute("SELECT 1")
                            idle = 0
            except Exception:
                if self.connected.is_set() or not ever_connected:
                    log.warning("event bus connection lost; reconnecting", exc_info=True)
                self.connected.clear()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                if self._done():
                    return

    def _done(self) -> bool:
        """Whether the listening thread must end: closed, or no listener left.

        Once it says yes the thread is forgotten (a later subscriber starts a new
        one), so this thread must then end without asking again.
        """
        with self._lock:
            if self._stop.is_set() or not any(self._listeners.values()):
                self._thread = None
                self.connected.clear()
                return True
            return False

    def _hand_out(self, pg_channel: str, text: str) -> None:
        if not pg_channel.startswith(PREFIX):
            return
        try:
            payload = json.loads(text)
        except ValueError:
            log.warning("event with a payload that is not JSON", extra={"channel": pg_channel})
            return
        self.dispatch(pg_channel[len(PREFIX) :], payload if isinstance(payload, dict) else {})


_buses: dict[str, EventBus] = {}
_buses_lock = threading.Lock()


def bus_for(engine: Engine) -> EventBus:
    """This process's bus for the engine's database (one listening connection per database)."""
    key = _url_key(engine)
    with _buses_lock:
        bus = _buses.get(key)
        if bus is None:
            bus = _buses[key] = EventBus(engine)
        return bus


def close_all() -> None:
    """Stop every bus of this process (tests; a process that exits needs not)."""
    with _buses_lock:
        buses = list(_buses.values())
        _buses.clear()
    for bus in buses:
        bus.close()
