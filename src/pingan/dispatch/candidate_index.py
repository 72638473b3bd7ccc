"""Available responders held in memory, so a recommendation reads no table to find them.

At city scale (200,000 responders, tens of thousands available) reading the
candidates from the database costs more than the whole road search. The
index is a snapshot of every available responder with a position: parallel
numpy arrays, plus each responder's ancestor unit ids so an org scope is a
few integer comparisons. A background thread reloads it every
``PINGAN_DISPATCH_INDEX_REFRESH_S`` seconds (positions arrive every 30 s or
so anyway); the chosen few are then checked against the database by primary
key (still available, position still fresh), so a responder taken a moment
ago is never offered.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session

from pingan.dispatch.responder_models import Availability, Responder, ResponderPosition
from pingan.dispatch.routing import RoadGraph, road_graph
from pingan.kit.db import session_scope, utcnow
from pingan.kit.geo import Projector
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal
from pingan.org.service import require_projector

log = logging.getLogger(__name__)
# Depth of the org tree: city, district, subdistrict, community, grid.
DEPTH = 5


@dataclass(frozen=True)
class Snapshot:
    loaded_at: dt.datetime
    # The projection and road graph in force when loaded: no per-request look-ups.
    projector: Projector
    graph: RoadGraph
    ids: NDArray[np.int64]
    names: list[str]
    tiers: NDArray[np.int64]
    kinds: NDArray[np.str_]
    modes: NDArray[np.str_]
    skills: list[frozenset[str]]
    # ancestors[i, d]: id of responder i's org unit ancestor at depth d (-1 if none).
    ancestors: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    at: NDArray[np.float64]  # position time, epoch seconds

    def __len__(self) -> int:
        return len(self.ids)

    def x_range(self, x0: float, x1: float) -> slice:
        """The rows with x0 <= x <= x1 (rows are sorted by x)."""
        start = int(np.searchsorted(self.x, x0, side="left"))
        stop = int(np.searchsorted(self.x, x1, side="right"))
        return slice(start, stop)

    def scope_mask(self, actor: Principal, perm: str, rows: slice) -> NDArray[np.bool_]:
        """Which of ``rows`` lie in the org units where ``actor`` holds ``perm``."""
        n = len(range(*rows.indices(len(self))))
        if actor.is_system:
            return np.ones(n, dtype=bool)
        mask = np.zeros(n, dtype=bool)
        for grant in actor.grants_with(perm):
            depth = grant.path.strip("/").count("/")
            if depth < DEPTH:
                mask |= self.ancestors[rows, depth] == grant.unit_id
        return mask


def load_snapshot(session: Session, now: dt.datetime | None = None) -> Snapshot:
    """Every available responder with a known position, as arrays."""
    now = now or utcnow()
    rows = session.execute(
        select(
            Responder.id, Responder.display_name, Responder.tier, Responder.kind,
            Responder.travel_mode, Responder.skills, OrgUnit.path, ResponderPosition.lon,
            ResponderPosition.lat, ResponderPosition.x, ResponderPosition.y, ResponderPosition.at,
        )
        .join(ResponderPosition, ResponderPosition.responder_id == Responder.id)
        .join(OrgUnit, OrgUnit.id == Responder.org_unit_id)
        .where(Responder.availability == Availability.AVAILABLE)
    ).all()  # fmt: skip
    n = len(rows)
    ancestors = np.full((n, DEPTH), -1, dtype=np.int64)
    for i, row in enumerate(rows):
        parts = row[6].strip("/").split("/")[:DEPTH]
        ancestors[i, : len(parts)] = [int(p) for p in parts]
    # Sorted by x, so a box around an incident is two binary searches and a slice.
    rows = sorted(rows, key=lambda r: r[9])
    cols: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [()] * 12
    return Snapshot(
        loaded_at=now,
        projector=require_projector(session),
        graph=road_graph(session),
        ids=np.asarray(cols[0], dtype=np.int64),
        names=list(cols[1]),
        tiers=np.asarray(cols[2], dtype=np.int64),
        kinds=np.asarray(cols[3], dtype=np.str_),
        modes=np.asarray(cols[4], dtype=np.str_),
        skills=[frozenset(s or ()) for s in cols[5]],
        ancestors=ancestors,
        lon=np.asarray(cols[7], dtype=np.float64),
        lat=np.asarray(cols[8], dtype=np.float64),
        x=np.asarray(cols[9], dtype=np.float64),
        y=np.asarray(cols[10], dtype=np.float64),
        at=np.array([t.timestamp() for t in cols[11]], dtype=np.float64),
    )


class CandidateIndex:
    """One engine's snapshot, reloaded by a daemon thread every ``refresh_s``."""

    def __init__(self, engine: Engine, refresh_s: float) -> None:
        self.engine = engine
        self.refresh_s = refresh_s
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def snapshot(self) -> Snapshot:
        current = self._snapshot
        if current is None:
            with self._lock:
                if self._snapshot is None:
                    self.reload()
                    self._start()
            current = self._snapshot
        assert current is not None
        return current

    def reload(self) -> None:
        with session_scope(self.engine) as session:
            self._snapshot = load_snapshot(session)

    def _start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="dispatch-index", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_s):
            started = time.perf_counter()
            try:
                self.reload()
            except Exception:  # the previous snapshot keeps serving; try again next period
                log.exception("reloading the dispatch candidate index failed")
                continue
            log.debug("dispatch index reloaded in %.3f s", time.perf_counter() - started)

    def stop(self) -> None:
        self._stop.set()


_indexes: dict[str, CandidateIndex] = {}
_registry_lock = threading.Lock()


def index_for(engine: Engine, refresh_s: float) -> CandidateIndex:
    key = str(engine.url)
    with _registry_lock:
        found = _indexes.get(key)
        if found is None:
            found = _indexes[key] = CandidateIndex(engine, refresh_s)
        return found


# Built once: this runs on every recommendation, so skip re-building the statement.
_STILL_AVAILABLE = (
    select(
        Responder.id, ResponderPosition.lon, ResponderPosition.lat, ResponderPosition.x,
        ResponderPosition.y,
    )
    .join(ResponderPosition, ResponderPosition.responder_id == Responder.id)
    .where(
        Responder.id.in_(bindparam("ids", expanding=True)),
        Responder.availability == Availability.AVAILABLE,
        ResponderPosition.at >= bindparam("fresh_since"),
    )
)  # fmt: skip


def still_available(
    session: Session, ids: list[int], *, fresh_since: dt.datetime
) -> dict[int, tuple[float, float, float, float]]:
    """Of ``ids``, those still available with a fresh position: id -> (lon, lat, x, y) now."""
    if not ids:
        return {}
    rows = session.execute(_STILL_AVAILABLE, {"ids": ids, "fresh_since": fresh_since}).all()
    return {int(r[0]): (float(r[1]), float(r[2]), float(r[3]), float(r[4])) for r in rows}
