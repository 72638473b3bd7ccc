"""Camera files in and out: CSV, GeoJSON and GeoPackage.

Reading never stops at a bad row: each row becomes a ``CameraIn`` or a
``RowError`` with its line (CSV, counting the header as line 1), feature
index (GeoJSON) or fid (GeoPackage). Empty cells mean "use the default".
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.cameras.models import Camera, CameraOwner
from pingan.cameras.registry import visible_filter
from pingan.cameras.schemas import CameraIn, RowError
from pingan.kit.errors import ValidationFailed
from pingan.kit.vectorfile import FileRejected, open_layer, vector_format
from pingan.org.principal import Principal

COLUMNS = (
    "owner_code", "owner_camera_id", "network", "name", "lon", "lat", "height_m", "heading_deg",
    "fov_deg", "range_m", "resolution", "ptz", "status", "installed_on", "access_level",
    "sharing_contact",
)  # fmt: skip
REQUIRED = ("owner_code", "owner_camera_id", "network", "lon", "lat")
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}

Parsed = tuple[list[tuple[int, CameraIn]], list[RowError]]


def file_format(path: Path) -> str:
    if path.suffix.lower() == ".csv":
        return "csv"
    fmt = vector_format(path)
    if fmt is None:
        raise FileRejected(
            f"{path.name}: unknown format {path.suffix!r} (expected .csv, .geojson or .gpkg)",
            field="file",
        )
    return fmt


def _clean(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in COLUMNS:
            continue
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                continue
        if value is None:
            continue
        if key == "ptz" and isinstance(value, str):
            low = value.lower()
            if low not in _TRUE | _FALSE:
                raise ValueError(f"ptz must be true or false, got {value!r}")
            value = low in _TRUE
        out[key] = value
    return out


def _row(number: int, raw: dict[str, Any]) -> CameraIn | RowError:
    cid = raw.get("owner_camera_id")
    cid_text = None if cid is None else str(cid)
    try:
        values = _clean(raw)
        missing = [c for c in REQUIRED if c not in values]
        if missing:
            return RowError(line=number, owner_camera_id=cid_text,
                            error=f"missing {', '.join(missing)}")  # fmt: skip
        values["owner_camera_id"] = str(values["owner_camera_id"])
        values["owner_code"] = str(values["owner_code"])
        return CameraIn.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return RowError(line=number, owner_camera_id=cid_text, error=f"{where}: {first['msg']}")
    except ValueError as exc:
        return RowError(line=number, owner_camera_id=cid_text, error=str(exc))


def read_csv(text: str) -> Parsed:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise FileRejected(f"unknown column {unknown[0]!r} (expected {', '.join(COLUMNS)})",
                           field="file")  # fmt: skip
    missing = [c for c in ("owner_code", "owner_camera_id", "network") if c not in header]
    if missing or not {"lon", "lat"} <= set(header):
        need = missing or ["lon", "lat"]
        raise FileRejected(f"missing column {need[0]!r}", field="file")
    rows: list[tuple[int, CameraIn]] = []
    errors: list[RowError] = []
    for raw in reader:
        line = reader.line_num
        parsed = _row(line, dict(raw))
        if isinstance(parsed, RowError):
            errors.append(parsed)
        else:
            rows.append((line, parsed))
    return rows, errors


def read_vector(path: Path, *, layer: str | None = None) -> Parsed:
    opened = open_layer(path, layer=layer)
    rows: list[tuple[int, CameraIn]] = []
    errors: list[RowError] = []
    for feat in opened.features:
        cid = feat.properties.get("owner_camera_id")
        if feat.error is not None or feat.geometry is None:
            errors.append(RowError(line=feat.number, owner_camera_id=None if cid is None else
                                   str(cid), error=feat.error or "no geometry"))  # fmt: skip
            continue
        if feat.geometry.geom_type != "Point":
            errors.append(RowError(line=feat.number, owner_camera_id=None if cid is None else
                                   str(cid), error=f"a camera is a Point, not a "
                                   f"{feat.geometry.geom_type}"))  # fmt: skip
            continue
        pt = shapely.get_coordinates(feat.geometry)[0]
        props = {**feat.properties, "lon": float(pt[0]), "lat": float(pt[1])}
        parsed = _row(feat.number, props)
        if isinstance(parsed, RowError):
            errors.append(parsed)
        else:
            rows.append((feat.number, parsed))
    return rows, errors


def read_file(path: Path, *, layer: str | None = None) -> Parsed:
    fmt = file_format(path)
    if fmt == "csv":
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise FileRejected(f"cannot read {path.name} as UTF-8 text: {exc}",
                               field="file") from None  # fmt: skip
        return read_csv(text)
    return read_vector(path, layer=layer)


# --- export ---------------------------------------------------------------------


def iter_rows(
    session: Session, *, actor: Principal, chunk: int = 10_000
) -> Iterator[dict[str, Any]]:
    """Every camera the actor may read, as export rows, in id order."""
    owners = dict(session.execute(select(CameraOwner.id, CameraOwner.code)).all())
    last = 0
    while True:
        batch = list(
            session.scalars(
                select(Camera)
                .where(visible_filter(session, actor), Camera.id > last)
                .order_by(Camera.id)
                .limit(chunk)
            )
        )
        if not batch:
            return
        for c in batch:
            yield {
                "owner_code": owners[c.owner_id], "owner_camera_id": c.owner_camera_id,
                "network": c.network, "name": c.name, "lon": float(shapely.get_x(c.location)),
                "lat": float(shapely.get_y(c.location)), "height_m": c.height_m,
                "heading_deg": c.heading_deg,
                "fov_deg": c.fov_deg, "range_m": c.range_m, "resolution": c.resolution,
                "ptz": c.ptz, "status": c.status,
                "installed_on": c.installed_on.isoformat() if c.installed_on else None,
                "access_level": c.access_level, "sharing_contact": c.sharing_contact,
            }  # fmt: skip
        last = batch[-1].id


def write_file(session: Session, path: Path, *, actor: Principal) -> int:
    fmt = file_format(path)
    rows = list(iter_rows(session, actor=actor))
    if fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(COLUMNS))
            writer.writeheader()
            for r in rows:
                writer.writerow({k: ("" if v is None else v) for k, v in r.items()})
    elif fmt == "geojson":
        features = [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
             "properties": {k: v for k, v in r.items() if k not in ("lon", "lat")}}
            for r in rows
        ]  # fmt: skip
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                                   ensure_ascii=False), encoding="utf-8")  # fmt: skip
    else:
        _write_gpkg(path, rows)
    return len(rows)


def _write_gpkg(path: Path, rows: list[dict[str, Any]]) -> None:
    from pyogrio import raw

    if not rows:
        raise ValidationFailed("no cameras to export: a GeoPackage layer needs at least one")
    names = [c for c in COLUMNS if c not in ("lon", "lat")]
    geometry = shapely.to_wkb(shapely.points([r["lon"] for r in rows], [r["lat"] for r in rows]))
    fields = []
    for name in names:
        values = [r[name] for r in rows]
        if name in ("height_m", "heading_deg", "fov_deg", "range_m"):
            fields.append(np.array([np.nan if v is None else v for v in values], dtype=np.float64))
        elif name == "ptz":
            fields.append(np.array([bool(v) for v in values], dtype=bool))
        else:
            fields.append(np.array(["" if v is None else str(v) for v in values], dtype=object))
    if path.exists():
        path.unlink()
    raw.write(
        path, geometry=np.asarray(geometry, dtype=object), field_data=fields, fields=names,
        driver="GPKG", layer="cameras", crs="EPSG:4326", geometry_type="Point",
    )  # fmt: skip
