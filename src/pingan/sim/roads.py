"""A ring-and-radial road network over a local street lattice, as a graph.

Ring roads (trunk inside, motorway outside), radial avenues (primary) and a
slightly rotated street lattice (secondary / tertiary / residential), dense
in the core and half as dense outside it. All lines are clipped to the city
and noded together, so every crossing is a graph node; pieces cut off from
the main network by the outline are dropped, leaving one connected graph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely import LineString, Polygon

from pingan.dispatch.models import DEFAULT_SPEED_KMH, RoadClass
from pingan.sim.names import NamePool
from pingan.sim.population import FloatArray, IntArray
from pingan.sim.scales import Scale

ObjArray = NDArray[np.object_]
# Preference when two source lines share a segment: the bigger road wins.
CLASS_RANK = {
    RoadClass.MOTORWAY: 0,
    RoadClass.TRUNK: 1,
    RoadClass.PRIMARY: 2,
    RoadClass.SECONDARY: 3,
    RoadClass.TERTIARY: 4,
    RoadClass.RESIDENTIAL: 5,
}
_ZH_NUMERALS = "一二三四五六七八九十"
# The core of the lattice (full density) as a share of the city radius.
_CORE_SHARE = 0.4


@dataclass(frozen=True)
class RoadLine:
    geom: LineString
    road_class: RoadClass
    name: str


@dataclass(frozen=True)
class RoadNetwork:
    """Nodes and undirected edges in the metric CRS; edges index into the node arrays."""

    node_x: FloatArray
    node_y: FloatArray
    edge_from: IntArray
    edge_to: IntArray
    edge_class: list[RoadClass]
    edge_name: list[str]
    edge_geom: ObjArray
    rings: list[LineString]
    radials: list[LineString]
    lattice_angle: float

    @property
    def edge_length(self) -> FloatArray:
        return np.asarray(shapely.length(self.edge_geom), dtype=np.float64)

    @property
    def edge_speed_kmh(self) -> FloatArray:
        return np.array([DEFAULT_SPEED_KMH[c] for c in self.edge_class], dtype=np.float64)


def build_roads(
    rng: np.random.Generator,
    scale: Scale,
    outline: Polygon,
    centre: tuple[float, float],
    names: NamePool,
) -> RoadNetwork:
    rings = _rings(rng, scale, centre)
    radials = _radials(rng, scale, centre, names)
    angle = float(rng.uniform(-0.25, 0.25))
    lattice = _lattice(scale, centre, angle)
    lines = _clip([*rings, *radials, *lattice], outline)
    return _node(
        lines,
        rings=[r.geom for r in rings],
        radials=[_clip_one(r.geom, outline) for r in radials],
        lattice_angle=angle,
    )


def _rings(rng: np.random.Generator, scale: Scale, centre: tuple[float, float]) -> list[RoadLine]:
    theta = np.linspace(0.0, 2 * np.pi, 241)
    theta[-1] = 0.0  # close the ring on exactly the first vertex
    lines = []
    for i, share in enumerate(scale.ring_radii):
        wobble = 1 + 0.03 * np.cos(2 * theta + rng.uniform(0, 2 * np.pi))
        wobble += 0.02 * np.cos(3 * theta + rng.uniform(0, 2 * np.pi))
        r = share * scale.radius_m * wobble
        coords = np.column_stack([centre[0] + r * np.cos(theta), centre[1] + r * np.sin(theta)])
        road_class = RoadClass.MOTORWAY if share >= 0.5 else RoadClass.TRUNK
        lines.append(RoadLine(LineString(coords), road_class, f"{_ZH_NUMERALS[i]}环路"))
    return lines


def _radials(
    rng: np.random.Generator, scale: Scale, centre: tuple[float, float], names: NamePool
) -> list[RoadLine]:
    n = scale.radials
    step = 2 * np.pi / n
    start = 0.85 * scale.ring_radii[0] * scale.radius_m if len(scale.ring_radii) > 1 else 0.0
    t = np.linspace(0.0, 1.0, 41)
    lines = []
    for k in range(n):
        heading = k * step + rng.uniform(-0.2, 0.2) * step
        bend = rng.uniform(-0.08, 0.08)
        r = start + t * (1.15 * scale.radius_m - start)
        a = heading + bend * np.sin(np.pi * t)
        coords = np.column_stack([centre[0] + r * np.cos(a), centre[1] + r * np.sin(a)])
        zh, _ = names.draw()
        lines.append(RoadLine(LineString(coords), RoadClass.PRIMARY, f"{zh}大道"))
    return lines


def _lattice(scale: Scale, centre: tuple[float, float], angle: float) -> list[RoadLine]:
    spacing = scale.street_spacing_m
    extent = 1.15 * scale.radius_m
    core = _CORE_SHARE * scale.radius_m
    n = math.ceil(extent / spacing)
    cos, sin = math.cos(angle), math.sin(angle)
    lines = []
    for i in range(-n, n + 1):
        offset = i * spacing
        if i % 2:
            if abs(offset) >= core:
                continue  # outside the core only every other street
            half = math.sqrt(core * core - offset * offset)
        else:
            half = extent
        if i % 8 == 0:
            road_class = RoadClass.SECONDARY
        elif i % 4 == 0:
            road_class = RoadClass.TERTIARY
        else:
            road_class = RoadClass.RESIDENTIAL
        number = i + n + 1
        for axis, label in ((0, "纬"), (1, "经")):
            # In the lattice's own frame: axis 0 runs east-west, axis 1 north-south.
            u = np.array([-half, half])
            v = np.array([offset, offset])
            lx, ly = (u, v) if axis == 0 else (v, u)
            x = centre[0] + lx * cos - ly * sin
            y = centre[1] + lx * sin + ly * cos
            lines.append(
                RoadLine(LineString(np.column_stack([x, y])), road_class, f"{label}{number}路")
            )
    return lines


def _clip_one(line: LineString, outline: Polygon) -> LineString:
    parts = [p for p in shapely.get_parts(shapely.intersection(line, outline)) if p.length > 0]
    return max(parts, key=lambda p: p.length) if parts else line


def _clip(lines: list[RoadLine], outline: Polygon) -> list[RoadLine]:
    clipped = shapely.intersection(np.asarray([r.geom for r in lines], dtype=object), outline)
    out = []
    for source, geom in zip(lines, clipped, strict=True):
        for part in shapely.get_parts(shapely.line_merge(geom)):
            if isinstance(part, LineString) and part.length > 1.0:
                out.append(RoadLine(part, source.road_class, source.name))
    return out


def _node(
    lines: list[RoadLine],
    *,
    rings: list[LineString],
    radials: list[LineString],
    lattice_angle: float,
) -> RoadNetwork:
    """Split lines at every crossing, give each piece its source's class, keep the main part."""
    sources = np.asarray([r.geom for r in lines], dtype=object)
    pieces = np.asarray(
        shapely.get_parts(shapely.unary_union(shapely.multilinestrings(sources))), dtype=object
    )
    pieces = pieces[shapely.length(pieces) > 0.01]
    middle = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    piece_i, source_i = shapely.STRtree(sources).query(middle, predicate="dwithin", distance=0.05)
    rank = np.array([CLASS_RANK[r.road_class] for r in lines])[source_i]
    order = np.lexsort((source_i, rank, piece_i))
    piece_i, source_i = piece_i[order], source_i[order]
    first = np.ones(len(piece_i), dtype=bool)
    first[1:] = piece_i[1:] != piece_i[:-1]
    owner = np.full(len(pieces), -1, dtype=np.int64)
    owner[piece_i[first]] = source_i[first]
    pieces, owner = pieces[owner >= 0], owner[owner >= 0]

    ends = np.concatenate([shapely.get_coordinates(shapely.get_point(pieces, i)) for i in (0, -1)])
    keys = np.round(ends, 2)
    nodes, node_of = np.unique(keys, axis=0, return_inverse=True)
    node_of = node_of.ravel()
    src, dst = node_of[: len(pieces)], node_of[len(pieces) :]
    keep = src != dst
    pieces, owner, src, dst = pieces[keep], owner[keep], src[keep], dst[keep]

    n = len(nodes)
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    main = int(np.argmax(np.bincount(label[src], minlength=int(label.max()) + 1)))
    node_keep = label == main
    new_id = np.cumsum(node_keep) - 1
    edge_keep = node_keep[src]
    return RoadNetwork(
        node_x=nodes[node_keep, 0].astype(np.float64),
        node_y=nodes[node_keep, 1].astype(np.float64),
        edge_from=new_id[src[edge_keep]].astype(np.int64),
        edge_to=new_id[dst[edge_keep]].astype(np.int64),
        edge_class=[lines[o].road_class for o in owner[edge_keep]],
        edge_name=[lines[o].name for o in owner[edge_keep]],
        edge_geom=pieces[edge_keep],
        rings=rings,
        radials=radials,
        lattice_angle=lattice_angle,
    )
