"""One exception hierarchy, rendered as RFC 9457 ``application/problem+json``.

Service functions raise these; the HTTP layer turns them into problem
documents with a stable ``type`` and the CLI prints their ``detail``.
"""

from __future__ import annotations

from typing import Any

PROBLEM_BASE = "https://pingan.dev/problems/"


class PinganError(Exception):
    status = 500
    slug = "internal"
    title = "Internal error"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.slug

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.field is not None:
            doc["field"] = self.field
        if instance is not None:
            doc["instance"] = instance
        doc.update(self.extra)
        return doc


class ValidationFailed(PinganError):
    status = 422
    slug = "validation"
    title = "Invalid input"


class NotFound(PinganError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(PinganError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class Unauthenticated(PinganError):
    status = 401
    slug = "unauthenticated"
    title = "Authentication required"


class Forbidden(PinganError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


class PayloadTooLarge(PinganError):
    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class AuditChainBroken(PinganError):
    status = 500
    slug = "audit-chain-broken"
    title = "Audit chain broken"
