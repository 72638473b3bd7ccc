"""The event bus: delivery after commit only, never on rollback, back after a lost connection."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from pingan.kit import events
from pingan.kit.db import session_scope

Heard = queue.Queue[dict[str, Any] | None]


@pytest.fixture
def bus(engine: Engine) -> Iterator[events.EventBus]:
    bus = events.bus_for(engine)
    yield bus
    events.close_all()


def _listen(bus: events.EventBus, channel: str) -> tuple[Heard, Any]:
    heard: Heard = queue.Queue()
    unsubscribe = bus.subscribe(channel, heard.put)
    return heard, unsubscribe


def _next_event(heard: Heard, timeout: float = 10.0) -> dict[str, Any]:
    """The next event with a payload (``None`` only says the bus (re)started listening)."""
    deadline = time.monotonic() + timeout
    while True:
        payload = heard.get(timeout=max(0.01, deadline - time.monotonic()))
        if payload is not None:
            return payload


def _settle(bus: events.EventBus, heard: Heard) -> None:
    """Wait until the bus listens, and forget its start-up notices."""
    assert bus.connected.wait(10)
    time.sleep(1.2 if bus.over_postgres else 0)  # a channel added later: LISTEN within 1 s
    while not heard.empty():
        assert heard.get_nowait() is None


def test_events_arrive_after_commit_and_never_after_rollback(
    engine: Engine, bus: events.EventBus
) -> None:
    heard, _ = _listen(bus, "things")
    other, _ = _listen(bus, "others")
    _settle(bus, heard)
    _settle(bus, other)
    with session_scope(engine) as session:
        events.publish(session, "things", {"id": 1})
        session.flush()
        time.sleep(0.3)
        assert heard.empty(), "an event arrived before its transaction committed"
    assert _next_event(heard) == {"id": 1}
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        events.publish(session, "things", {"id": 2})
        raise RuntimeError("the transaction fails")
    with session_scope(engine) as session:
        events.publish(session, "things", {"id": 3})
    assert _next_event(heard) == {"id": 3}, "the rolled-back event was delivered"
    assert other.empty(), "an event reached another channel's listener"


def test_a_bulk_transaction_sends_a_bounded_number_of_events(
    engine: Engine, bus: events.EventBus
) -> None:
    heard, _ = _listen(bus, "bulk")
    _settle(bus, heard)
    with session_scope(engine) as session:
        for i in range(events.MAX_PER_TRANSACTION + 30):
            events.publish(session, "bulk", {"i": i})
    got = [_next_event(heard)["i"] for _ in range(events.MAX_PER_TRANSACTION)]
    assert got == list(range(events.MAX_PER_TRANSACTION))
    time.sleep(0.5)
    assert heard.empty()


def test_unsubscribed_listener_hears_nothing(engine: Engine, bus: events.EventBus) -> None:
    heard, unsubscribe = _listen(bus, "things")
    keep, _ = _listen(bus, "things")
    _settle(bus, heard)
    _settle(bus, keep)
    unsubscribe()
    with session_scope(engine) as session:
        events.publish(session, "things", {"id": 7})
    assert _next_event(keep) == {"id": 7}
    assert heard.empty()


def test_bad_channel_and_oversized_payload_are_refused(engine: Engine) -> None:
    with session_scope(engine) as session:
        with pytest.raises(ValueError, match="bad event channel"):
            events.publish(session, "Alerts; DROP", {})
        with pytest.raises(ValueError, match="too large"):
            events.publish(session, "alerts", {"rows": "x" * 9000})


def test_listener_reconnects_after_its_connection_is_killed(
    engine: Engine, bus: events.EventBus, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("SQLite delivers in-process: there is no connection to lose")
    heard, _ = _listen(bus, "things")
    _settle(bus, heard)
    # What a PostgreSQL restart does to the listener: its backend goes away.
    with engine.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'pingan-events' AND datname = current_database()"
            )
        ).all()
    assert killed == [(True,)]
    # Back on its own, and it says that events may have been missed meanwhile.
    assert heard.get(timeout=15) is None
    assert bus.connected.wait(10)
    with session_scope(engine) as session:
        events.publish(session, "things", {"id": 9})
    assert _next_event(heard) == {"id": 9}
