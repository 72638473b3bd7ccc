"""HTTP routes over the audit log (read-only, for auditors)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.kit import audit
from pingan.kit.errors import Forbidden
from pingan.org.permissions import Perm
from pingan.org.service import holds_city_wide

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


def _require_city_auditor(principal: CurrentPrincipal, session: DbSession) -> None:
    # Audit entries span every unit, so only a city-wide auditor reads them.
    principal.require(Perm.AUDIT_READ)
    if not holds_city_wide(session, principal, Perm.AUDIT_READ):
        raise Forbidden("the audit log is read by city-wide auditors only")


@router.get("")
def list_entries(
    principal: CurrentPrincipal,
    session: DbSession,
    after_id: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    _require_city_auditor(principal, session)
    rows = session.scalars(
        select(audit.AuditEntry)
        .where(audit.AuditEntry.id > after_id)
        .order_by(audit.AuditEntry.id)
        .limit(limit)
    )
    return [
        {
            "id": r.id,
            "at": r.at,
            "actor": r.actor,
            "action": r.action,
            "object_type": r.object_type,
            "object_id": r.object_id,
            "detail": json.loads(r.detail),
            "hash": r.hash,
        }
        for r in rows
    ]


@router.get("/verify")
def verify(principal: CurrentPrincipal, session: DbSession) -> dict[str, Any]:
    _require_city_auditor(principal, session)
    report = audit.verify_chain(session)
    return {
        "ok": report.ok,
        "checked": report.checked,
        "first_broken_id": report.first_broken_id,
        "reason": report.reason,
    }
