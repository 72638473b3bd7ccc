"""At most so many requests inside the app at once; the rest wait their turn, asleep.

Why: a sync endpoint runs on a worker thread (AnyIO's pool, 40 threads), and
FastAPI serialises its answer on *another* pool thread while the request's
transaction is still open. Under a burst, every pool thread can end up held
by requests waiting for a database lock or connection that one transaction
holds, and that transaction then waits for a thread to serialise its answer:
the worker freezes (found by `benchmarks/load`). Waiting here costs no
thread, and with no more requests inside than half the thread pool, a
thread is always free.

Live streams (Server-Sent Events) are not counted: they hold no thread and
no transaction while they wait for events.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

STREAM_PATHS = ("/api/v1/alerts/stream", "/api/v1/dispatch/events")


class ConcurrencyGate:
    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        if limit < 1:
            raise ValueError("the request limit must be at least 1")
        self.app = app
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in STREAM_PATHS:
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # made inside the running loop
            self._slots = asyncio.Semaphore(self.limit)
        async with self._slots:
            await self.app(scope, receive, send)
