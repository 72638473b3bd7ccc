"""GeoJSON (RFC 7946) shaping: features in WGS84 lon/lat with JSON-safe properties."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import mapping, shape

from pingan.incidents.analysis.locations import Locations
from pingan.kit.geo import Projector

MEDIA_TYPE = "application/geo+json"


def clean(value: Any, digits: int = 6) -> Any:
    """A JSON-safe value: numpy scalars to Python, NaN and infinities to null."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.{digits}g}")
    return value


def column(values: npt.ArrayLike | None, digits: int = 6) -> list[Any]:
    """A numpy column as JSON-safe Python values (None when there is no column)."""
    if values is None:
        return []
    return [clean(v, digits) for v in np.asarray(values).tolist()]


def location_features(
    locations: Locations,
    projector: Projector,
    properties: Mapping[str, Sequence[Any]],
    *,
    keep: Iterable[bool] | None = None,
) -> list[dict[str, Any]]:
    """One Polygon feature per location with the given per-location property columns."""
    geoms = locations.polygons_lonlat(projector)
    base: dict[str, Sequence[Any]] = {"id": locations.ids}
    if locations.unit_ids is not None:
        base["unit_id"] = locations.unit_ids.tolist()
    if locations.names is not None:
        base["name"] = locations.names
    columns = {**base, **properties}
    selected = range(len(locations)) if keep is None else [i for i, k in enumerate(keep) if k]
    features = []
    for i in selected:
        props = {name: col[i] for name, col in columns.items()}
        features.append(
            {
                "type": "Feature",
                "id": locations.ids[i],
                "geometry": mapping(geoms[i]),
                "properties": props,
            }
        )
    return features


def feature_collection(features: list[dict[str, Any]], **members: Any) -> dict[str, Any]:
    """A FeatureCollection; extra members (e.g. a summary) ride along, as RFC 7946 allows."""
    return {"type": "FeatureCollection", "features": features, **members}


def features_csv(collection: dict[str, Any]) -> str:
    """The features' properties as CSV, with each geometry's centroid as lon/lat."""
    features = collection["features"]
    names: list[str] = []
    for feature in features[:1]:
        names = [k for k, v in feature["properties"].items() if not isinstance(v, dict | list)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*names, "lon", "lat"])
    for feature in features:
        centre = shape(feature["geometry"]).centroid
        props = feature["properties"]
        row = ["" if props.get(n) is None else props[n] for n in names]
        writer.writerow([*row, round(centre.x, 7), round(centre.y, 7)])
    return out.getvalue()


def bbox_lonlat(polygons: npt.NDArray[np.object_]) -> list[float] | None:
    if len(polygons) == 0:
        return None
    return [round(v, 7) for v in shapely.total_bounds(polygons).tolist()]
