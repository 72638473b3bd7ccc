"""Request logging and Prometheus metrics.

Besides status and latency, each request's count of database statements is
logged and kept as a histogram per route: a page that runs a query per row
(the usual way a list endpoint gets slow under load) shows up at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from sqlalchemy import event
from sqlalchemy.engine import Engine

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

    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        counter = [0]
        token = _statements.set(counter)
        try:
            response = await call_next(request)
        finally:
            _statements.reset(token)
        elapsed = time.perf_counter() - started
        route = request.scope.get("route")
        # The route template, not the raw path, keeps label cardinality bounded.
        template = getattr(route, "path", "unmatched")
        requests.labels(request.method, template, str(response.status_code)).inc()
        latency.labels(request.method, template).observe(elapsed)
        statements.labels(request.method, template).observe(counter[0])
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.url.path,
                "status": response.status_code,
                "ms": round(elapsed * 1000, 1),
                "db_statements": counter[0],
                "actor": getattr(request.state, "actor", None),
            },
        )
        return response

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
