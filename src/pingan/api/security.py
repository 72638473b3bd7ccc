"""HTTP hardening: security headers, body size limit, CSRF check and rate limits.

One pure ASGI middleware, so that a refused request never reaches a route,
a database session or the body parser. Every refusal is problem+json.

``PUBLIC_ROUTES`` and ``PUBLIC_PREFIXES`` are the only places where a route
may be reached without logging in; the authorisation matrix test
(``tests/security/test_authz_matrix.py``) holds every other route to 401.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pingan.api.deps import SESSION_COOKIE
from pingan.api.problems import problem_response
from pingan.kit.errors import PROBLEM_BASE
from pingan.settings import Settings

# (method, path template) -> why anyone may call it.
PUBLIC_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "liveness probe for the process manager",
    ("GET", "/readyz"): "readiness probe for the load balancer",
    ("GET", "/metrics"): "Prometheus scrape; counts per route template, no data",
    ("GET", "/"): "redirect to the console or the docs",
    ("GET", "/openapi.json"): "the API's own description",
    ("GET", "/docs"): "API documentation page",
    ("GET", "/docs/oauth2-redirect"): "API documentation page",
    ("GET", "/redoc"): "API documentation page",
    ("POST", "/api/v1/auth/login"): "logging in",
    ("POST", "/api/v1/auth/token"): "logging in (OAuth2 password flow)",
    ("POST", "/api/v1/auth/logout"): "ends the session presented, if any",
    ("GET", "/api/v1/auth/oidc/login"): "single sign-on: leaves for the identity provider",
    ("GET", "/api/v1/auth/oidc/callback"): "single sign-on: the provider's answer, checked",
    ("GET", "/api/v1/federation/feed"): "aggregated alerts for neighbouring cities, signed",
    ("GET", "/api/v1/federation/key"): "the public key that verifies that feed",
}
# Path prefix -> why every route under it is public.
PUBLIC_PREFIXES: dict[str, str] = {
    "/open311/v2/": "Open311 GeoReport v2 is public by spec; POST checks its own api_key",
    "/api/v1/public/": "citizens' routes: anonymous tips and case tracking by number + secret",
    "/console/": "static files of the console; its data comes from the protected API",
    "/worker/": "static files of the grid workers' app; its data comes from the protected API",
    "/docs-assets/": "static files of the API documentation",
}

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Logging in needs no session yet, and logging out cannot hurt the victim.
CSRF_EXEMPT = frozenset({"/api/v1/auth/login", "/api/v1/auth/token", "/api/v1/auth/logout"})
LOGIN_PATHS = frozenset({"/api/v1/auth/login", "/api/v1/auth/token"})
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})

# No inline script anywhere. Inline style *attributes* are allowed: they cannot
# run code, and the console's legends and MapLibre set them.
APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "style-src-attr 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; "
    "connect-src 'self'; worker-src 'self' blob:; child-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def public_reason(method: str, path: str) -> str | None:
    """Why ``method path`` may be called anonymously, or None if it may not."""
    if reason := PUBLIC_ROUTES.get((method, path)):
        return reason
    if method == "HEAD" and (reason := PUBLIC_ROUTES.get(("GET", path))):
        return reason
    for prefix, why in PUBLIC_PREFIXES.items():
        if path.startswith(prefix) or path == prefix.rstrip("/"):
            return why
    return None


def docs_csp(html: bytes) -> str:
    """The docs pages' policy: their own inline scripts by hash, nothing else inline."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode() + "'"
        for m in _INLINE_SCRIPT.finditer(html)
    )
    # Swagger UI and ReDoc inject <style> elements at run time.
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    )


