"""Request logging and Prometheus metrics.

Besides status and latency, each request's count of database statements is
logged and kept as a histogram per route: a page that runs a query per row
(the usual way a list endpoint gets slow under load) shows up at once.
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from typing import Any

from fastapi import FastAPI, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("pingan.http")

# One mutable counter per request; the sync endpoint's worker thread runs in a
# copy of the request's context, so it increments the same list.
_statements: ContextVar[list[int] | None] = ContextVar("pingan_db_statements", default=None)


@event.listens_for(Engine, "before_cursor_execute")
def _count_statement(*_: Any) -> None:
    counter = _statements.get()
    if counter is not None:
        counter[0] += 1


def install(app: FastAPI) -> None:
    registry = CollectorRegistry()
    requests = Counter(
        "pingan_http_requests_total",
        "HTTP requests",
        ["method", "route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "pingan_http_request_duration_seconds",
        "HTTP request latency",
        ["method", "route"],
        registry=registry,
    )
    statements = Histogram(
        "pingan_http_request_db_statements",
        "Database statements run by one HTTP request",
        ["method", "route"],
        buckets=(0, 1, 2, 4, 8, 16, 32, 64, 128, 256),
        registry=registry,
    )
    app.state.metrics_registry = registry

    app.add_middleware(ObserveRequests, requests=requests, latency=latency, statements=statements)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class ObserveRequests:
    """Pure ASGI middleware: counts, latency and statements per route, and a log line.

    Measured when the response starts (for a stream: when its headers go
    out), as Starlette's ``BaseHTTPMiddleware`` did; written without it because
    its extra task and memory streams per request showed in the workers'
    profiles under load.
    """

    def __init__(
        self, app: ASGIApp, *, requests: Counter, latency: Histogram, statements: Histogram
    ) -> None:
        self.app = app
        self.requests = requests
        self.latency = latency
        self.statements = statements

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        counter = [0]
        observed = False

        def observe(status: int) -> None:
            nonlocal observed
            observed = True
            elapsed = time.perf_counter() - started
            method = scope["method"]
            # The route template, not the raw path, keeps label cardinality bounded.
            template = getattr(scope.get("route"), "path", "unmatched")
            self.requests.labels(method, template, str(status)).inc()
            self.latency.labels(method, template).observe(elapsed)
            self.statements.labels(method, template).observe(counter[0])
            log.info(
                "request",
                extra={
                    "method": method,
                    "path": scope["path"],
                    "status": status,
                    "ms": round(elapsed * 1000, 1),
                    "db_statements": counter[0],
                    "actor": scope.get("state", {}).get("actor"),
                },
            )

        async def send_observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                observe(message["status"])
            await send(message)

        token = _statements.set(counter)
        try:
            await self.app(scope, receive, send_observed)
        except BaseException:
            if not observed:
                observe(500)
            raise
        finally:
            _statements.reset(token)
