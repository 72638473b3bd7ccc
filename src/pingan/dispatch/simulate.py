"""Replay the synthetic city's incidents through recommendation and dispatch.

A virtual clock walks an event queue. Each incident is dispatched by its plan
(through the service layer, so every step is stored, timed and audited) after
a call-handling delay; simulated responders acknowledge after a delay drawn
per tier, or not at all (so escalation happens), turn out, drive for their
routed ETA (times a traffic factor), and clear after a service time.
Escalations run at every acknowledgement deadline. Responders report their
position every five minutes; a responder's position jumps to the incident
when they reach it (they do not move along the route in between).
"""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, select

from pingan.dispatch.assignment_models import Assignment, AssignmentStatus
from pingan.dispatch.assignments import dispatch_incident, run_dispatch_escalations, set_status
from pingan.dispatch.kpis import KpiRow, Targets, response_kpis
from pingan.dispatch.positions import ingest_positions
from pingan.dispatch.responder_models import Availability, Responder, ResponderPosition
from pingan.dispatch.seed import seed_responders
from pingan.incidents.models import Incident
from pingan.kit.db import session_scope
from pingan.kit.errors import Conflict, NotFound
from pingan.org.principal import Principal

ACTOR = Principal.system("dispatch-simulate")
REPORT_EVERY = dt.timedelta(minutes=5)
# (share that never acknowledge, acknowledgement delay range in s) by tier
ACK_BEHAVIOUR: dict[int, tuple[float, tuple[float, float]]] = {
    1: (0.05, (3.0, 25.0)),
    2: (0.10, (10.0, 50.0)),
    3: (0.25, (20.0, 100.0)),
}


@dataclass
class SimulationReport:
    incidents: int = 0
    assignments: int = 0
    timed_out: int = 0
    to_supervisor: int = 0
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    kpis: list[KpiRow] = field(default_factory=list)


def simulate(
    engine: Engine, *, hours: float, seed: int = 1, targets: Targets = Targets()
) -> SimulationReport:
    rng = np.random.default_rng(seed)
    report = SimulationReport()
    with session_scope(engine) as s:
        last = s.scalar(select(func.max(Incident.reported_at)))
        if last is None:
            raise NotFound("no incidents to replay: run `pingan sim city` first")
        since = last - dt.timedelta(hours=hours)
        incidents = s.execute(
            select(Incident.id, Incident.reported_at, Incident.lon, Incident.lat)
            .where(Incident.reported_at > since)
            .order_by(Incident.reported_at, Incident.id)
        ).all()
        if not s.scalar(select(func.count()).select_from(Responder)):
            seed_responders(s, actor=ACTOR, seed=seed, now=since)
    sim = _Sim(engine, rng, report)
    sim.load_positions()
    for incident_id, reported_at, lon, lat in incidents:
        delay = dt.timedelta(seconds=float(rng.uniform(20, 90)))
        sim.push(reported_at + delay, "dispatch", (int(incident_id), float(lon), float(lat)))
    sim.push(since, "report", None)
    sim.run(until=last + dt.timedelta(hours=2))
    report.incidents = len(incidents)
    report.since, report.until = since, last + dt.timedelta(hours=2)
    with session_scope(engine) as s:
        report.kpis = response_kpis(
            s, actor=ACTOR, since=since, until=report.until, targets=targets
        )
    return report


class _Sim:
    def __init__(self, engine: Engine, rng: np.random.Generator, report: SimulationReport) -> None:
        self.engine, self.rng, self.report = engine, rng, report
        self.queue: list[tuple[dt.datetime, int, str, Any]] = []
        self.seq = 0
        self.where: dict[int, tuple[float, float]] = {}
        self.seen: set[int] = set()
        self.incident_at: dict[int, tuple[float, float]] = {}

    def push(self, at: dt.datetime, kind: str, payload: Any) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (at, self.seq, kind, payload))

    def load_positions(self) -> None:
        with session_scope(self.engine) as s:
            rows = s.execute(
                select(ResponderPosition.responder_id, ResponderPosition.lon, ResponderPosition.lat)
            ).all()
        self.where = {int(r): (lon, lat) for r, lon, lat in rows}

    def run(self, *, until: dt.datetime) -> None:
        while self.queue:
            at, _, kind, payload = heapq.heappop(self.queue)
            if at > until:
                break
            if kind == "report":
                self._report_positions(at)
                if any(k != "report" for _, _, k, _ in self.queue):
                    self.push(at + REPORT_EVERY, "report", None)
            elif kind == "dispatch":
                incident_id, lon, lat = payload
                self.incident_at[incident_id] = (lon, lat)
                with session_scope(self.engine) as s:
                    dispatch_incident(s, incident_id=incident_id, actor=ACTOR, now=at)
                self._schedule_new(at)
            elif kind == "escalate":
                result = run_dispatch_escalations(self.engine, now=at)
                self.report.timed_out += result.timed_out
                self.report.to_supervisor += result.to_supervisor
                self._schedule_new(at)
            else:
                self._step(at, kind, payload)

    def _schedule_new(self, at: dt.datetime) -> None:
        """Give every assignment not yet seen its simulated responder's behaviour."""
        with session_scope(self.engine) as s:
            rows = s.execute(
                select(
                    Assignment.id, Assignment.tier, Assignment.eta_s, Assignment.ack_deadline
                ).where(Assignment.status == AssignmentStatus.DISPATCHED)
            ).all()
        for assignment_id, tier, eta_s, deadline in rows:
            if assignment_id in self.seen:
                continue
            self.seen.add(assignment_id)
            self.report.assignments += 1
            self.push(deadline + dt.timedelta(seconds=1), "escalate", None)
            never, (low, high) = ACK_BEHAVIOUR[tier]
            if self.rng.random() < never:
                continue
            ack = at + dt.timedelta(seconds=float(self.rng.uniform(low, high)))
            turnout = ack + dt.timedelta(seconds=float(self.rng.uniform(10, 60)))
            drive = float(eta_s or 300.0) * float(self.rng.uniform(0.9, 1.4))
            arrive = turnout + dt.timedelta(seconds=drive)
            clear = arrive + dt.timedelta(minutes=float(self.rng.uniform(5, 30)))
            for when, status in (
                (ack, AssignmentStatus.ACKNOWLEDGED),
                (turnout, AssignmentStatus.EN_ROUTE),
                (arrive, AssignmentStatus.ON_SCENE),
                (clear, AssignmentStatus.CLEARED),
            ):
                self.push(when, status.value, int(assignment_id))

    def _step(self, at: dt.datetime, status: str, assignment_id: int) -> None:
        with session_scope(self.engine) as s:
            try:
                done = set_status(
                    s, assignment_id=assignment_id, status=AssignmentStatus(status), actor=ACTOR,
                    now=at,
                )  # fmt: skip
            except Conflict:
                return  # too late: the assignment timed out and was handed on
            if status == AssignmentStatus.ON_SCENE and done.incident_id in self.incident_at:
                self.where[done.responder_id] = self.incident_at[done.incident_id]

    def _report_positions(self, at: dt.datetime) -> None:
        with session_scope(self.engine) as s:
            on_duty = s.scalars(
                select(Responder.id).where(Responder.availability != Availability.OFF_DUTY)
            ).all()
            ids = [int(r) for r in on_duty if int(r) in self.where]
            ingest_positions(
                s, responder_ids=ids, lon=[self.where[r][0] for r in ids],
                lat=[self.where[r][1] for r in ids], at=[at] * len(ids), actor=ACTOR, now=at,
            )  # fmt: skip
