"""Reading places and compounds within the caller's org scope."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.places.models import Place, ResidentialCompound


def _grid_in_scope(
    principal: Principal, grid_column: InstrumentedAttribute[int | None]
) -> ColumnElement[bool]:
    if principal.is_system:
        return true()
    grants = principal.grants_with(Perm.PLACES_READ)
    if not grants:
        return false()
    in_scope = select(OrgUnit.id).where(or_(*[OrgUnit.path.startswith(g.path) for g in grants]))
    return grid_column.in_(in_scope)


def list_places(
    session: Session,
    *,
    principal: Principal,
    kind: str | None = None,
    max_protection_level: int | None = None,
    limit: int = 500,
    after_id: int | None = None,
) -> list[Place]:
    principal.require(Perm.PLACES_READ)
    stmt = select(Place).where(_grid_in_scope(principal, Place.grid_id)).order_by(Place.id)
    if kind is not None:
        stmt = stmt.where(Place.kind == kind)
    if max_protection_level is not None:
        stmt = stmt.where(Place.protection_level <= max_protection_level)
    if after_id is not None:
        stmt = stmt.where(Place.id > after_id)
    return list(session.scalars(stmt.limit(limit)))


def list_compounds(
    session: Session,
    *,
    principal: Principal,
    management: str | None = None,
    grid_id: int | None = None,
    limit: int = 500,
    after_id: int | None = None,
) -> list[ResidentialCompound]:
    principal.require(Perm.PLACES_READ)
    stmt = (
        select(ResidentialCompound)
        .where(_grid_in_scope(principal, ResidentialCompound.grid_id))
        .order_by(ResidentialCompound.id)
    )
    if management is not None:
        stmt = stmt.where(ResidentialCompound.management == management)
    if grid_id is not None:
        stmt = stmt.where(ResidentialCompound.grid_id == grid_id)
    if after_id is not None:
        stmt = stmt.where(ResidentialCompound.id > after_id)
    return list(session.scalars(stmt.limit(limit)))
