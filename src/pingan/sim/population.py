"""The city's outline and its population density raster.

Density is a dense core decaying outward, a few sub-centres, a thin rural
floor, and smooth log-normal noise at two lengths (neighbourhoods and
blocks), set to zero outside the outline and scaled to the target
population. Everything is in the city's metric CRS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter
from shapely import Polygon
from shapely.geometry.base import BaseGeometry

from pingan.sim.scales import Scale

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Raster:
    """Square cells over the city's bounding box; values are people per cell (row-major)."""

    x0: float
    y0: float
    cell: float
    nx: int
    ny: int
    people: FloatArray

    def centres(self, index: IntArray | None = None) -> tuple[FloatArray, FloatArray]:
        flat = np.arange(self.nx * self.ny) if index is None else index
        iy, ix = np.divmod(flat, self.nx)
        return self.x0 + (ix + 0.5) * self.cell, self.y0 + (iy + 0.5) * self.cell

    def boxes(self, index: IntArray) -> NDArray[np.object_]:
        x, y = self.centres(index)
        h = self.cell / 2
        return np.asarray(shapely.box(x - h, y - h, x + h, y + h), dtype=object)

    def index_in_bounds(self, bounds: tuple[float, float, float, float]) -> IntArray:
        """Flat indices of the cells that overlap a bounding box."""
        minx, miny, maxx, maxy = bounds
        ix0 = max(math.floor((minx - self.x0) / self.cell), 0)
        iy0 = max(math.floor((miny - self.y0) / self.cell), 0)
        ix1 = min(math.ceil((maxx - self.x0) / self.cell), self.nx)
        iy1 = min(math.ceil((maxy - self.y0) / self.cell), self.ny)
        iy, ix = np.meshgrid(np.arange(iy0, iy1), np.arange(ix0, ix1), indexing="ij")
        return (iy * self.nx + ix).ravel().astype(np.int64)

    def sample(
        self, rng: np.random.Generator, cdf: FloatArray, index: IntArray, n: int
    ) -> tuple[FloatArray, FloatArray]:
        """``n`` points: a cell by ``cdf`` (over ``index``), then uniform within it."""
        pick = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
        pick = np.minimum(pick, len(index) - 1)
        x, y = self.centres(index[pick])
        jitter = (rng.random((2, n)) - 0.5) * self.cell
        return x + jitter[0], y + jitter[1]

    def smooth(self, values: FloatArray, sigma_m: float) -> FloatArray:
        grid = gaussian_filter(values.reshape(self.ny, self.nx), sigma=sigma_m / self.cell)
        return np.asarray(grid, dtype=np.float64).ravel()


@dataclass(frozen=True)
class PopulationModel:
    outline: Polygon
    centre: tuple[float, float]
    sub_centres: list[tuple[float, float]]
    raster: Raster

    @property
    def total(self) -> float:
        return float(self.raster.people.sum())


def city_outline(rng: np.random.Generator, centre: tuple[float, float], scale: Scale) -> Polygon:
    """A circle perturbed by a few low harmonics, scaled to the target area exactly."""
    theta = np.linspace(0.0, 2 * np.pi, 360, endpoint=False)
    r = np.ones_like(theta)
    for k in range(2, 8):
        # Amplitudes sum below 0.4, so the outline stays star-shaped and simple.
        amp = rng.uniform(0.0, 0.1) / math.sqrt(k - 1)
        r += amp * np.cos(k * theta + rng.uniform(0.0, 2 * np.pi))
    ring = np.column_stack([np.cos(theta) * r, np.sin(theta) * r])
    unit_area = Polygon(ring).area
    radius = math.sqrt(scale.area_km2 * 1e6 / unit_area)
    return Polygon(ring * radius + np.asarray(centre))


def build_population(
    rng: np.random.Generator, scale: Scale, outline: Polygon, centre: tuple[float, float]
) -> PopulationModel:
    cell = scale.cell_m
    minx, miny, maxx, maxy = outline.bounds
    x0, y0 = math.floor(minx / cell) * cell, math.floor(miny / cell) * cell
    nx = math.ceil((maxx - x0) / cell)
    ny = math.ceil((maxy - y0) / cell)
    empty = Raster(x0, y0, cell, nx, ny, np.zeros(nx * ny))
    x, y = empty.centres()
    radius = scale.radius_m
    cx, cy = centre

    density = np.exp(-np.hypot(x - cx, y - cy) / (0.12 * radius))
    sub_centres: list[tuple[float, float]] = []
    for _ in range(scale.sub_centres):
        angle = rng.uniform(0.0, 2 * np.pi)
        dist = rng.uniform(0.3, 0.65) * radius
        sx, sy = cx + dist * math.cos(angle), cy + dist * math.sin(angle)
        sub_centres.append((sx, sy))
        spread = rng.uniform(0.04, 0.08) * radius
        density += rng.uniform(0.25, 0.55) * np.exp(-np.hypot(x - sx, y - sy) / spread)
    density += 0.012  # villages and towns between the centres

    for sigma_m, strength in ((0.08 * radius, 0.5), (350.0, 0.25)):
        noise = empty.smooth(rng.standard_normal(nx * ny), sigma_m)
        noise = (noise - noise.mean()) / max(float(noise.std()), 1e-12)
        density *= np.exp(strength * noise)

    inside = shapely.contains_xy(outline, x, y)
    density[~inside] = 0.0
    people = density * (scale.population / density.sum())
    raster = Raster(x0, y0, cell, nx, ny, people)
    return PopulationModel(outline, centre, sub_centres, raster)


def polygon_population(raster: Raster, polygons: list[BaseGeometry]) -> FloatArray:
    """People in each polygon, splitting each cell by the share of its area inside."""
    occupied = np.flatnonzero(raster.people > 0)
    boxes = raster.boxes(occupied)
    tree = shapely.STRtree(boxes)
    poly_i, box_i = tree.query(polygons, predicate="intersects")
    # Cells wholly inside count in full; only the edge cells need an intersection.
    inner_poly, inner_box = tree.query(polygons, predicate="contains_properly")
    edge = ~np.isin(poly_i * len(boxes) + box_i, inner_poly * len(boxes) + inner_box)
    share = np.ones(len(box_i))
    cut = shapely.intersection(boxes[box_i[edge]], np.asarray(polygons, dtype=object)[poly_i[edge]])
    share[edge] = shapely.area(cut) / (raster.cell * raster.cell)
    weights = raster.people[occupied[box_i]] * share
    return np.bincount(poly_i, weights=weights, minlength=len(polygons)).astype(np.float64)
