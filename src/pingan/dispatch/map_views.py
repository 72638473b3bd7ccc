"""Read-only map layers of the road network for the console's base map.

The console draws its base map from the city's own data (no online tiles).
Roads come as GeoJSON within a bounding box; ``min_class`` drops the minor
classes so a zoomed-out view stays light, and ``limit`` caps the answer.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.dispatch.models import RoadClass, RoadEdge, RoadNode
from pingan.kit.errors import ValidationFailed

router = APIRouter(prefix="/api/v1/map", tags=["map"])

GEOJSON = "application/geo+json"
# Most important first: min_class=secondary keeps motorway .. secondary.
CLASS_ORDER: tuple[RoadClass, ...] = (
    RoadClass.MOTORWAY,
    RoadClass.TRUNK,
    RoadClass.PRIMARY,
    RoadClass.SECONDARY,
    RoadClass.TERTIARY,
    RoadClass.UNCLASSIFIED,
    RoadClass.RESIDENTIAL,
    RoadClass.SERVICE,
)
MAX_FEATURES = 20_000


def classes_down_to(min_class: RoadClass) -> list[str]:
    """The road classes at least as important as ``min_class``."""
    return [c.value for c in CLASS_ORDER[: CLASS_ORDER.index(min_class) + 1]]


def parse_bbox(bbox: str) -> tuple[float, float, float, float]:
    """``west,south,east,north`` in degrees, checked."""
    try:
        west, south, east, north = (float(v) for v in bbox.split(","))
    except ValueError:
        raise ValidationFailed(
            "bbox must be four numbers: west,south,east,north", field="bbox"
        ) from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ValidationFailed("bbox must have west < east and south < north", field="bbox")
    return west, south, east, north


@router.get("/roads.geojson", response_class=JSONResponse)
def roads_geojson(
    principal: CurrentPrincipal,
    session: DbSession,
    bbox: Annotated[
        str | None, Query(description="west,south,east,north in degrees; all roads if absent")
    ] = None,
    min_class: Annotated[
        RoadClass, Query(description="Least important class to include")
    ] = RoadClass.SERVICE,
    limit: Annotated[int, Query(ge=1, le=MAX_FEATURES)] = 5_000,
) -> JSONResponse:
    """Road segments with class and name, a two-way road once, as GeoJSON (lon/lat)."""
    del principal  # any logged-in user may see the base map
    start, end = aliased(RoadNode), aliased(RoadNode)
    stmt = (
        select(RoadEdge.id, RoadEdge.road_class, RoadEdge.name, RoadEdge.oneway, RoadEdge.geom)
        .join(start, start.id == RoadEdge.from_node_id)
        .join(end, end.id == RoadEdge.to_node_id)
        .where(RoadEdge.road_class.in_(classes_down_to(min_class)))
        # The reverse edge of a two-way road repeats the same line.
        .where(or_(RoadEdge.oneway.is_(True), RoadEdge.from_node_id < RoadEdge.to_node_id))
    )
    if bbox is not None:
        west, south, east, north = parse_bbox(bbox)

        def inside(node: Any) -> Any:
            return and_(node.lon >= west, node.lon <= east, node.lat >= south, node.lat <= north)

        stmt = stmt.where(or_(inside(start), inside(end)))
    rows = session.execute(stmt.order_by(RoadEdge.id).limit(limit + 1)).all()
    features = [
        {
            "type": "Feature",
            "id": row.id,
            "geometry": json.loads(shapely.to_geojson(row.geom)),
            "properties": {"class": row.road_class, "name": row.name, "oneway": row.oneway},
        }
        for row in rows[:limit]
    ]
    doc = {"type": "FeatureCollection", "features": features, "truncated": len(rows) > limit}
    return JSONResponse(doc, media_type=GEOJSON)


@router.get("/responders.geojson", response_class=JSONResponse)
def responders_geojson(
    principal: CurrentPrincipal,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=MAX_FEATURES)] = 5_000,
) -> JSONResponse:
    """Latest positions of on-duty responders in your dispatch scope (the console's layer)."""
    # Imported here: the road layer above needs none of the responder tables.
    from pingan.dispatch.responder_models import Responder, ResponderPosition
    from pingan.dispatch.responders import scope_condition
    from pingan.kit import audit
    from pingan.org.models import OrgUnit
    from pingan.org.permissions import Perm

    principal.require(Perm.DISPATCH_READ)
    stmt = (
        select(Responder, ResponderPosition)
        .join(ResponderPosition, ResponderPosition.responder_id == Responder.id)
        .join(OrgUnit, OrgUnit.id == Responder.org_unit_id)
        .where(scope_condition(principal, Perm.DISPATCH_READ))
        .order_by(Responder.id)
        .limit(limit)
    )
    features = [
        {
            "type": "Feature",
            "id": r.id,
            "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
            "properties": {
                "responder_id": r.id, "display_name": r.display_name, "kind": r.kind,
                "tier": r.tier, "availability": r.availability, "at": p.at.isoformat(),
            },
        }
        for r, p in session.execute(stmt)
    ]  # fmt: skip
    # Where staff are is personal data: each read is in the audit log.
    audit.record(
        session, actor=principal.actor, action="dispatch.positions.read",
        object_type="responder", detail={"count": len(features)},
    )  # fmt: skip
    return JSONResponse({"type": "FeatureCollection", "features": features}, media_type=GEOJSON)
