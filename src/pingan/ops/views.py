"""``/api/v1/privacy``: access-request exports and the retention rules in force."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.ops import privacy, retention
from pingan.org.permissions import Perm

router = APIRouter(prefix="/api/v1/privacy", tags=["privacy"])


class PersonIn(BaseModel):
    """Who the request is about. Sent in a body, never a URL, so it stays out of access logs."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=50)
    email: str | None = Field(None, max_length=200)
    username: str | None = Field(None, max_length=100)


class RuleOut(BaseModel):
    name: str
    what: str
    keep: float
    unit: str
    setting: str


@router.post("/exports")
def export_person(body: PersonIn, principal: CurrentPrincipal, session: DbSession) -> Any:
    """Everything held about a person, for an access request (needs privacy:export city-wide)."""
    return privacy.export_person(session, actor=principal, **body.model_dump())


@router.get("/retention", response_model=list[RuleOut])
def retention_rules(request: Request, principal: CurrentPrincipal) -> list[RuleOut]:
    """How long each kind of data is kept; the audit log is kept for ever."""
    principal.require(Perm.PRIVACY_EXPORT)
    settings = request.app.state.settings
    return [
        RuleOut(
            name=r.name,
            what=r.what,
            keep=r.keep_for(settings),
            unit=r.unit,
            setting="PINGAN_" + r.setting.upper(),
        )
        for r in retention.RULES
    ]
