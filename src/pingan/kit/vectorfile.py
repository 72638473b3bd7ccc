"""Reading features from GeoJSON and GeoPackage files, in WGS84 lon/lat.

Incident and boundary imports read the same two formats, so both go
through here. GeoJSON is parsed with the json module, so every feature
keeps its position in the ``features`` array (GDAL would renumber features
that carry an ``id``); GeoPackage goes through pyogrio's raw reader, which
needs neither geopandas nor pyarrow, and every feature keeps its fid.
Geometries come back reprojected to EPSG:4326 from the file's CRS.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from pingan.kit.errors import ValidationFailed

GEOJSON_SUFFIXES = (".geojson", ".json")
GPKG_SUFFIXES = (".gpkg",)
# GeoPackage layers are read this many features at a time to bound memory.
GPKG_CHUNK = 20_000


class FileRejected(ValidationFailed):
    """The file as a whole cannot be read: format, layer, column or encoding."""

    slug = "file-rejected"
    title = "File rejected"


@dataclass(frozen=True)
class Feature:
    """One feature; ``number`` is its features[] index (GeoJSON) or fid (GeoPackage)."""

    number: int
    properties: dict[str, Any]
    geometry: BaseGeometry | None
    error: str | None = None


@dataclass
class VectorLayer:
    format: str  # "geojson" or "gpkg"
    unit: str  # how a feature is numbered in messages: "feature" or "fid"
    crs: str | None  # the file's CRS; None means lon/lat
    fields: list[str] | None  # declared attribute names (GeoPackage only)
    count: int
    features: Iterator[Feature]


def vector_format(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in GEOJSON_SUFFIXES:
        return "geojson"
    if suffix in GPKG_SUFFIXES:
        return "gpkg"
    return None


def open_layer(path: Path, *, layer: str | None = None) -> VectorLayer:
    """Open a GeoJSON or GeoPackage file; raises ``FileRejected`` if it cannot be read."""
    if not path.is_file():
        raise FileRejected(f"{path} does not exist or is not a file", field="file")
    fmt = vector_format(path)
    if fmt == "geojson":
        return read_geojson(path)
    if fmt == "gpkg":
        return read_gpkg(path, layer=layer)
    raise FileRejected(
        f"{path.name}: unknown format {path.suffix!r} (expected .geojson, .json or .gpkg)",
        field="file",
    )


# --- GeoJSON ----------------------------------------------------------------


def read_geojson(path: Path) -> VectorLayer:
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FileRejected(f"{path.name} is not UTF-8 text: {exc.reason}", field="file") from None
    except json.JSONDecodeError as exc:
        raise FileRejected(
            f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}", field="file"
        ) from None
    except OSError as exc:
        raise FileRejected(f"cannot read {path}: {exc.strerror}", field="file") from None
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        raw_features: list[Any] = [doc]
    elif isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        raw_features = doc.get("features") or []
        if not isinstance(raw_features, list):
            raise FileRejected(f"{path.name}: 'features' is not a list", field="file")
    else:
        raise FileRejected(f"{path.name} is not a GeoJSON FeatureCollection", field="file")
    crs = _geojson_crs(doc, path)
    features = [_parse_feature(i, raw) for i, raw in enumerate(raw_features)]
    return VectorLayer(
        format="geojson",
        unit="feature",
        crs=crs,
        fields=None,
        count=len(features),
        features=iter(_to_lonlat_features(features, crs)),
    )


def _geojson_crs(doc: dict[str, Any], path: Path) -> str | None:
    """The legacy (2008) ``crs`` member; RFC 7946 files have none and are lon/lat."""
    member = doc.get("crs")
    if not isinstance(member, dict):
        return None
    name = (member.get("properties") or {}).get("name")
    if not isinstance(name, str):
        return None
    try:
        CRS.from_user_input(name)
    except CRSError:
        raise FileRejected(f"{path.name}: unknown CRS {name!r}", field="crs") from None
    return name


def _parse_feature(index: int, raw: Any) -> Feature:
    if not isinstance(raw, dict) or raw.get("type") != "Feature":
        return Feature(index, {}, None, "not a GeoJSON Feature")
    props = raw.get("properties") or {}
    if not isinstance(props, dict):
        return Feature(index, {}, None, "'properties' is not an object")
    geometry = raw.get("geometry")
    if geometry is None:
        return Feature(index, props, None)
    try:
        geom = shape(geometry)
    except Exception as exc:  # shapely raises many types for malformed input
        return Feature(index, props, None, f"malformed geometry: {exc}")
    return Feature(index, props, geom)


# --- GeoPackage ----------------------------------------------------------------


def read_gpkg(path: Path, *, layer: str | None) -> VectorLayer:
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    try:
        layers = [str(name) for name, _gtype in pyogrio.list_layers(path)]
    except DataSourceError as exc:
        raise FileRejected(f"cannot read {path.name} as GeoPackage: {exc}", field="file") from None
    if layer is None:
        if len(layers) != 1:
            raise FileRejected(
                f"{path.name} has {len(layers)} layers ({', '.join(layers) or 'none'}); "
                "choose one with --layer",
                field="layer",
            )
        layer = layers[0]
    elif layer not in layers:
        raise FileRejected(
            f"{path.name} has no layer {layer!r} (layers: {', '.join(layers)})", field="layer"
        )
    try:
        info = pyogrio.read_info(path, layer=layer)
    except (DataSourceError, DataLayerError) as exc:
        raise FileRejected(f"cannot read layer {layer!r}: {exc}", field="layer") from None
    crs = info.get("crs")
    return VectorLayer(
        format="gpkg",
        unit="fid",
        crs=crs,
        fields=[str(f) for f in info["fields"]],
        count=max(int(info["features"]), 0),
        features=_gpkg_features(path, layer, int(info["features"]), crs),
    )


def _gpkg_features(path: Path, layer: str, count: int, crs: str | None) -> Iterator[Feature]:
    from pyogrio import raw
    from pyogrio.errors import DataLayerError, DataSourceError

    start = 0
    # A count of -1 means the driver does not know it: read until a short chunk.
    while count < 0 or start < count:
        try:
            meta, fids, wkb, columns = raw.read(
                path,
                layer=layer,
                skip_features=start,
                max_features=GPKG_CHUNK,
                return_fids=True,
                datetime_as_string=True,
                force_2d=True,
            )
        except (DataSourceError, DataLayerError) as exc:
            raise FileRejected(
                f"cannot read {path.name} after feature {start}: {exc}", field="file"
            ) from None
        names = [str(f) for f in meta["fields"]]
        geoms: list[BaseGeometry | None] = (
            [None] * len(fids) if wkb is None else list(shapely.from_wkb(wkb))
        )
        chunk = [
            Feature(
                int(fid),
                {name: _plain(col[i]) for name, col in zip(names, columns, strict=True)},
                geom,
            )
            for i, (fid, geom) in enumerate(zip(fids, geoms, strict=True))
        ]
        yield from _to_lonlat_features(chunk, crs)
        start += GPKG_CHUNK
        if len(fids) < GPKG_CHUNK:
            return


def _plain(value: Any) -> Any:
    """A numpy scalar as a Python value; NaN (GDAL's null for numbers) as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


# --- reprojection ---------------------------------------------------------------


@lru_cache(maxsize=16)
def _to_wgs84(crs: str) -> Transformer | None:
    """Transformer from ``crs`` to lon/lat, or None when it already is lon/lat."""
    source = CRS.from_user_input(crs)
    if source.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        return None
    return Transformer.from_crs(source, CRS.from_epsg(4326), always_xy=True)


def _to_lonlat_features(features: Sequence[Feature], crs: str | None) -> list[Feature]:
    """Reproject all geometries in one call and flag those off the lon/lat range."""
    transformer = None if crs is None else _to_wgs84(crs)
    present = [i for i, f in enumerate(features) if f.geometry is not None]
    geoms = shapely.force_2d(np.array([features[i].geometry for i in present], dtype=object))
    if transformer is not None and len(geoms):

        def apply(coords: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
            x, y = transformer.transform(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        geoms = shapely.transform(geoms, apply)
    out = list(features)
    for pos, i in enumerate(present):
        geom = geoms[pos]
        error = features[i].error
        if error is None and not geom.is_empty and not _in_lonlat_range(geom):
            hint = "the file declares no CRS" if crs is None else f"from {crs}"
            error = f"coordinates are outside the longitude/latitude range ({hint})"
        out[i] = Feature(features[i].number, features[i].properties, geom, error)
    return out


def _in_lonlat_range(geom: BaseGeometry) -> bool:
    west, south, east, north = geom.bounds
    finite = all(math.isfinite(v) for v in (west, south, east, north))
    return finite and -180 <= west <= east <= 180 and -90 <= south <= north <= 90
