"""OGC API - Features, Part 1: Core, under ``/ogc``: landing page, conformance, collections, items.

Responses are JSON and GeoJSON with the links the standard asks for, so QGIS,
GDAL and OWSLib page through a layer by following ``next``. Every route needs
the same credentials as the rest of the API (bearer token, ``X-API-Key``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.kit.db import utcnow
from pingan.kit.errors import NotFound
from pingan.ogc import layers
from pingan.ogc.params import CRS84

router = APIRouter(prefix="/ogc", tags=["ogc"])

GEOJSON = "application/geo+json"
JSON = "application/json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
# Declared for the OpenAPI document; parsed by pingan.ogc.params (400 on bad input).
_ITEMS_DOC: dict[str, Any] = {
    "parameters": [
        {"name": name, "in": "query", "required": False, "schema": schema, "description": doc}
        for name, schema, doc in (
            ("limit", {"type": "integer", "minimum": 1, "default": 100}, "at most 10,000"),
            ("offset", {"type": "integer", "minimum": 0, "default": 0}, "features to skip"),
            ("bbox", {"type": "string"}, "minlon,minlat,maxlon,maxlat (CRS84)"),
            ("datetime", {"type": "string"}, "RFC 3339 instant or interval (a/b, ../b, a/..)"),
            ("f", {"type": "string", "enum": ["json", "geojson"]}, "response format"),
            ("level", {"type": "string"}, "org-units: the level"),
            ("type", {"type": "string"}, "incidents: type code, with subtypes"),
            ("run", {"type": "integer"}, "hotspots: the job id of a hotspot run"),
            ("status", {"type": "string"}, "alerts: status"),
            ("method", {"type": "string"}, "alerts: detection method"),
            ("uncovered", {"type": "boolean"}, "coverage: only segments no camera sees"),
        )
    ]
}


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _link(href: str, rel: str, media: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": media}
    if title is not None:
        link["title"] = title
    return link


@router.get("", summary="OGC API landing page")
def landing(request: Request, principal: CurrentPrincipal) -> dict[str, Any]:
    """Links to the API definition, the conformance declaration and the collections."""
    base = _base(request)
    root = str(request.base_url).rstrip("/")
    return {
        "title": "Pingan OGC API - Features",
        "description": "Org units, incidents, hotspots, alerts, cameras, coverage in your scope.",
        "links": [
            _link(base, "self", JSON, "this document"),
            _link(f"{root}/openapi.json", "service-desc", OPENAPI, "the API definition"),
            _link(f"{root}/docs", "service-doc", "text/html", "the API documentation"),
            _link(f"{base}/conformance", "conformance", JSON, "conformance classes"),
            _link(f"{base}/collections", "data", JSON, "the collections"),
        ],
    }


@router.get("/conformance", summary="OGC API conformance classes")
def conformance(principal: CurrentPrincipal) -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


def _collection(request: Request, layer: layers.Layer, bbox: list[float] | None) -> dict[str, Any]:
    base = f"{_base(request)}/collections/{layer.id}"
    doc: dict[str, Any] = {
        "id": layer.id,
        "title": layer.title,
        "description": layer.description,
        "itemType": "feature",
        "crs": [CRS84],
        "links": [
            _link(base, "self", JSON, "this collection"),
            _link(f"{base}/items", "items", GEOJSON, "the features"),
        ],
    }
    extent: dict[str, Any] = {}
    if bbox is not None:
        extent["spatial"] = {"bbox": [bbox], "crs": CRS84}
    if layer.temporal:
        extent["temporal"] = {"interval": [[None, None]]}
    if extent:
        doc["extent"] = extent
    return doc


@router.get("/collections", summary="OGC API collections")
def collections(request: Request, principal: CurrentPrincipal, session: DbSession) -> Any:
    """The layers you may read, with the extent of your scope."""
    bbox = layers.scope_extent(session, principal)
    visible = layers.visible_layers(principal)
    return {
        "links": [_link(f"{_base(request)}/collections", "self", JSON, "the collections")],
        "collections": [_collection(request, layer, bbox) for layer in visible],
    }


def _readable(principal: CurrentPrincipal, collection_id: str) -> layers.Layer:
    layer = layers.get_layer(collection_id)
    if not principal.can(layer.perm):
        # A layer you cannot read looks the same as one that does not exist.
        raise NotFound(f"collection {collection_id!r} not found")
    return layer


@router.get("/collections/{collection_id}", summary="OGC API collection")
def collection(
    collection_id: str, request: Request, principal: CurrentPrincipal, session: DbSession
) -> Any:
    layer = _readable(principal, collection_id)
    return _collection(request, layer, layers.scope_extent(session, principal))


@router.get(
    "/collections/{collection_id}/items",
    summary="OGC API features of a collection",
    openapi_extra=_ITEMS_DOC,
    response_class=JSONResponse,
)
def items(
    collection_id: str, request: Request, principal: CurrentPrincipal, session: DbSession
) -> JSONResponse:
    """One page of features; follow the ``next`` link for the rest."""
    layer = _readable(principal, collection_id)
    params = dict(request.query_params)
    query = layers.parse_layer_query(layer, params)
    page = layer.read(session, principal, query)
    base = f"{_base(request)}/collections/{layer.id}"
    limit = query.limit or layers.MAX_PAGE

    def page_link(offset: int, rel: str) -> dict[str, str]:
        args = {**params, "offset": str(offset), "limit": str(limit)}
        return _link(f"{base}/items?{urlencode(args)}", rel, GEOJSON)

    links = [
        page_link(query.offset, "self"),
        _link(base, "collection", JSON, "the collection"),
    ]
    if query.offset + len(page.features) < page.matched:
        links.append(page_link(query.offset + limit, "next"))
    if query.offset > 0:
        links.append(page_link(max(0, query.offset - limit), "prev"))
    body = {
        "type": "FeatureCollection",
        "features": page.features,
        "links": links,
        "numberMatched": page.matched,
        "numberReturned": len(page.features),
        "timeStamp": utcnow().isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    return JSONResponse(body, media_type=GEOJSON)


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    summary="OGC API one feature",
    response_class=JSONResponse,
)
def item(
    collection_id: str,
    feature_id: str,
    request: Request,
    principal: CurrentPrincipal,
    session: DbSession,
) -> JSONResponse:
    layer = _readable(principal, collection_id)
    layers.parse_layer_query(layer, dict(request.query_params))
    feature = layers.read_feature(session, principal, layer, feature_id)
    base = f"{_base(request)}/collections/{layer.id}"
    body = {
        **feature,
        "links": [
            _link(f"{base}/items/{feature_id}", "self", GEOJSON),
            _link(base, "collection", JSON, "the collection"),
        ],
    }
    return JSONResponse(body, media_type=GEOJSON)