class TokenBuckets:
    """In-process token buckets: ``per_minute`` requests a minute, bursts up to that many.

    Each server process keeps its own buckets, so N workers allow N times the
    rate; that is still a bound, and needs no shared store.
    """

    MAX_KEYS = 100_000

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token; 0 if allowed, else the seconds until one is available."""
        if self.capacity <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, stamp = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - stamp) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > self.MAX_KEYS:
                self._forget_full(now)
            return 0.0

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled is the same as no bucket: drop those.
        full = [
            k for k, (t, s) in self._buckets.items() if t + (now - s) * self.rate >= self.capacity
        ]
        for key in full:
            del self._buckets[key]


def _problem(status: int, slug: str, title: str, detail: str, path: str) -> dict[str, Any]:
    return {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": path,
    }


def _api_key_of(headers: Headers) -> str | None:
    key = headers.get("x-api-key")
    auth = headers.get("authorization", "")
    if not key and auth.lower().startswith("bearer pgk_"):
        key = auth[7:]
    return key or None


def _cookie_names(headers: Headers) -> set[str]:
    names = set()
    for part in headers.get("cookie", "").split(";"):
        name, _, _ = part.strip().partition("=")
        if name:
            names.add(name)
    return names


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_body = int(settings.max_body_bytes)
        self.hsts = bool(settings.cookie_secure)
        self.trusted_hosts = {
            urlsplit(o.strip()).netloc.lower()
            for o in settings.trusted_origins.split(",")
            if o.strip()
        }
        self._salt = secrets.token_bytes(16)
        self.public_buckets = TokenBuckets(settings.rate_limit_public_per_minute)
        self.key_buckets = TokenBuckets(settings.rate_limit_api_key_per_minute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        headers = Headers(scope=scope)
        send = self._with_headers(path, send)

        refusal = self._rate_limited(scope, method, path, headers) or self._csrf_refusal(
            method, path, headers
        )
        if refusal is None:
            refusal, receive = await self._limit_body(path, headers, receive)
        if refusal is not None:
            doc, extra = refusal
            await problem_response(doc, extra)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    # -- rate limits -------------------------------------------------------------
    def _rate_limited(
        self, scope: Scope, method: str, path: str, headers: Headers
    ) -> tuple[dict[str, Any], dict[str, str]] | None:
        wait = 0.0
        if key := _api_key_of(headers):
            digest = hashlib.sha256(key.encode()).hexdigest()[:24]
            wait = self.key_buckets.take("key:" + digest)
        elif method in UNSAFE_METHODS and (path in LOGIN_PATHS or public_reason(method, path)):
            client = scope.get("client")
            ip = client[0] if client else "unknown"
            # Keyed by a salted digest: not even memory holds a tipster's address.
            digest = hashlib.sha256(self._salt + ip.encode()).hexdigest()[:24]
            wait = self.public_buckets.take("ip:" + digest)
        if wait <= 0:
            return None
        retry = max(1, math.ceil(wait))
        doc = _problem(
            429, "rate-limited", "Too many requests", f"slow down: retry in {retry} s", path
        )
        return doc, {"Retry-After": str(retry)}

    # -- CSRF ----------------------------------------------------------------------
    def _csrf_refusal(
        self, method: str, path: str, headers: Headers
    ) -> tuple[dict[str, Any], dict[str, str]] | None:
        """Cookie-authenticated writes must come from our own origin.

        Browsers send ``Origin`` on every cross-site write (and ours, fetch
        POSTs, send it too); bearer tokens and API keys are not sent
        automatically, so requests carrying one need no check.
        """
        if method not in UNSAFE_METHODS or path in CSRF_EXEMPT:
            return None
        if headers.get("authorization") or headers.get("x-api-key"):
            return None
        if SESSION_COOKIE not in _cookie_names(headers):
            return None
        source = headers.get("origin") or headers.get("referer")
        host = headers.get("host", "").lower()
        if source and source != "null":
            origin_host = urlsplit(source).netloc.lower()
            if origin_host and (origin_host == host or origin_host in self.trusted_hosts):
                return None
        doc = _problem(
            403,
            "csrf",
            "Cross-site request refused",
            "a write authenticated by the session cookie must come from this site's own pages "
            "(Origin header); integrations send a bearer token or X-API-Key instead",
            path,
        )
        return doc, {}

    # -- body size ---------------------------------------------------------------
    async def _limit_body(
        self, path: str, headers: Headers, receive: Receive
    ) -> tuple[tuple[dict[str, Any], dict[str, str]] | None, Receive]:
        too_large = (
            _problem(
                413,
                "payload-too-large",
                "Payload too large",
                f"request bodies are limited to {self.max_body} bytes",
                path,
            ),
            {"Connection": "close"},
        )
        length = headers.get("content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = self.max_body + 1
            return (too_large if declared > self.max_body else None), receive
        if "chunked" not in headers.get("transfer-encoding", "").lower():
            return None, receive
        # No declared length: read the body here, up to the limit, then replay it.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None, _replay([message])
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return too_large, receive
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        return None, _replay([{"type": "http.request", "body": body, "more_body": False}], receive)

    # -- response headers --------------------------------------------------------
    def _with_headers(self, path: str, send: Send) -> Send:
        is_docs = path in DOCS_PATHS
        held: list[Message] = []

        def stamp(message: Message, csp: str) -> Message:
            raw = list(message.get("headers", []))
            present = {k.lower() for k, _ in raw}
            extra = {
                b"x-content-type-options": b"nosniff",
                b"referrer-policy": b"same-origin",
                b"x-frame-options": b"DENY",
                b"content-security-policy": csp.encode(),
                b"cross-origin-opener-policy": b"same-origin",
            }
            if self.hsts:
                extra[b"strict-transport-security"] = b"max-age=31536000"
            raw.extend((k, v) for k, v in extra.items() if k not in present)
            return {**message, "headers": raw}

        async def send_app(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = stamp(message, APP_CSP)
            await send(message)

        async def send_docs(message: Message) -> None:
            # The docs pages are small HTML: hold them to hash their inline scripts.
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                body = b"".join(m.get("body", b"") for m in held[1:])
                await send(stamp(held[0], docs_csp(body)))
                await send({"type": "http.response.body", "body": body, "more_body": False})

        return send_docs if is_docs else send_app


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


def install(app: FastAPI, settings: Settings) -> None:
    from pingan.api.gate import ConcurrencyGate

    # Inside the security checks: a refused request never takes a slot.
    app.add_middleware(ConcurrencyGate, limit=settings.max_concurrent_requests)
    app.add_middleware(SecurityMiddleware, settings=settings)
