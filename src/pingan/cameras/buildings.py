"""Reading building footprint layers: OpenStreetMap extracts (.osm.pbf), GeoJSON, GeoPackage.

The footprints block cameras' sight lines (``streets.load_footprints``).
OpenStreetMap extracts are parsed with pyrosm (the ``osm`` extra), which
keeps ways and relations tagged ``building``; a bounding box limits the
parse to part of a large extract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shapely import box

from pingan.kit.errors import ValidationFailed
from pingan.kit.vectorfile import open_layer

POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass
class FootprintFile:
    """The polygons read (lon/lat) and, for every feature left out, where and why."""

    geoms: list[Any] = field(default_factory=list)
    skipped: list[tuple[str, int, str]] = field(default_factory=list)  # (unit, number, reason)


def is_osm_extract(path: Path) -> bool:
    return path.name.lower().endswith(".pbf")


def read_footprints(
    path: Path,
    *,
    layer: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> FootprintFile:
    """Building polygons of a file; ``bbox`` (lon0, lat0, lon1, lat1) keeps those touching it."""
    if bbox is not None and not (bbox[0] < bbox[2] and bbox[1] < bbox[3]):
        raise ValidationFailed("bbox must be lon0,lat0,lon1,lat1 with lon0 < lon1, lat0 < lat1",
                               field="bbox")  # fmt: skip
    if is_osm_extract(path):
        return _read_osm(path, bbox)
    out = FootprintFile()
    opened = open_layer(path, layer=layer)
    for feat in opened.features:
        geom = feat.geometry
        if geom is None or geom.geom_type not in POLYGONAL:
            why = feat.error or f"not a polygon ({getattr(geom, 'geom_type', None)})"
            out.skipped.append((opened.unit, feat.number, why))
        elif bbox is None or geom.intersects(box(*bbox)):
            out.geoms.append(geom)
    return out


def _read_osm(path: Path, bbox: tuple[float, float, float, float] | None) -> FootprintFile:
    try:
        import pyrosm
    except ImportError:
        raise ValidationFailed(
            "reading .osm.pbf needs pyrosm: pip install 'pingan[osm]'", field="file"
        ) from None
    if not path.is_file():
        raise ValidationFailed(f"{path} does not exist or is not a file", field="file")
    try:
        osm = pyrosm.OSM(str(path), bounding_box=list(bbox) if bbox else None)
        frame = osm.get_buildings()
    except Exception as exc:  # pyrosm raises bare errors on a corrupt file: name the file
        raise ValidationFailed(f"{path.name}: not a readable OSM extract ({exc})",
                               field="file") from None  # fmt: skip
    out = FootprintFile()
    if frame is None or len(frame) == 0:
        return out
    for osm_id, geom in zip(frame["id"].tolist(), frame.geometry.tolist(), strict=True):
        if geom is None or geom.is_empty or geom.geom_type not in POLYGONAL:
            out.skipped.append(("osm id", int(osm_id), f"not a polygon ({_kind(geom)})"))
        else:
            out.geoms.append(geom)
    return out


def _kind(geom: Any) -> str | None:
    return None if geom is None else str(geom.geom_type)
