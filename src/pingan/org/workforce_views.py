"""``GET /api/v1/org/units/{id}/grid-workforce``: the grid posts under a unit and the gaps."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.org.workforce import workforce

router = APIRouter(prefix="/api/v1/org", tags=["org"])


@router.get("/units/{unit_id}/grid-workforce")
def grid_workforce(unit_id: int, principal: CurrentPrincipal, session: DbSession) -> dict[str, Any]:
    """Grid workers, community grid leads and subdistrict centres under the unit; vacancies."""
    found = workforce(session, unit_id, actor=principal)
    return {"root": asdict(found.root), "vacant": found.vacant, "held": found.held}
