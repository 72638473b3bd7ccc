"""The administrative tree: city > district > subdistrict > community > grid.

Each level splits every parent into a Voronoi partition clipped to the
parent, so children tile their parent exactly. The Voronoi seeds are
k-means centres of points drawn with weight density squared: k-means puts
centres at a density proportional to the square root of the weight, so the
centres end up proportional to population and children hold similar numbers
of people (the core gets small units, the countryside large ones).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from shapely import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from pingan.org.levels import Level
from pingan.sim.names import NamePool
from pingan.sim.population import FloatArray, IntArray, PopulationModel, polygon_population
from pingan.sim.scales import Scale

CITY_CODE = "CITY"
CITY_NAME = ("安澜市", "Anlan City")
# Detached bits of a clipped Voronoi cell smaller than this share of the cell
# are handed to the neighbour they touch most, so units are not scattered.
_SLIVER_SHARE = 0.1
# Vertices this close (metres) are one vertex when grids are stitched together.
_SNAP_M = 1e-3
_PREFIX = {Level.DISTRICT: "D", Level.SUBDISTRICT: "S", Level.COMMUNITY: "C", Level.GRID: "G"}


@dataclass
class UnitDraft:
    level: Level
    code: str
    name_zh: str
    name_en: str
    geom: BaseGeometry  # metric, polygonal
    parent: int  # index into the draft list; -1 for the city
    population: int = 0
    households: int = 0
    children: list[int] = field(default_factory=list)


def build_org_tree(
    rng: np.random.Generator, scale: Scale, model: PopulationModel, names: NamePool
) -> list[UnitDraft]:
    """Drafts in breadth-first order (parents before children)."""
    units = [UnitDraft(Level.CITY, CITY_CODE, *CITY_NAME, geom=model.outline, parent=-1)]
    targets = [
        (Level.DISTRICT, scale.districts),
        (Level.SUBDISTRICT, scale.subdistricts),
        (Level.COMMUNITY, scale.communities),
        (Level.GRID, scale.grids),
    ]
    parents = [0]
    for level, total in targets:
        people = polygon_population(model.raster, [units[p].geom for p in parents])
        counts = allocate(total, people, minimum=2)
        next_parents: list[int] = []
        for p, k in zip(parents, counts, strict=True):
            parent = units[p]
            pieces = partition(rng, parent.geom, int(k), model)
            parent_name = parent.name_zh, parent.name_en
            for j, piece in enumerate(pieces, start=1):
                code = f"{_PREFIX[level]}{j:02d}"
                if parent.level != Level.CITY:
                    code = f"{parent.code}-{code}"
                zh, en = _unit_name(level, names, parent_name, j)
                units.append(UnitDraft(level, code, zh, en, geom=piece, parent=p))
                parent.children.append(len(units) - 1)
                next_parents.append(len(units) - 1)
        parents = next_parents
    _fill_people(rng, units, model, grids=parents)
    _stitch(units, grids=parents)
    return units


def _unit_name(
    level: Level, names: NamePool, parent_name: tuple[str, str], number: int
) -> tuple[str, str]:
    if level == Level.GRID:
        zh, en = parent_name
        return f"{zh}第{number}网格", f"{en} Grid {number}"
    zh, en = names.draw()
    suffix = {
        Level.DISTRICT: ("区", "District"),
        Level.SUBDISTRICT: ("街道", "Subdistrict"),
        Level.COMMUNITY: ("社区", "Community"),
    }[level]
    return f"{zh}{suffix[0]}", f"{en} {suffix[1]}"


def _fill_people(
    rng: np.random.Generator, units: list[UnitDraft], model: PopulationModel, grids: list[int]
) -> None:
    """Grid population from the raster; households at 2.4-3.2 people each; sums upward."""
    people = polygon_population(model.raster, [units[g].geom for g in grids])
    per_household = np.clip(rng.normal(2.8, 0.12, len(grids)), 2.4, 3.2)
    for g, n, size in zip(grids, people, per_household, strict=True):
        units[g].population = round(float(n))
        units[g].households = round(float(n) / float(size))
    for unit in reversed(units):
        if unit.children:
            unit.population = sum(units[c].population for c in unit.children)
            unit.households = sum(units[c].households for c in unit.children)


def _stitch(units: list[UnitDraft], grids: list[int]) -> None:
    """Make neighbouring grids share identical vertices along their common edges.

    Two grids in different communities meet along the community boundary, but
    each has only its own community's T-junctions on it. Straight in metres,
    such an edge bends differently in lon/lat with and without the extra
    vertex, leaving millimetre slivers between grids once stored. Snapping
    each grid to its neighbours' vertices inserts the missing ones; parents
    are then rebuilt as the union of their children so they nest exactly.
    """
    shapes = [units[g].geom for g in grids]
    coords = [shapely.get_coordinates(s) for s in shapes]
    tree = shapely.STRtree(shapes)
    mine, theirs = tree.query(shapes, predicate="dwithin", distance=10 * _SNAP_M)
    for i, g in enumerate(grids):
        around = [coords[j] for j in theirs[mine == i] if j != i]
        if not around:
            continue
        snapped = shapely.snap(shapes[i], shapely.multipoints(np.concatenate(around)), _SNAP_M)
        assert isinstance(snapped, BaseGeometry)
        units[g].geom = polygonal(shapely.make_valid(snapped)) or shapes[i]
    for unit in reversed(units):
        if unit.children:
            merged = shapely.union_all([units[c].geom for c in unit.children])
            unit.geom = polygonal(merged) or unit.geom


def allocate(total: int, weights: FloatArray, *, minimum: int) -> IntArray:
    """Share ``total`` children among parents by weight (largest remainder), each >= minimum."""
    if weights.sum() <= 0:
        weights = np.ones_like(weights)
    quota = total * weights / weights.sum()
    counts = np.maximum(np.floor(quota).astype(np.int64), minimum)
    spare = total - int(counts.sum())
    if spare > 0:
        # Stable sort: ties go to the earlier parent, so the result is deterministic.
        order = np.argsort(-(quota - np.floor(quota)), kind="stable")
        counts[order[:spare]] += 1
    return np.asarray(counts, dtype=np.int64)


def partition(
    rng: np.random.Generator, geom: BaseGeometry, k: int, model: PopulationModel
) -> list[BaseGeometry]:
    """Split ``geom`` into about ``k`` polygonal pieces that tile it exactly."""
    if k <= 1:
        return [geom]
    points = _weighted_points(rng, geom, max(400, min(40 * k, 20_000)), model)
    centres = kmeans(rng, points, k)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(centres), extend_to=geom, ordered=True)
    )
    clipped = shapely.intersection(cells, geom)
    pieces: list[BaseGeometry] = [p for p in (polygonal(c) for c in clipped) if p is not None]
    return _reading_order(_absorb_slivers(pieces), geom, k)


def _weighted_points(
    rng: np.random.Generator, geom: BaseGeometry, n: int, model: PopulationModel
) -> NDArray[np.float64]:
    raster = model.raster
    index = raster.index_in_bounds(geom.bounds)
    weight = raster.people[index] ** 2
    if weight.sum() <= 0:
        weight = np.ones(len(index))
    cdf = np.cumsum(weight)
    shapely.prepare(geom)
    xs: list[FloatArray] = []
    ys: list[FloatArray] = []
    found = 0
    for _ in range(20):
        x, y = raster.sample(rng, cdf, index, n)
        keep = shapely.contains_xy(geom, x, y)
        xs.append(x[keep])
        ys.append(y[keep])
        found += int(keep.sum())
        if found >= n:
            break
        # Little weight inside a thin or empty parent: fall back to plain area.
        cdf = np.cumsum(np.ones(len(index)))
    return np.column_stack([np.concatenate(xs), np.concatenate(ys)])[:n]


def kmeans(
    rng: np.random.Generator, points: NDArray[np.float64], k: int, iterations: int = 30
) -> NDArray[np.float64]:
    """Lloyd's algorithm from ``k`` distinct random points; empty clusters are re-seeded."""
    k = min(k, len(points))
    centres = points[rng.choice(len(points), size=k, replace=False)].copy()
    for _ in range(iterations):
        _, label = cKDTree(centres).query(points)
        counts = np.bincount(label, minlength=k)
        sums = np.column_stack(
            [np.bincount(label, weights=points[:, d], minlength=k) for d in (0, 1)]
        )
        moved = centres.copy()
        filled = counts > 0
        moved[filled] = sums[filled] / counts[filled, None]
        if (~filled).any():
            moved[~filled] = points[rng.choice(len(points), size=int((~filled).sum()))]
        shift = float(np.abs(moved - centres).max())
        centres = moved
        if shift < 1.0:
            break
    # Voronoi needs distinct sites.
    _, first = np.unique(np.round(centres, 3), axis=0, return_index=True)
    return np.asarray(centres[np.sort(first)], dtype=np.float64)


