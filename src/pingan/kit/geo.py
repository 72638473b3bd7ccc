"""Geometry helpers: the city's metric projection and point-in-polygon lookup.

Storage is WGS84 longitude/latitude. Distances, areas and analytics work in
a metric projection chosen for the city (the UTM zone of its centre unless
configured otherwise), so metres are metres everywhere in the city.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info
from shapely.geometry.base import BaseGeometry

FloatArray = NDArray[np.float64]


def utm_crs_for(lon: float, lat: float) -> str:
    """The UTM zone (WGS84 datum) that contains a point, as ``EPSG:NNNNN``."""
    infos = query_utm_crs_info(
        datum_name="WGS 84",
        area_of_interest=AreaOfInterest(lon, lat, lon, lat),
    )
    if not infos:
        raise ValueError(f"no UTM zone found for lon={lon}, lat={lat}")
    return f"{infos[0].auth_name}:{infos[0].code}"


@dataclass(frozen=True)
class Projector:
    """Converts between WGS84 lon/lat and the city's metric CRS."""

    crs: str

    @property
    def _forward(self) -> Transformer:
        return _transformer("EPSG:4326", self.crs)

    @property
    def _inverse(self) -> Transformer:
        return _transformer(self.crs, "EPSG:4326")

    def to_metric(self, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        x, y = self._forward.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x, float), np.asarray(y, float)

    def to_lonlat(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        lon, lat = self._inverse.transform(np.asarray(x, float), np.asarray(y, float))
        return np.asarray(lon, float), np.asarray(lat, float)

    def geometry_to_metric(self, geom: BaseGeometry) -> BaseGeometry:
        return _reproject(geom, self._forward)

    def geometry_to_lonlat(self, geom: BaseGeometry) -> BaseGeometry:
        return _reproject(geom, self._inverse)

    def area_km2(self, geom: BaseGeometry) -> float:
        return float(self.geometry_to_metric(geom).area) / 1e6


def _reproject(geom: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    def apply(coords: FloatArray) -> FloatArray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, apply)


@lru_cache(maxsize=32)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


class PolygonIndex:
    """Finds which polygon contains each point, vectorised over many points.

    Points on a shared edge belong to the polygon listed first, so the answer
    is deterministic.
    """

    def __init__(self, keys: Sequence[int], polygons: Sequence[BaseGeometry]) -> None:
        self.keys = np.asarray(keys, dtype=np.int64)
        self.polygons = list(polygons)
        self._tree = shapely.STRtree(self.polygons)

    def __len__(self) -> int:
        return len(self.polygons)

    def locate(self, lon: FloatArray, lat: FloatArray) -> NDArray[np.int64]:
        """Key of the containing polygon for each point, -1 where none."""
        lon = np.atleast_1d(np.asarray(lon, float))
        lat = np.atleast_1d(np.asarray(lat, float))
        result = np.full(len(lon), -1, dtype=np.int64)
        if len(lon) == 0 or len(self.polygons) == 0:
            return result
        points = shapely.points(lon, lat)
        point_idx, poly_idx = self._tree.query(points, predicate="intersects")
        # Keep the lowest polygon position per point: sort by (point, polygon).
        order = np.lexsort((poly_idx, point_idx))
        point_idx, poly_idx = point_idx[order], poly_idx[order]
        first = np.ones(len(point_idx), dtype=bool)
        first[1:] = point_idx[1:] != point_idx[:-1]
        result[point_idx[first]] = self.keys[poly_idx[first]]
        return result
