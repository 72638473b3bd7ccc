"""The hand-packed point encodings equal what shapely and PostGIS expect."""

from __future__ import annotations

import numpy as np
import shapely

from pingan.kit.wkb import points_ewkb_hex, points_wkb


def test_points_wkb_equals_shapely() -> None:
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(-180, 180, 50), rng.uniform(-90, 90, 50)
    expected = shapely.to_wkb(shapely.points(lon, lat), byte_order=1)
    assert points_wkb(lon, lat) == list(expected)
    assert [shapely.from_wkb(b).x for b in points_wkb(lon, lat)] == lon.tolist()


def test_points_ewkb_hex_equals_shapely_with_srid() -> None:
    lon, lat = np.array([120.125, -0.5]), np.array([30.25, 51.0])
    points = shapely.set_srid(shapely.points(lon, lat), 4326)
    expected = shapely.to_wkb(points, hex=True, include_srid=True, byte_order=1)
    assert [h.upper() for h in points_ewkb_hex(lon, lat, 4326)] == list(expected)
