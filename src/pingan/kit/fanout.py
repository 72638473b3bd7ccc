"""Live streams (Server-Sent Events) that hold hundreds of connections per process.

One reader per stream and process (a ``Hub``) wakes on the event bus, or on a
slow safety poll, reads what is new from the database once, and hands every
new item to each open connection's asyncio queue. A connection is a coroutine,
not a thread: holding 500 of them costs 500 small queues. Each connection then
applies its own filter (the reader's scope) and renders its frames.

A connection first subscribes, then reads its own catch-up (what it missed
since its ``Last-Event-ID``); items that arrive both ways are sent once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Hashable
from typing import Any, Generic, Protocol, TypeVar

from anyio import to_thread
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import State

from pingan.kit.events import bus_for

log = logging.getLogger("pingan.fanout")

HEARTBEAT_SECONDS = 15.0
QUEUE_SIZE = 2000


def safety_poll_seconds(engine: Engine, configured: float | None) -> float:
    """How often a hub re-reads without an event: often on SQLite (no cross-process events)."""
    if configured is not None:
        return max(0.05, configured)
    return 30.0 if engine.dialect.name == "postgresql" else 2.0


class Keyed(Protocol):
    @property
    def key(self) -> Hashable: ...


T = TypeVar("T", bound=Keyed)


class Subscription(Generic[T]):
    """One connection's inbox. A connection too slow to keep up is told to reconnect."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[T] = asyncio.Queue(QUEUE_SIZE)
        self.overflowed = False

    def offer(self, item: T) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True


class Hub(Generic[T]):
    """The shared reader of one stream in one process; subclasses say what to read."""

    channel: str = ""

    def __init__(self, engine: Engine, *, safety_poll_s: float) -> None:
        self.engine = engine
        self.safety_poll_s = safety_poll_s
        self._subs: set[Subscription[T]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._start_lock: asyncio.Lock | None = None
        self._unsubscribe_bus: Callable[[], None] | None = None

    # What a subclass provides; both run in a worker thread.
    def prime(self) -> None:
        """Start reading from now on (set the cursor to the newest committed item)."""
        raise NotImplementedError

    def read_new(self) -> list[T]:
        """The items committed since the last read, in order, each once."""
        raise NotImplementedError

    @property
    def connections(self) -> int:
        return len(self._subs)

    async def subscribe(self) -> Subscription[T]:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first use, or a new event loop (tests): start afresh
            self._stop()
            self._subs.clear()  # connections of a loop that is gone
            self._loop, self._start_lock = loop, asyncio.Lock()
        assert self._start_lock is not None
        async with self._start_lock:
            if self._task is None or self._task.done():
                await to_thread.run_sync(self.prime)
                self._wake = asyncio.Event()
                self._task = loop.create_task(self._run(), name=f"pingan-hub-{self.channel}")
                self._unsubscribe_bus = bus_for(self.engine).subscribe(self.channel, self._heard)
            sub: Subscription[T] = Subscription()
            self._subs.add(sub)
            return sub

    def unsubscribe(self, sub: Subscription[T]) -> None:
        self._subs.discard(sub)
        if not self._subs:
            self._stop()

    def _stop(self) -> None:
        if self._unsubscribe_bus is not None:
            self._unsubscribe_bus()
            self._unsubscribe_bus = None
        if self._task is not None:
            with contextlib.suppress(RuntimeError):  # its event loop may be closed
                self._task.cancel()
            self._task = None

    def _heard(self, _payload: object) -> None:
        """Bus thread: wake the reader on its event loop."""
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed
            loop.call_soon_threadsafe(wake.set)

    async def _run(self) -> None:
        assert self._wake is not None
        wake = self._wake
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=self.safety_poll_s)
            wake.clear()  # events that arrive while reading wake the next read
            try:
                items = await to_thread.run_sync(self.read_new)
            except Exception:  # a database restart: keep the connections, retry shortly
                log.warning("live stream read failed", exc_info=True, extra={"hub": self.channel})
                await asyncio.sleep(min(self.safety_poll_s, 1.0))
                continue
            for sub in list(self._subs):
                for item in items:
                    sub.offer(item)


async def frames(
    hub: Hub[T],
    *,
    catch_up: Callable[[], list[T]],
    render: Callable[[T], str | None],
    max_seconds: float,
    heartbeat_s: float = HEARTBEAT_SECONDS,
    preamble: str = "",
) -> AsyncIterator[str]:
    """One connection's SSE frames until ``max_seconds`` have passed.

    ``catch_up`` (run in a worker thread) reads the next page of what the client
    missed, and an empty list when it has caught up;
    ``render`` gives an item's frame, or None when this reader must not see it.
    """
    deadline = time.monotonic() + max_seconds
    sub = await hub.subscribe()
    try:
        if preamble:
            yield preamble
        seen: set[Hashable] = set()
        while caught := await to_thread.run_sync(catch_up):
            seen.update(item.key for item in caught)
            for item in caught:
                if (frame := render(item)) is not None:
                    yield frame
        while (left := deadline - time.monotonic()) > 0 and not sub.overflowed:
            try:
                item = await asyncio.wait_for(sub.queue.get(), timeout=min(left, heartbeat_s))
            except TimeoutError:
                if deadline - time.monotonic() > 0:
                    yield ": keep-alive\n\n"
                continue
            if item.key in seen:
                continue
            if (frame := render(item)) is not None:
                yield frame
    finally:
        hub.unsubscribe(sub)


H = TypeVar("H", bound=Hub[Any])
H_co = TypeVar("H_co", bound=Hub[Any], covariant=True)


class HubFactory(Protocol[H_co]):
    """How a domain makes its hub (its ``Hub`` subclass itself fits)."""

    def __call__(self, sessions: sessionmaker[Session], *, safety_poll_s: float) -> H_co: ...


def hub_for(state: State, attr: str, factory: HubFactory[H]) -> H:
    """The app's hub kept as ``state.<attr>`` (``state`` is ``app.state``), made on first use."""
    hub: H | None = getattr(state, attr, None)
    if hub is None:
        sessions: sessionmaker[Session] = state.sessionmaker
        poll = safety_poll_seconds(sessions.kw["bind"], state.settings.events_safety_poll_s)
        hub = factory(sessions, safety_poll_s=poll)
        setattr(state, attr, hub)
    return hub
