"""Layers to files: GeoJSON, CSV (with WKT geometry) and GeoPackage.

The features come from ``pingan.ogc.layers``, so an export holds exactly what
its requester may read, and every export is an audit entry.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
from pathlib import Path
from typing import Any, cast

import numpy as np
import shapely
from shapely.geometry import shape
from sqlalchemy.orm import Session

from pingan.kit import audit
from pingan.kit.errors import PayloadTooLarge, ValidationFailed
from pingan.ogc import layers
from pingan.ogc.params import Query
from pingan.org.principal import Principal

FORMATS = {
    "geojson": "application/geo+json",
    "csv": "text/csv",
    "gpkg": "application/geopackage+sqlite3",
}
SUFFIXES = {".geojson": "geojson", ".json": "geojson", ".csv": "csv", ".gpkg": "gpkg"}


def format_for(path: Path) -> str:
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ValidationFailed(
            f"cannot tell the format of {path.name!r}: use .geojson, .csv or .gpkg", field="file"
        )
    return fmt


def collect(
    session: Session,
    actor: Principal,
    layer: layers.Layer,
    query: Query,
    *,
    max_features: int | None = None,
) -> list[layers.Feature]:
    """Every feature of the layer that matches, within the actor's scope."""
    everything = Query(
        limit=None, offset=0, bbox=query.bbox, interval=query.interval, extra=query.extra
    )
    if max_features is not None:
        # Count first on a one-feature page, so a huge export is refused before it is read.
        probe = layer.read(session, actor, Query(**{**everything.__dict__, "limit": 1}))
        if probe.matched > max_features:
            raise PayloadTooLarge(
                f"{probe.matched:,} features match; an export over HTTP holds at most "
                f"{max_features:,}: narrow bbox or datetime, or use `pingan export`"
            )
    features = layer.read(session, actor, everything).features
    audit.record(
        session,
        actor=actor.actor,
        action="export.layer",
        object_type="layer",
        object_id=layer.id,
        detail={"features": len(features), "options": dict(query.extra or {})},
    )
    return features


def render(layer: layers.Layer, features: list[layers.Feature], fmt: str) -> bytes:
    if fmt == "geojson":
        doc = {"type": "FeatureCollection", "name": layer.id, "features": features}
        return json.dumps(doc, ensure_ascii=False, default=str).encode()
    if fmt == "csv":
        return _csv(features).encode()
    if fmt == "gpkg":
        return _gpkg(layer, features)
    raise ValidationFailed(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})", field="format")


def _columns(features: list[layers.Feature]) -> list[str]:
    names: dict[str, None] = {}
    for feature in features:
        for key in feature["properties"]:
            names.setdefault(key, None)
    return list(names)


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def _csv(features: list[layers.Feature]) -> str:
    names = _columns(features)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", *names, "wkt"])
    for feature in features:
        geom = feature["geometry"]
        wkt = "" if geom is None else shape(geom).wkt
        props = feature["properties"]
        row = [_cell(props.get(n)) for n in names]
        writer.writerow([feature["id"], *("" if v is None else v for v in row), wkt])
    return out.getvalue()


def _field(values: list[Any]) -> np.ndarray[Any, Any]:
    """A typed column for GDAL: integers, reals, or text (None stays empty)."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return np.array([None if v is None else int(v) for v in values], dtype=object).astype(
            np.float64
        )
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        if len(present) == len(values):
            return np.array(values, dtype=np.int64)
        return np.array([math.nan if v is None else v for v in values], dtype=np.float64)
    if present and all(isinstance(v, int | float) for v in present):
        return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
    return np.array([None if v is None else str(_cell(v)) for v in values], dtype=object)


def _gpkg(layer: layers.Layer, features: list[layers.Feature]) -> bytes:
    import pyogrio.raw

    names = _columns(features)
    geoms = [None if f["geometry"] is None else shape(f["geometry"]) for f in features]
    if layer.geometry in ("MultiPolygon", "Polygon"):
        # One declared type per GeoPackage layer: polygons are promoted to multipolygons.
        geoms = [
            g
            if g is None or g.geom_type != "Polygon"
            else shapely.MultiPolygon([cast(shapely.Polygon, g)])
            for g in geoms
        ]
        geometry_type = "MultiPolygon"
    else:
        geometry_type = layer.geometry
    wkb = np.array([None if g is None else shapely.to_wkb(g) for g in geoms], dtype=object)
    columns = ["feature_id", *names]
    data = [_field([str(f["id"]) for f in features])]
    data += [_field([f["properties"].get(n) for f in features]) for n in names]
    with tempfile.TemporaryDirectory(prefix="pingan-export-") as tmp:
        path = Path(tmp) / f"{layer.id}.gpkg"
        pyogrio.raw.write(
            str(path),
            wkb,
            data,
            columns,
            layer=layer.id.replace("-", "_"),
            driver="GPKG",
            geometry_type=geometry_type,
            crs="EPSG:4326",
        )
        return path.read_bytes()
