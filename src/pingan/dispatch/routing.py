"""Travel times on the road graph: scipy.sparse.csgraph for the search, cKDTree for snapping.

The graph is read from ``road_nodes``/``road_edges`` once per database and
road version and cached. Edge weight is travel time in seconds
(``length_m / speed``); two-way edges are added in both directions, one-way
edges only forward. Parallel edges keep the fastest.

Times *to* one target from many sources come from one Dijkstra on the
reversed graph started at the target; its predecessor array then points each
node one step closer to the target, which gives every source's route.

Points are snapped to their nearest node (straight line, projected metres);
the leg between point and node is timed at ``OFFROAD_SPEED_MS``: walking
pace, because a responder off the mapped roads is usually on foot (a car
park, a courtyard, a building).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree
from shapely import LineString
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pingan.dispatch.models import DEFAULT_SPEED_KMH, RoadEdge, RoadNode
from pingan.kit import meta
from pingan.kit.errors import NotFound

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
# Predecessor pointers as csgraph returns them (int32): converting 500,000 of them per
# search costs more than the bounded search itself.
HopArray = NDArray[np.int32]

ROADS_VERSION_KEY = "roads.version"
# Walking pace (5 km/h) for the leg between a point and its nearest road node.
OFFROAD_SPEED_MS = 5.0 / 3.6
# Responders on foot (volunteers) walk the roads at the same pace, both ways.
WALK_SPEED_MS = 5.0 / 3.6
# Keeps csgraph from reading a zero-length edge as "no edge".
MIN_EDGE_S = 1e-3


class TravelMode:
    DRIVE = "drive"
    WALK = "walk"


def build_matrix(
    n: int, frm: IntArray, to: IntArray, seconds: FloatArray, oneway: NDArray[np.bool_]
) -> csr_matrix:
    """A directed CSR matrix of travel seconds; the fastest of parallel edges wins."""
    back = ~oneway
    rows = np.concatenate([frm, to[back]])
    cols = np.concatenate([to, frm[back]])
    weight = np.maximum(np.concatenate([seconds, seconds[back]]), MIN_EDGE_S)
    keep = rows != cols
    rows, cols, weight = rows[keep], cols[keep], weight[keep]
    # csr_matrix would *sum* duplicates: sort by time and keep the first of each pair.
    order = np.lexsort((weight, rows * n + cols))
    rows, cols, weight = rows[order], cols[order], weight[order]
    _, first = np.unique(rows * n + cols, return_index=True)
    return csr_matrix((weight[first], (rows[first], cols[first])), shape=(n, n))


@dataclass
class RoadGraph:
    """The routing graph of one road version; node positions are array indices."""

    version: tuple[int, int]
    node_ids: IntArray
    x: FloatArray
    y: FloatArray
    lon: FloatArray
    lat: FloatArray
    drive: csr_matrix
    walk: csr_matrix
    tree: cKDTree = field(init=False)
    _reversed: dict[str, csr_matrix] = field(init=False, default_factory=dict)
    _top_speed: float = field(init=False, default=0.0)
    _bounds: tuple[float, float, float, float] = field(init=False, default=(0.0, 0.0, 0.0, 0.0))

    def __post_init__(self) -> None:
        self.tree = cKDTree(np.column_stack([self.x, self.y]))
        if len(self.x):
            self._bounds = (
                float(self.x.min()),
                float(self.x.max()),
                float(self.y.min()),
                float(self.y.max()),
            )
        # Euclidean speed bound: no edge is traversed faster than its chord over its time.
        coo = self.drive.tocoo()
        chord = np.hypot(self.x[coo.row] - self.x[coo.col], self.y[coo.row] - self.y[coo.col])
        self._top_speed = float((chord / coo.data).max()) if coo.nnz else 0.0
        self._reversed = {
            TravelMode.DRIVE: self.drive.transpose().tocsr(),
            TravelMode.WALK: self.walk.transpose().tocsr(),
        }

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def top_speed_ms(self) -> float:
        """The fastest any edge is driven (m/s): a lower bound on time per straight metre."""
        return self._top_speed

    def reach_m(self, point: tuple[float, float]) -> float:
        """Distance from ``point`` to the farthest corner of the graph's bounding box."""
        x0, x1, y0, y1 = self._bounds
        dx = max(abs(x0 - point[0]), abs(x1 - point[0]))
        dy = max(abs(y0 - point[1]), abs(y1 - point[1]))
        return float(np.hypot(dx, dy))

    def snap(self, x: FloatArray, y: FloatArray) -> tuple[IntArray, FloatArray]:
        """Nearest node index and straight-line distance (m) for each point."""
        dist, idx = self.tree.query(np.column_stack([np.asarray(x), np.asarray(y)]))
        return np.asarray(idx, dtype=np.int64), np.asarray(dist, dtype=np.float64)

    def times_to(
        self, target: int, *, mode: str = TravelMode.DRIVE, limit: float = np.inf
    ) -> tuple[FloatArray, HopArray]:
        """Seconds from every node to ``target`` (inf beyond ``limit``), and next-hop pointers."""
        dist, pred = dijkstra(
            self._reversed[mode], directed=True, indices=target,
            return_predecessors=True, limit=limit,
        )  # fmt: skip
        return np.asarray(dist, dtype=np.float64), np.asarray(pred, dtype=np.int32)

    def path_to_target(self, source: int, next_hop: HopArray) -> list[int]:
        """Node indices from ``source`` to the target of the search that made ``next_hop``."""
        path = [source]
        node = source
        while next_hop[node] >= 0:
            node = int(next_hop[node])
            path.append(node)
            if len(path) > self.n_nodes:  # a cycle would be a bug in the pointers
                raise RuntimeError("predecessor chain does not end")
        return path

    def line(
        self, path: list[int], start: tuple[float, float], end: tuple[float, float]
    ) -> LineString:
        """lon/lat route: the start point, the node chain, the end point."""
        coords = [start, *zip(self.lon[path].tolist(), self.lat[path].tolist(), strict=True), end]
        return LineString(coords)


