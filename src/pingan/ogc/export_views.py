"""``GET /api/v1/exports/{layer}``: a layer as a GeoJSON, CSV or GeoPackage file."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.kit.errors import NotFound
from pingan.ogc import exports, layers
from pingan.ogc.params import BadParameter, parse_query

router = APIRouter(prefix="/api/v1/exports", tags=["exports"])

# Bigger exports would hold a request for long: they are for `pingan export`.
MAX_HTTP_FEATURES = 200_000


@router.get(
    "/{layer_id}",
    summary="Export a layer",
    responses={200: {"content": {media: {} for media in exports.FORMATS.values()}}},
)
def export_layer(
    layer_id: str,
    request: Request,
    principal: CurrentPrincipal,
    session: DbSession,
    format: str = "geojson",
) -> Response:
    """Every feature of the layer in your scope; takes the OGC items filters (bbox, datetime...)."""
    layer = layers.get_layer(layer_id)
    if not principal.can(layer.perm):
        raise NotFound(f"layer {layer_id!r} not found")
    if format not in exports.FORMATS:
        known = ", ".join(exports.FORMATS)
        raise BadParameter(f"unknown format {format!r} (known: {known})", field="format")
    params = {k: v for k, v in request.query_params.items() if k != "format"}
    query = parse_query(params, allowed_extra=layer.options)
    features = exports.collect(session, principal, layer, query, max_features=MAX_HTTP_FEATURES)
    body = exports.render(layer, features, format)
    filename = f"{layer.id}.{format}"
    return Response(
        body,
        media_type=exports.FORMATS[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
