"""Responders and units for the synthetic city (``pingan dispatch seed-responders``).

Deterministic by seed. Each responder stands on a random road node inside a
grid and belongs to that grid; per grid there are (on average) half a police
unit, one auxiliary police officer per four grids, one grid worker, one
gatekeeper and three volunteers (half with first aid, a fifth with fire
safety); each district has a quick-response team of four at a standby post.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from pingan.dispatch.positions import ingest_positions
from pingan.dispatch.responder_models import (
    TIER_OF_KIND,
    Availability,
    PostKind,
    Responder,
    ResponderKind,
    ResponseUnit,
)
from pingan.dispatch.routing import road_graph
from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.kit.errors import Conflict
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal
from pingan.org.service import grid_locator

K = ResponderKind
PER_GRID: dict[str, float] = {
    K.POLICE_UNIT: 0.5,
    K.AUXILIARY_POLICE: 0.25,
    K.GRID_WORKER: 1.0,
    K.GATEKEEPER: 1.0,
    K.VOLUNTEER: 3.0,
}
TEAM_SIZE = 4


@dataclass(frozen=True)
class SeedReport:
    responders: int
    units: int
    available: int


def seed_responders(
    session: Session,
    *,
    actor: Principal,
    seed: int = 1,
    available_share: float = 0.8,
    now: dt.datetime | None = None,
) -> SeedReport:
    now = now or utcnow()
    if session.scalar(select(func.count()).select_from(Responder)):
        raise Conflict("responders exist already; seeding is for an empty roster")
    rng = np.random.default_rng(seed)
    graph = road_graph(session)
    locator = grid_locator(session)
    grids = locator.locate(graph.lon, graph.lat)
    on_grid = np.flatnonzero(grids >= 0)
    n_grids = len(locator.paths)
    rows: list[dict[str, object]] = []
    units = _teams(session, rng, graph.lon, graph.lat, on_grid, grids)
    for unit_id, org_id, node in units:
        rows += [_row(K.QUICK_RESPONSE_TEAM, org_id, unit_id, [], node) for _ in range(TEAM_SIZE)]
    for kind, per_grid in PER_GRID.items():
        for node in rng.choice(on_grid, size=max(1, round(per_grid * n_grids))):
            skills = _skills(rng) if kind == K.VOLUNTEER else []
            rows.append(_row(kind, int(grids[node]), None, skills, int(node)))
    for i, row in enumerate(rows):
        row["display_name"] = f"{row['kind'].replace('_', ' ').title()} {i + 1}"  # type: ignore[attr-defined]
        row["availability"] = (
            Availability.AVAILABLE if rng.random() < available_share else Availability.OFF_DUTY
        )
    nodes = [int(r.pop("node")) for r in rows]  # type: ignore[call-overload]
    ids = session.scalars(
        insert(Responder).returning(Responder.id, sort_by_parameter_order=True), rows
    ).all()
    on_duty = [i for i, r in enumerate(rows) if r["availability"] == Availability.AVAILABLE]
    ingest_positions(
        session,
        responder_ids=[int(ids[i]) for i in on_duty],
        lon=[float(graph.lon[nodes[i]]) for i in on_duty],
        lat=[float(graph.lat[nodes[i]]) for i in on_duty],
        at=[now] * len(on_duty),
        actor=actor,
        now=now,
    )
    audit.record(
        session, actor=actor.actor, action="dispatch.responders.seed", object_type="responder",
        detail={"responders": len(rows), "units": len(units), "seed": seed},
    )  # fmt: skip
    return SeedReport(len(rows), len(units), len(on_duty))


def _row(
    kind: str, org_unit_id: int, unit_id: int | None, skills: list[str], node: int
) -> dict[str, object]:
    return {
        "kind": kind, "tier": int(TIER_OF_KIND[kind]), "org_unit_id": org_unit_id,
        "unit_id": unit_id, "skills": skills, "node": node,
        "travel_mode": "walk" if kind == K.VOLUNTEER else "drive",
        "created_at": utcnow(), "updated_at": utcnow(),
    }  # fmt: skip


def _skills(rng: np.random.Generator) -> list[str]:
    skills = []
    if rng.random() < 0.5:
        skills.append("first_aid")
    if rng.random() < 0.2:
        skills.append("fire_safety")
    return skills


def _teams(
    session: Session,
    rng: np.random.Generator,
    lon: np.ndarray,
    lat: np.ndarray,
    on_grid: np.ndarray,
    grids: np.ndarray,
) -> list[tuple[int, int, int]]:
    """One quick-response team per district, posted at a road node in one of its grids."""
    districts = session.execute(
        select(OrgUnit.id, OrgUnit.path, OrgUnit.code).where(OrgUnit.level == "district")
    ).all()
    grid_paths = dict(
        session.execute(select(OrgUnit.id, OrgUnit.path).where(OrgUnit.level == "grid")).all()
    )
    made = []
    for district_id, path, code in districts:
        inside = [n for n in on_grid if grid_paths.get(int(grids[n]), "").startswith(path)]
        if not inside:
            continue
        node = int(rng.choice(inside))
        unit = ResponseUnit(
            code=f"QRT-{code}", name=f"Quick-response team {code}", kind=K.QUICK_RESPONSE_TEAM,
            org_unit_id=int(district_id), post_kind=PostKind.FIXED,
            post_lon=float(lon[node]), post_lat=float(lat[node]), vehicles=1,
        )  # fmt: skip
        session.add(unit)
        session.flush()
        made.append((unit.id, int(grids[node]), node))
    return made
