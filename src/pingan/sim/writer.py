"""Streaming generated events into the incidents table, a chunk of rows per transaction."""

from __future__ import annotations

import datetime as dt

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Engine

from pingan.incidents.columns import IncidentColumns
from pingan.incidents.models import Status
from pingan.incidents.store import ACCEPTED, store
from pingan.incidents.taxonomy import type_table
from pingan.kit.db import session_scope
from pingan.kit.geo import Projector
from pingan.org.principal import Principal
from pingan.sim.hawkes import Events
from pingan.sim.incident_mix import TYPE_MODELS, column
from pingan.sim.layout import CityLayout
from pingan.sim.layout_writer import SOURCE, objects
from pingan.sim.rng import stream

_US_PER_DAY = 86_400_000_000


class IncidentWriter:
    """Turns event chunks into incident rows and stores them ``chunk_rows`` at a time."""

    def __init__(
        self,
        engine: Engine,
        layout: CityLayout,
        projector: Projector,
        starts_at: dt.datetime,
        actor: Principal,
        chunk_rows: int,
    ) -> None:
        self.engine = engine
        self.projector = projector
        self.actor = actor
        self.chunk_rows = max(chunk_rows, 1)
        self.seed = layout.seed
        self.start_us = round(starts_at.timestamp() * 1_000_000)
        self.rng = stream(layout.seed, "incident-details")
        with session_scope(engine) as session:
            table = type_table(session)
        self.type_id = np.array([table[m.code][0] for m in TYPE_MODELS], dtype=np.int64)
        self.severity = np.array([table[m.code][1] for m in TYPE_MODELS], dtype=np.int64)
        self.report_minutes = column("report_minutes")
        self.numbered = 0
        self.stored = 0
        self.rejected = 0
        self._pending: list[tuple[IncidentColumns, NDArray[np.int64]]] = []
        self._pending_rows = 0
        self._planted: list[NDArray[np.int64]] = []

    def add(self, events: Events) -> None:
        if not len(events):
            return
        self._pending.append((self._columns(events), events.cluster))
        self._pending_rows += len(events)
        while self._pending_rows >= self.chunk_rows:
            self._flush(self.chunk_rows)

    def finish(self) -> None:
        while self._pending_rows:
            self._flush(min(self._pending_rows, self.chunk_rows))

    def planted_counts(self, n_clusters: int) -> NDArray[np.int64]:
        stored = np.concatenate(self._planted) if self._planted else np.empty(0, np.int64)
        return np.bincount(stored[stored >= 0], minlength=n_clusters).astype(np.int64)

    def _columns(self, events: Events) -> IncidentColumns:
        n = len(events)
        kind = events.kind
        occurred = self.start_us + np.round(events.t * _US_PER_DAY).astype(np.int64)
        delay_min = self.rng.exponential(self.report_minutes[kind])
        reported = occurred + np.round(delay_min * 60_000_000).astype(np.int64)
        shift = self.rng.choice(np.array([-1, 0, 1]), size=n, p=[0.15, 0.72, 0.13])
        lon, lat = self.projector.to_lonlat(events.x, events.y)
        first = self.numbered
        self.numbered += n
        return IncidentColumns(
            type_id=self.type_id[kind],
            occurred_us=occurred,
            reported_us=reported,
            lon=lon,
            lat=lat,
            severity=np.clip(self.severity[kind] + shift, 1, 5).astype(np.int64),
            source=_filled(SOURCE, n),
            status=_filled(Status.CLOSED.value, n),
            external_id=objects([f"sim-{self.seed}-{k}" for k in range(first, first + n)]),
            summary=_filled(None, n),
        )

    def _flush(self, rows: int) -> None:
        batch, clusters = self._take(rows)
        with session_scope(self.engine) as session:
            outcome = store(session, batch, actor=self.actor, audit_action="sim.incidents")
        accepted = outcome.outcome == ACCEPTED
        self.stored += int(accepted.sum())
        self.rejected += int((~accepted).sum())
        self._planted.append(clusters[accepted])

    def _take(self, rows: int) -> tuple[IncidentColumns, NDArray[np.int64]]:
        parts: list[tuple[IncidentColumns, NDArray[np.int64]]] = []
        needed = rows
        while needed:
            cols, clusters = self._pending[0]
            if len(cols) <= needed:
                parts.append(self._pending.pop(0))
                needed -= len(cols)
            else:
                head = np.arange(needed)
                tail = np.arange(needed, len(cols))
                parts.append((cols.take(head), clusters[:needed]))
                self._pending[0] = (cols.take(tail), clusters[needed:])
                needed = 0
        self._pending_rows -= rows
        return _concat([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _filled(value: object, n: int) -> NDArray[np.object_]:
    out = np.empty(n, dtype=object)
    out[:] = [value] * n
    return out


def _concat(parts: list[IncidentColumns]) -> IncidentColumns:
    if len(parts) == 1:
        return parts[0]
    names = IncidentColumns.__dataclass_fields__
    return IncidentColumns(**{n: np.concatenate([getattr(p, n) for p in parts]) for n in names})
