"""Raster outputs: PNG and colour ramps, slippy tiles, contours, GeoTIFF."""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
import shapely

from pingan.analytics.binning import GridSpec
from pingan.analytics.contours import contour_bands, contour_lines
from pingan.analytics.geotiff import geotiff_bytes, write_geotiff
from pingan.analytics.rasters import colourise, encode_png, legend
from pingan.analytics.tiles import (
    MERCATOR_HALF_WORLD,
    lonlat_to_mercator,
    lonlat_to_tile,
    mercator_to_lonlat,
    render_tile,
    sample_tile,
    tile_bounds,
    tile_bounds_lonlat,
    tiles_covering,
)


def _decode_png(data: bytes) -> np.ndarray:
    """A minimal independent PNG reader for 8-bit RGBA, filter 0, checking every CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", header[:10])
    assert (depth, colour_type) == (8, 6)
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, width * 4 + 1)
    assert np.all(raw[:, 0] == 0)
    return raw[:, 1:].reshape(height, width, 4)


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_png_round_trips_through_two_decoders(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (37, 53, 4), dtype=np.uint8)
    data = encode_png(image)
    np.testing.assert_array_equal(_decode_png(data), image)
    path = tmp_path / "tile.png"
    path.write_bytes(data)
    with rasterio.open(path) as ds:  # GDAL's PNG driver
        np.testing.assert_array_equal(np.moveaxis(ds.read(), 0, -1), image)
    with pytest.raises(ValueError, match="uint8"):
        encode_png(image.astype(np.int32))


def test_colour_ramp_ends_transparency_and_legend() -> None:
    values = np.array([[0.0, 5.0, 10.0, np.nan, 20.0]])
    rgba = colourise(values, vmin=0, vmax=10, ramp="heat", transparent_below=1.0)
    assert rgba[0, 0, 3] == 0  # below the floor
    assert rgba[0, 3, 3] == 0  # NaN
    assert tuple(rgba[0, 2, :3]) == (189, 0, 38) == tuple(rgba[0, 4, :3])  # clipped at vmax
    assert rgba[0, 1, 3] == 255
    entries = legend(0, 10, ramp="heat", steps=3)
    assert [e.value for e in entries] == [0.0, 5.0, 10.0]
    assert entries[0].colour == "#ffffb2" and entries[-1].colour == "#bd0026"
    assert entries[1].colour == "#{:02x}{:02x}{:02x}".format(*rgba[0, 1, :3])
    with pytest.raises(ValueError, match="ramp"):
        colourise(values, vmin=0, vmax=1, ramp="rainbow")


def test_tile_bounds_and_point_lookup() -> None:
    h = MERCATOR_HALF_WORLD
    assert tile_bounds(0, 0, 0) == pytest.approx((-h, -h, h, h))
    assert tile_bounds(1, 1, 0) == pytest.approx((0, 0, h, h))  # north-east quarter
    lon, lat, z = 116.3912, 39.9067, 10
    tx, ty = lonlat_to_tile(lon, lat, z)
    # The OpenStreetMap wiki's formula, written independently.
    want_x = math.floor((lon + 180) / 360 * 2**z)
    want_y = math.floor((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
    assert (int(tx), int(ty)) == (want_x, want_y)
    west, south, east, north = tile_bounds_lonlat(z, want_x, want_y)
    assert west <= lon < east and south <= lat < north
    mx, my = lonlat_to_mercator(lon, lat)
    back_lon, back_lat = mercator_to_lonlat(mx, my)
    assert (float(back_lon), float(back_lat)) == pytest.approx((lon, lat))
    web = pyproj.Transformer.from_crs(4326, 3857, always_xy=True)
    assert (float(mx), float(my)) == pytest.approx(web.transform(lon, lat), abs=1e-6)
    with pytest.raises(ValueError, match="does not exist"):
        tile_bounds(2, 4, 0)


def test_tiles_covering_a_box() -> None:
    x0, y0, x1, y1 = tile_bounds(8, 100, 50)
    # A box a little larger than one tile touches its 8 neighbours too.
    pad = (x1 - x0) * 0.1
    tiles = tiles_covering((x0 - pad, y0 - pad, x1 + pad, y1 + pad), 8)
    assert len(tiles) == 9 and (8, 100, 50) in tiles
    assert tiles_covering((x0 + 1, y0 + 1, x1 - 1, y1 - 1), 8) == [(8, 100, 50)]


def test_tile_sampling_in_web_mercator_is_nearest_cell() -> None:
    x0, y0, x1, y1 = tile_bounds(12, 3370, 1552)
    cell = (x1 - x0) / 16
    # A 16 x 8 raster over the northern half of the tile.
    grid = GridSpec(x0, y0 + (y1 - y0) / 2, cell, 16, 8)
    values = np.arange(128, dtype=float).reshape(8, 16)

    def identity(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return a, b

    sampled = sample_tile(values, grid, 12, 3370, 1552, identity, size=32)
    np.testing.assert_array_equal(sampled[:16], np.repeat(np.repeat(values, 2, 0), 2, 1))
    assert np.isnan(sampled[16:]).all()
    png = render_tile(values, grid, 12, 3370, 1552, identity, vmin=0, vmax=127, size=32)
    image = _decode_png(png)
    assert (image[:16, :, 3] > 0).all() and (image[16:, :, 3] == 0).all()


def test_tile_rendering_through_a_crs_transform() -> None:
    utm = pyproj.Transformer.from_crs(3857, 32650, always_xy=True)
    to_utm = pyproj.Transformer.from_crs(4326, 32650, always_xy=True)
    cx, cy = to_utm.transform(116.3912, 39.9067)
    grid = GridSpec.from_extent(cx - 5000, cy - 5000, cx + 5000, cy + 5000, 100)
    values = np.ones(grid.shape)
    tx, ty = lonlat_to_tile(116.3912, 39.9067, 13)
    sampled = sample_tile(values, grid, 13, int(tx), int(ty), utm.transform)
    # A z13 tile here is about 3.7 km wide: all of it lies on the 10 km raster.
    assert np.isfinite(sampled).all()
    far = sample_tile(values, grid, 13, int(tx) + 5, int(ty), utm.transform)
    assert np.isnan(far).all()


def _bump(grid: GridSpec, sigma: float) -> np.ndarray:
    cx, cy = np.meshgrid(grid.column_centres(), grid.row_centres())
    return np.exp(-(cx**2 + cy**2) / (2 * sigma**2))


def test_contour_bands_are_discs_and_rings_with_rfc7946_orientation() -> None:
    grid = GridSpec.from_extent(-1000, -1000, 1000, 1000, 10)
    sigma = 200.0
    bands = contour_bands(_bump(grid, sigma), grid, [0.2, 0.6])
    assert [f["properties"] for f in bands["features"]] == [
        {"lower": 0.2, "upper": 0.6},
        {"lower": 0.6, "upper": None},
    ]
    ring_band, core = (shapely.geometry.shape(f["geometry"]) for f in bands["features"])
    radius = {level: sigma * math.sqrt(-2 * math.log(level)) for level in (0.2, 0.6)}
    assert core.area == pytest.approx(math.pi * radius[0.6] ** 2, rel=0.01)
    assert ring_band.area == pytest.approx(
        math.pi * (radius[0.2] ** 2 - radius[0.6] ** 2), rel=0.01
    )
    polygon = ring_band.geoms[0]
    assert len(polygon.interiors) == 1
    assert polygon.exterior.is_ccw and not polygon.interiors[0].is_ccw
    lines = contour_lines(_bump(grid, sigma), grid, [0.6])
    line = shapely.geometry.shape(lines["features"][0]["geometry"])
    assert line.length == pytest.approx(2 * math.pi * radius[0.6], rel=0.01)


def test_contours_can_be_reprojected_and_refuse_bad_levels() -> None:
    grid = GridSpec.from_extent(-1000, -1000, 1000, 1000, 50)

    def shift(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x + 1e6, y

    moved = contour_bands(_bump(grid, 200), grid, [0.5], to_output_crs=shift)
    x, _ = shapely.geometry.shape(moved["features"][0]["geometry"]).centroid.coords[0]
    assert x == pytest.approx(1e6, abs=1.0)
    with pytest.raises(ValueError, match="increasing"):
        contour_bands(_bump(grid, 200), grid, [0.5, 0.2])


def test_geotiff_carries_its_georeferencing(tmp_path: Path) -> None:
    grid = GridSpec(446_000.0, 4_417_000.0, 100.0, 7, 5)
    values = np.arange(35, dtype=float).reshape(5, 7)
    values[0, 0] = np.nan
    path = tmp_path / "heat.tif"
    write_geotiff(path, values, grid, epsg=32650)
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 32650
        assert tuple(ds.transform)[:6] == (100.0, 0.0, 446_000.0, 0.0, -100.0, 4_417_500.0)
        assert math.isnan(ds.nodata)
        np.testing.assert_array_equal(ds.read(1), values.astype(np.float32))
    lonlat = GridSpec(116.0, 39.0, 0.01, 7, 5)
    (tmp_path / "ll.tif").write_bytes(geotiff_bytes(values, lonlat, epsg=4326, geographic=True))
    with rasterio.open(tmp_path / "ll.tif") as ds:
        assert ds.crs.to_epsg() == 4326
        assert ds.bounds.top == pytest.approx(39.05)
    with pytest.raises(ValueError, match="shape"):
        write_geotiff(path, values[:-1], grid, epsg=32650)
