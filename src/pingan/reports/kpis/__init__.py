"""The KPI layer: definitions (``registry``) and the domains' KPIs, computed per unit and period."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from pingan.kit.errors import NotFound
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.reports.kpis import alerts, cases, dispatch, incidents, planned
from pingan.reports.kpis.registry import (
    REGISTRY,
    KpiContext,
    KpiDef,
    KpiValue,
    capability_available,
    compute_one,
)
from pingan.reports.periods import Period

__all__ = [
    "REGISTRY",
    "KpiContext",
    "KpiDef",
    "KpiValue",
    "capability_available",
    "compute_kpis",
    "definitions",
    "unit_for",
]

# Imported for their registrations; the order is the order of a briefing's key figures.
_MODULES = (incidents, alerts, dispatch, cases, planned)


# Incidents first, then the domains in the order a briefing reads them.
DOMAIN_ORDER = ("incidents", "hotspots", "alerts", "dispatch", "cases", "governance", "cameras")


def _display_order(code: str) -> int:
    domain = code.split(".", 1)[0]
    return DOMAIN_ORDER.index(domain) if domain in DOMAIN_ORDER else len(DOMAIN_ORDER)


def definitions() -> list[KpiDef]:
    return sorted(REGISTRY.values(), key=lambda d: _display_order(d.code))


def unit_for(session: Session, code: str, actor: Principal) -> OrgUnit:
    """The org unit by code; one outside the actor's scope reads as missing."""
    from pingan.org.service import get_unit_by_code

    unit = get_unit_by_code(session, code)
    if not actor.can(Perm.ORG_READ, unit.path):
        raise NotFound(f"org unit {code!r} not found", field="unit")
    return unit


def compute_kpis(
    session: Session,
    *,
    actor: Principal,
    unit: OrgUnit,
    period: Period,
    codes: Sequence[str] | None = None,
    memo: dict[str, object] | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> list[tuple[KpiDef, KpiValue]]:
    """Every KPI (or the named ones) for ``unit`` over ``period``, within the actor's scope."""
    if not actor.can(Perm.ORG_READ, unit.path):
        raise NotFound(f"org unit {unit.code!r} not found", field="unit")
    wanted = sorted(REGISTRY, key=_display_order) if not codes else list(codes)
    for code in wanted:
        if code not in REGISTRY:
            from pingan.kit.errors import ValidationFailed

            raise ValidationFailed(
                f"unknown KPI {code!r} (known: {', '.join(REGISTRY)})", field="codes"
            )
    ctx = KpiContext(session=session, actor=actor, unit=unit, period=period, memo=dict(memo or {}))
    out = []
    for index, code in enumerate(wanted):
        if progress is not None:
            progress(index / max(1, len(wanted)), code)
        definition = REGISTRY[code]
        out.append((definition, compute_one(ctx, definition)))
    if progress is not None:
        progress(1.0, "done")
    return out
