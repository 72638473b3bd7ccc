"""The default incident taxonomy: categories and their types.

Installations extend or replace it with ``pingan incidents types load``;
these are the types every new database starts with. Severity runs from
1 (minor) to 5 (critical).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.incidents.models import IncidentType


@dataclass(frozen=True)
class TypeDef:
    code: str
    name_zh: str
    name_en: str
    severity: int = 2


DEFAULT_TAXONOMY: list[TypeDef] = [
    TypeDef("theft", "盗窃", "Theft", 2),
    TypeDef("theft.pickpocket", "扒窃", "Pickpocketing", 2),
    TypeDef("theft.bicycle", "盗窃自行车/电动车", "Bicycle or e-bike theft", 1),
    TypeDef("theft.vehicle", "盗窃机动车", "Vehicle theft", 3),
    TypeDef("theft.shop", "商店盗窃", "Shoplifting", 1),
    TypeDef("burglary", "入室盗窃", "Burglary", 3),
    TypeDef("burglary.residential", "入户盗窃", "Residential burglary", 3),
    TypeDef("burglary.commercial", "商铺盗窃", "Commercial burglary", 3),
    TypeDef("robbery", "抢劫抢夺", "Robbery", 4),
    TypeDef("fraud", "诈骗", "Fraud", 2),
    TypeDef("fraud.telecom", "电信网络诈骗", "Telecom and online fraud", 3),
    TypeDef("fraud.street", "街面诈骗", "Street fraud", 2),
    TypeDef("fight", "打架斗殴", "Fight", 3),
    TypeDef("assault", "伤害", "Assault", 4),
    TypeDef("traffic", "交通", "Traffic", 2),
    TypeDef("traffic.collision", "交通事故", "Traffic collision", 3),
    TypeDef("traffic.congestion", "交通拥堵", "Congestion", 1),
    TypeDef("fire", "火灾", "Fire", 4),
    TypeDef("hazard", "安全隐患", "Hazard", 2),
    TypeDef("hazard.road", "道路设施隐患", "Road hazard", 2),
    TypeDef("hazard.building", "房屋建筑隐患", "Building hazard", 3),
    TypeDef("hazard.utility", "水电气隐患", "Utility hazard", 3),
    TypeDef("dispute", "矛盾纠纷", "Dispute", 2),
    TypeDef("dispute.neighbour", "邻里纠纷", "Neighbour dispute", 1),
    TypeDef("dispute.labour", "劳资纠纷", "Labour dispute", 2),
    TypeDef("dispute.property_management", "物业纠纷", "Property-management dispute", 1),
    TypeDef("public_order", "治安秩序", "Public order", 2),
    TypeDef("public_order.noise", "噪声扰民", "Noise nuisance", 1),
    TypeDef("public_order.street_vending", "占道经营", "Street vending obstruction", 1),
]


def parent_code(code: str) -> str | None:
    return code.rsplit(".", 1)[0] if "." in code else None


def ensure_types(session: Session, defs: list[TypeDef] | None = None) -> int:
    """Create missing types (parents first); returns how many were added."""
    existing = {t.code: t for t in session.scalars(select(IncidentType))}
    added = 0
    for d in sorted(defs or DEFAULT_TAXONOMY, key=lambda d: d.code.count(".")):
        if d.code in existing:
            continue
        parent = existing.get(parent_code(d.code) or "")
        row = IncidentType(
            code=d.code,
            parent_id=None if parent is None else parent.id,
            name_zh=d.name_zh,
            name_en=d.name_en,
            default_severity=d.severity,
        )
        session.add(row)
        session.flush()
        existing[d.code] = row
        added += 1
    return added


def type_table(session: Session) -> dict[str, tuple[int, int]]:
    """code -> (id, default severity), for fast intake."""
    rows = session.execute(
        select(IncidentType.code, IncidentType.id, IncidentType.default_severity)
    )
    return {code: (tid, sev) for code, tid, sev in rows}