def polygonal(geom: BaseGeometry) -> Polygon | MultiPolygon | None:
    """The polygonal part of a geometry (dropping points and lines), or None."""
    parts: list[Polygon] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, Polygon):
            parts.append(part)
        elif isinstance(part, MultiPolygon):
            parts.extend(part.geoms)
    parts = [p for p in parts if p.area > 0]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def _absorb_slivers(pieces: list[BaseGeometry]) -> list[BaseGeometry]:
    """Give small detached parts to the neighbour sharing the longest edge with them."""
    kept: list[BaseGeometry] = []
    loose: list[Polygon] = []
    for piece in pieces:
        if not isinstance(piece, MultiPolygon):
            kept.append(piece)
            continue
        parts = sorted(piece.geoms, key=lambda p: -p.area)
        main = [p for p in parts if p.area >= _SLIVER_SHARE * piece.area] or parts[:1]
        loose.extend(p for p in parts if not any(p is m for m in main))
        kept.append(main[0] if len(main) == 1 else MultiPolygon(main))
    for part in loose:
        shared = [float(shapely.length(shapely.intersection(part.boundary, k))) for k in kept]
        best = int(np.argmax(shared))
        merged = polygonal(shapely.union(kept[best], part))
        if merged is not None:
            kept[best] = merged
    return kept


def _reading_order(pieces: list[BaseGeometry], parent: BaseGeometry, k: int) -> list[BaseGeometry]:
    """North to south in bands, west to east within a band: stable, readable numbering."""
    band = max(float(np.sqrt(parent.area / max(k, 1))), 1.0)
    points = [p.representative_point() for p in pieces]
    keys = [(-int(pt.y // band), pt.x) for pt in points]
    order = sorted(range(len(pieces)), key=lambda i: keys[i])
    return [pieces[i] for i in order]