def point_times_to(
    graph: RoadGraph,
    *,
    target_xy: tuple[float, float],
    source_x: FloatArray,
    source_y: FloatArray,
    mode: str = TravelMode.DRIVE,
    limit: float = np.inf,
) -> tuple[FloatArray, IntArray, HopArray, int]:
    """Seconds from each source point to the target point, with the off-road legs.

    Returns (seconds, source node indices, next-hop pointers, target node index).
    """
    (t_node,), (t_off,) = graph.snap(np.array([target_xy[0]]), np.array([target_xy[1]]))
    nodes, off = graph.snap(source_x, source_y)
    dist, next_hop = graph.times_to(int(t_node), mode=mode, limit=limit)
    seconds = dist[nodes] + (off + t_off) / OFFROAD_SPEED_MS
    return seconds, nodes, next_hop, int(t_node)


_cache_lock = threading.Lock()
_cache: dict[str, RoadGraph] = {}


def _version(session: Session) -> tuple[int, int]:
    # The meta counter (bumped by imports and replacements), plus the highest edge id so
    # roads added without a bump (the synthetic city) still show; both are index lookups.
    max_id = session.scalar(select(func.max(RoadEdge.id)))
    return meta.get_version(session, ROADS_VERSION_KEY), int(max_id or 0)


def road_graph(session: Session) -> RoadGraph:
    """The routing graph for this database, rebuilt only when the roads changed."""
    key = str(session.get_bind().engine.url)
    version = _version(session)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached.version == version:
            return cached
    graph = load_graph(session, version)
    with _cache_lock:
        _cache[key] = graph
    return graph


def load_graph(session: Session, version: tuple[int, int]) -> RoadGraph:
    nodes = session.execute(
        select(RoadNode.id, RoadNode.x, RoadNode.y, RoadNode.lon, RoadNode.lat).order_by(
            RoadNode.id
        )
    ).all()
    if not nodes:
        raise NotFound("no road network: run `pingan sim city` or `pingan import roads`")
    ids = np.array([r[0] for r in nodes], dtype=np.int64)
    cols = np.array([r[1:] for r in nodes], dtype=np.float64)
    edges = session.execute(
        select(
            RoadEdge.from_node_id, RoadEdge.to_node_id, RoadEdge.length_m,
            RoadEdge.speed_kmh, RoadEdge.road_class, RoadEdge.oneway,
        )
    ).all()  # fmt: skip
    frm = np.searchsorted(ids, np.array([e[0] for e in edges], dtype=np.int64))
    to = np.searchsorted(ids, np.array([e[1] for e in edges], dtype=np.int64))
    length = np.array([e[2] for e in edges], dtype=np.float64)
    speed = np.array(
        [e[3] if e[3] and e[3] > 0 else DEFAULT_SPEED_KMH.get(e[4], 30.0) for e in edges],
        dtype=np.float64,
    )
    oneway = np.array([bool(e[5]) for e in edges], dtype=bool)
    n = len(ids)
    drive = build_matrix(n, frm, to, length / (speed / 3.6), oneway)
    walk = build_matrix(n, frm, to, length / WALK_SPEED_MS, np.zeros(len(edges), dtype=bool))
    return RoadGraph(
        version=version, node_ids=ids, x=cols[:, 0], y=cols[:, 1], lon=cols[:, 2],
        lat=cols[:, 3], drive=drive, walk=walk,
    )  # fmt: skip
