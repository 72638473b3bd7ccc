"""The KPI registry: each definition computes a value and names the records it counted.

A KPI is computed for one org unit (its whole subtree) and one period, within
the reader's scope. A KPI whose capability is not installed, or which the
reader may not see, says so (``available=False`` with a note) instead of
showing a number. ``records`` lists the ids behind the figure, so every
figure traces back to its query.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from pingan.org.models import OrgUnit
from pingan.org.principal import Principal
from pingan.reports.periods import Period

NOT_INSTALLED = "not available: capability not installed"
NOT_PERMITTED = "not available: your roles do not cover this data"


@dataclass
class KpiContext:
    session: Session
    actor: Principal
    unit: OrgUnit
    period: Period
    # Shared between KPIs of one run (e.g. a hotspot analysis several KPIs read).
    memo: dict[str, Any] = field(default_factory=dict)


@dataclass
class KpiValue:
    code: str
    value: float | None
    available: bool = True
    note: str = ""
    breakdown: list[dict[str, Any]] = field(default_factory=list)
    record_kind: str | None = None
    records: list[int] = field(default_factory=list)

    def as_dict(self, *, with_records: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "value": self.value,
            "available": self.available,
            "note": self.note,
            "breakdown": self.breakdown,
            "record_kind": self.record_kind,
            "record_count": len(self.records),
        }
        if with_records:
            out["records"] = self.records
        return out


@dataclass(frozen=True)
class KpiDef:
    code: str
    capability: str
    title_en: str
    title_zh: str
    units: str
    description: str
    compute: Callable[[KpiContext], KpiValue]
    higher_is_better: bool | None = None


# capability -> (module that must exist, attribute it must expose)
CAPABILITIES: dict[str, tuple[str, str]] = {
    "incidents": ("pingan.incidents.service", "scope_clause"),
    "hotspots": ("pingan.incidents.analysis.hotspots", "hotspots"),
    "alerts": ("pingan.alerts.service", "list_alerts"),
    "dispatch": ("pingan.dispatch.kpis", "Targets"),
    "cases": ("pingan.cases.service", "scope_clause"),
}

REGISTRY: dict[str, KpiDef] = {}


def register(definition: KpiDef) -> KpiDef:
    if definition.code in REGISTRY:
        raise ValueError(f"KPI {definition.code!r} is defined twice")
    REGISTRY[definition.code] = definition
    return definition


def capability_available(name: str) -> bool:
    """Whether the capability's service module is installed and exposes what KPIs call."""
    spec = CAPABILITIES.get(name)
    if spec is None:
        return False
    module_name, attribute = spec
    try:
        if importlib.util.find_spec(module_name) is None:
            return False
        module = importlib.import_module(module_name)
    except ImportError:
        return False
    return hasattr(module, attribute)


def unavailable(code: str, note: str = NOT_INSTALLED) -> KpiValue:
    return KpiValue(code=code, value=None, available=False, note=note)


def compute_one(ctx: KpiContext, definition: KpiDef) -> KpiValue:
    if not capability_available(definition.capability):
        return unavailable(definition.code)
    return definition.compute(ctx)
