"""Places service: adding key sites and residential compounds in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from shapely import Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import insert
from sqlalchemy.orm import Session

from pingan.kit import audit
from pingan.kit.errors import ValidationFailed
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.places.models import Management, Place, PlaceKind, ResidentialCompound


@dataclass(frozen=True)
class PlaceIn:
    """A key site or area; ``geom`` is WGS84 lon/lat."""

    code: str
    kind: PlaceKind
    name_zh: str
    name_en: str
    protection_level: int
    geom: BaseGeometry
    grid_id: int | None = None


@dataclass(frozen=True)
class CompoundIn:
    """A residential compound; ``geom`` is a WGS84 lon/lat polygon."""

    code: str
    name_zh: str
    name_en: str
    geom: Polygon
    households: int
    buildings: int
    management: Management
    grid_id: int | None = None
    built_year: int | None = None
    property_company: str | None = None
    has_access_control: bool = False
    has_cctv: bool = False


def add_places(session: Session, places: Sequence[PlaceIn], *, actor: Principal) -> int:
    """Insert key sites in the caller's transaction; returns how many were added."""
    actor.require(Perm.PLACES_WRITE)
    for i, place in enumerate(places):
        if place.protection_level not in (1, 2, 3):
            raise ValidationFailed(
                f"place {i} ({place.code}): protection level must be 1, 2 or 3",
                field="protection_level",
            )
    if places:
        rows = [{**asdict(p), "kind": p.kind.value} for p in places]
        session.execute(insert(Place), rows)
    audit.record(
        session,
        actor=actor.actor,
        action="places.create",
        object_type="place",
        detail={"count": len(places), "codes": [p.code for p in places[:20]]},
    )
    return len(places)


def add_compounds(session: Session, compounds: Sequence[CompoundIn], *, actor: Principal) -> int:
    """Insert residential compounds in the caller's transaction; returns how many."""
    actor.require(Perm.PLACES_WRITE)
    for i, compound in enumerate(compounds):
        if compound.households < 0 or compound.buildings < 0:
            raise ValidationFailed(
                f"compound {i} ({compound.code}): households and buildings cannot be negative",
                field="households",
            )
    if compounds:
        rows = [{**asdict(c), "management": c.management.value} for c in compounds]
        session.execute(insert(ResidentialCompound), rows)
    audit.record(
        session,
        actor=actor.actor,
        action="places.compounds.create",
        object_type="residential_compound",
        detail={"count": len(compounds), "codes": [c.code for c in compounds[:20]]},
    )
    return len(compounds)
