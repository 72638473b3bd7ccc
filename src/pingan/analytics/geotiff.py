"""GeoTIFF export of a north-up raster (float32, deflate) with GeoKeys for its EPSG CRS."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
import tifffile

from pingan.analytics.binning import GridSpec

# TIFF tag numbers and types from the GeoTIFF 1.1 specification (OGC 19-008r4).
_MODEL_PIXEL_SCALE = 33550
_MODEL_TIEPOINT = 33922
_GEO_KEY_DIRECTORY = 34735
_GDAL_NODATA = 42113  # GDAL's private tag, read by QGIS and rasterio
_SHORT, _ASCII, _DOUBLE = 3, 2, 12
_GT_MODEL_TYPE, _GT_RASTER_TYPE = 1024, 1025
_GEOGRAPHIC_TYPE, _PROJECTED_CS_TYPE = 2048, 3072
_MODEL_PROJECTED, _MODEL_GEOGRAPHIC, _PIXEL_IS_AREA = 1, 2, 1


def geotiff_bytes(
    values: npt.ArrayLike,
    grid: GridSpec,
    *,
    epsg: int,
    geographic: bool = False,
    nodata: float = math.nan,
) -> bytes:
    """The raster as GeoTIFF bytes; ``epsg`` names the grid's CRS (projected by default)."""
    buffer = io.BytesIO()
    write_geotiff(buffer, values, grid, epsg=epsg, geographic=geographic, nodata=nodata)
    return buffer.getvalue()


def write_geotiff(
    target: str | Path | BinaryIO,
    values: npt.ArrayLike,
    grid: GridSpec,
    *,
    epsg: int,
    geographic: bool = False,
    nodata: float = math.nan,
) -> None:
    """Write the raster as a single-band float32 GeoTIFF to a path or binary file."""
    raster = np.asarray(values, dtype=np.float32)
    if raster.shape != grid.shape:
        raise ValueError(f"values shape {raster.shape} differs from grid {grid.shape}")
    if not 1024 <= int(epsg) <= 999_999:
        raise ValueError(f"not an EPSG code: {epsg!r}")
    if geographic:
        crs_keys = [_GT_MODEL_TYPE, 0, 1, _MODEL_GEOGRAPHIC, _GEOGRAPHIC_TYPE, 0, 1, int(epsg)]
    else:
        crs_keys = [_GT_MODEL_TYPE, 0, 1, _MODEL_PROJECTED, _PROJECTED_CS_TYPE, 0, 1, int(epsg)]
    keys = [*crs_keys, _GT_RASTER_TYPE, 0, 1, _PIXEL_IS_AREA]
    directory = [1, 1, 0, len(keys) // 4, *keys]
    nodata_text = "nan" if math.isnan(nodata) else repr(float(nodata))
    extratags = [
        (_MODEL_PIXEL_SCALE, _DOUBLE, 3, (grid.cell_size, grid.cell_size, 0.0), True),
        (_MODEL_TIEPOINT, _DOUBLE, 6, (0.0, 0.0, 0.0, grid.x_min, grid.y_max, 0.0), True),
        (_GEO_KEY_DIRECTORY, _SHORT, len(directory), tuple(directory), True),
        (_GDAL_NODATA, _ASCII, 0, nodata_text, True),
    ]
    tifffile.imwrite(
        target,
        raster,
        photometric="minisblack",
        compression="zlib",
        extratags=extratags,
        metadata=None,
    )
