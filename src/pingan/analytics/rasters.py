"""Colour ramps, legends and PNG encoding for raster layers (no imaging library needed)."""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from pingan.analytics._arrays import FloatArray, UInt8Array

RampScale = Literal["linear", "sqrt"]

# Anchor colours (position 0..1, RGB). "heat" runs pale yellow to dark red, the
# usual incident heat map; "viridis" and "blues" are for rates and populations.
RAMPS: dict[str, tuple[tuple[float, tuple[int, int, int]], ...]] = {
    "heat": (
        (0.0, (255, 255, 178)),
        (0.25, (254, 204, 92)),
        (0.5, (253, 141, 60)),
        (0.75, (240, 59, 32)),
        (1.0, (189, 0, 38)),
    ),
    "viridis": (
        (0.0, (68, 1, 84)),
        (0.25, (59, 82, 139)),
        (0.5, (33, 145, 140)),
        (0.75, (94, 201, 98)),
        (1.0, (253, 231, 37)),
    ),
    "blues": (
        (0.0, (239, 243, 255)),
        (0.5, (107, 174, 214)),
        (1.0, (8, 81, 156)),
    ),
}


@dataclass(frozen=True)
class LegendEntry:
    """A value on the ramp and its colour as ``#rrggbb``."""

    value: float
    colour: str


def _ramp_table(ramp: str) -> tuple[FloatArray, FloatArray]:
    if ramp not in RAMPS:
        raise ValueError(f"unknown colour ramp {ramp!r}; choose one of {sorted(RAMPS)}")
    anchors = RAMPS[ramp]
    positions = np.array([a[0] for a in anchors], dtype=np.float64)
    colours = np.array([a[1] for a in anchors], dtype=np.float64)
    return positions, colours


def _scaled(values: FloatArray, vmin: float, vmax: float, scale: RampScale) -> FloatArray:
    span = vmax - vmin
    t = (values - vmin) / span if span > 0 else np.zeros_like(values)
    t = np.clip(t, 0.0, 1.0)
    if scale == "sqrt":
        t = np.sqrt(t)
    elif scale != "linear":
        raise ValueError(f"scale must be 'linear' or 'sqrt', got {scale!r}")
    return t


def colourise(
    values: npt.ArrayLike,
    *,
    vmin: float,
    vmax: float,
    ramp: str = "heat",
    scale: RampScale = "linear",
    transparent_below: float | None = None,
    opacity: float = 1.0,
) -> UInt8Array:
    """Map a 2-D raster to RGBA ``(rows, cols, 4)`` uint8 on a colour ramp.

    NaN cells and cells below ``transparent_below`` are fully transparent, so a
    heat layer lets the base map show where there is nothing to see.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"values must be two-dimensional, got shape {arr.shape}")
    if not (math.isfinite(vmin) and math.isfinite(vmax)) or vmax < vmin:
        raise ValueError(f"need finite vmin <= vmax, got {vmin!r}, {vmax!r}")
    if not 0.0 <= opacity <= 1.0:
        raise ValueError("opacity must be within 0..1")
    positions, colours = _ramp_table(ramp)
    t = _scaled(np.nan_to_num(arr, nan=vmin), vmin, vmax, scale)
    rgba = np.empty((*arr.shape, 4), dtype=np.uint8)
    for channel in range(3):
        rgba[..., channel] = np.rint(np.interp(t, positions, colours[:, channel]))
    visible = np.isfinite(arr)
    if transparent_below is not None:
        visible &= arr >= transparent_below
    rgba[..., 3] = np.where(visible, round(255 * opacity), 0)
    return rgba


def legend(
    vmin: float,
    vmax: float,
    *,
    ramp: str = "heat",
    scale: RampScale = "linear",
    steps: int = 5,
) -> list[LegendEntry]:
    """``steps`` evenly spaced values from vmin to vmax with the colour each gets."""
    if steps < 2:
        raise ValueError("a legend needs at least two steps")
    values = np.linspace(vmin, vmax, steps)
    rgba = colourise(values[None, :], vmin=vmin, vmax=vmax, ramp=ramp, scale=scale)[0]
    return [
        LegendEntry(float(v), "#{:02x}{:02x}{:02x}".format(*(int(c) for c in px[:3])))
        for v, px in zip(values, rgba, strict=True)
    ]


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_png(rgba: npt.ArrayLike, *, compression: int = 6) -> bytes:
    """Encode an RGBA ``(rows, cols, 4)`` uint8 image as PNG bytes (8-bit, no interlace)."""
    img = np.asarray(rgba)
    if img.ndim != 3 or img.shape[2] != 4 or img.dtype != np.uint8:
        raise ValueError(f"need a (rows, cols, 4) uint8 array, got {img.shape} {img.dtype}")
    rows, cols = img.shape[:2]
    if rows == 0 or cols == 0:
        raise ValueError("cannot encode an empty image")
    # Filter type 0 (None) before every scanline: cheap, and zlib does the rest.
    raw = np.empty((rows, cols * 4 + 1), dtype=np.uint8)
    raw[:, 0] = 0
    raw[:, 1:] = img.reshape(rows, cols * 4)
    header = struct.pack(">IIBBBBB", cols, rows, 8, 6, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(raw.tobytes(), compression)),
            _chunk(b"IEND", b""),
        )
    )
