"""HTTP routes of the places domain: key sites and residential compounds as GeoJSON."""

from __future__ import annotations

import json
from typing import Any

import shapely
from fastapi import APIRouter, Query

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.places import queries
from pingan.places.models import Management, PlaceKind

router = APIRouter(prefix="/api/v1/places", tags=["places"])


def _feature(obj_id: int, geom: Any, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": obj_id,
        "geometry": json.loads(shapely.to_geojson(geom)),
        "properties": props,
    }


@router.get("")
def list_places(
    principal: CurrentPrincipal,
    session: DbSession,
    kind: PlaceKind | None = None,
    max_protection_level: int | None = Query(None, ge=1, le=3, description="1 is the highest"),
    limit: int = Query(500, ge=1, le=5000),
    after_id: int | None = None,
) -> dict[str, Any]:
    """Key sites and areas in your scope, as a GeoJSON FeatureCollection."""
    places = queries.list_places(
        session,
        principal=principal,
        kind=None if kind is None else kind.value,
        max_protection_level=max_protection_level,
        limit=limit,
        after_id=after_id,
    )
    features = [
        _feature(
            p.id,
            p.geom,
            {
                "code": p.code,
                "kind": p.kind,
                "name_zh": p.name_zh,
                "name_en": p.name_en,
                "protection_level": p.protection_level,
                "grid_id": p.grid_id,
            },
        )
        for p in places
    ]
    return {"type": "FeatureCollection", "features": features}


@router.get("/compounds")
def list_compounds(
    principal: CurrentPrincipal,
    session: DbSession,
    management: Management | None = None,
    grid_id: int | None = None,
    limit: int = Query(500, ge=1, le=5000),
    after_id: int | None = None,
) -> dict[str, Any]:
    """Residential compounds in your scope, as a GeoJSON FeatureCollection."""
    compounds = queries.list_compounds(
        session,
        principal=principal,
        management=None if management is None else management.value,
        grid_id=grid_id,
        limit=limit,
        after_id=after_id,
    )
    features = [
        _feature(
            c.id,
            c.geom,
            {
                "code": c.code,
                "name_zh": c.name_zh,
                "name_en": c.name_en,
                "households": c.households,
                "buildings": c.buildings,
                "built_year": c.built_year,
                "management": c.management,
                "property_company": c.property_company,
                "has_access_control": c.has_access_control,
                "has_cctv": c.has_cctv,
                "grid_id": c.grid_id,
            },
        )
        for c in compounds
    ]
    return {"type": "FeatureCollection", "features": features}
