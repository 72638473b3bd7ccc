"""Placement plans: where the next cameras should go, as a job.

Demand is every street segment in scope that no camera sees, weighted by
its length times (1 + incidents within ``NEAR_M`` over the last
``incident_days``). Candidates are road intersections and points every
``candidate_spacing_m`` along uncovered streets; each is a new 360-degree
camera of ``range_m``. Key sites within ``site_radius_m`` of their streets
must reach ``site_min_share`` of their street length seen; sites at
``backup_level`` or above need two cameras on those streets. District
budgets cap the new sites per district.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pingan.analytics import maxcover
from pingan.cameras.coverage import NEAR_M, _grid_scope, _in_scope, _units, incidents_since
from pingan.cameras.models import PlacementPlan
from pingan.cameras.schemas import PlanIn, PlanOut
from pingan.cameras.streets import segment_arrays
from pingan.dispatch.models import RoadNode
from pingan.kit import audit, jobs
from pingan.kit.db import session_scope
from pingan.kit.errors import Forbidden, NotFound, ValidationFailed
from pingan.org.levels import Level
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.org.service import grid_locator, require_projector
from pingan.org.users import get_user_by_name, principal_for
from pingan.places.models import Place

KIND = "cameras.plan"


@dataclass(frozen=True)
class Instance:
    problem: maxcover.Problem
    cand_x: NDArray[np.float64]
    cand_y: NDArray[np.float64]
    cand_district: NDArray[np.int64]
    seg_length: NDArray[np.float64]
    site_labels: list[str]


def build_instance(session: Session, params: PlanIn, *, actor: Principal) -> Instance:
    units = _units(session)
    scope = _grid_scope(actor, units)
    seg = segment_arrays(session)
    if len(seg["id"]) == 0:
        raise NotFound("no street segments yet: run `pingan cameras coverage --rebuild`")
    keep = _in_scope(seg["grid"], scope)
    seg = {k: v[keep] for k, v in seg.items()}
    uncovered = seg["count"] == 0
    inc = incidents_since(session, params.incident_days, scope)
    near = np.zeros(len(seg["x"]), dtype=np.float64)
    if len(inc["x"]) and len(seg["x"]):
        near = cKDTree(np.column_stack([inc["x"], inc["y"]])).query_ball_point(
            np.column_stack([seg["x"], seg["y"]]), r=NEAR_M, return_length=True
        )
    weight = np.where(uncovered, seg["length"] * (1.0 + near), 0.0)

    cx, cy = _candidates(session, seg, uncovered, params)
    proj = require_projector(session)
    lon, lat = proj.to_lonlat(cx, cy)
    grids = grid_locator(session).locate(lon, lat)
    district = _district_of(grids, units)
    if scope is not None:
        ok = np.isin(grids, np.fromiter(scope, dtype=np.int64, count=len(scope)))
        cx, cy, district = cx[ok], cy[ok], district[ok]
    seg_tree = cKDTree(np.column_stack([seg["x"], seg["y"]]))
    hits = seg_tree.query_ball_point(np.column_stack([cx, cy]), r=params.range_m)
    lengths = np.array([len(h) for h in hits], dtype=np.int64)
    flat = np.fromiter((i for h in hits for i in h), dtype=np.int64, count=int(lengths.sum()))
    cand = np.repeat(np.arange(len(cx), dtype=np.int64), lengths)
    cover = maxcover.cover_matrix(len(seg["x"]), cand, flat, len(cx))

    requirements, labels = _site_requirements(session, seg, seg_tree, params, scope)
    problem = maxcover.Problem(
        cover=cover, weight=weight, p=params.sites, length=seg["length"],
        existing=seg["count"], group=district, caps=dict(params.district_budget),
        requirements=tuple(requirements),
    )  # fmt: skip
    return Instance(problem, cx, cy, district, seg["length"], labels)


def _candidates(
    session: Session,
    seg: dict[str, NDArray[Any]],
    uncovered: NDArray[np.bool_],
    params: PlanIn,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    ux, uy = seg["x"][uncovered], seg["y"][uncovered]
    if len(ux) == 0:
        return np.zeros(0), np.zeros(0)
    # One pole per spacing cell along uncovered streets.
    cell = np.floor(np.column_stack([ux, uy]) / params.candidate_spacing_m).astype(np.int64)
    _, first = np.unique(cell, axis=0, return_index=True)
    px, py = ux[np.sort(first)], uy[np.sort(first)]
    # Intersections within reach of an uncovered street.
    nodes = session.execute(select(RoadNode.x, RoadNode.y)).all()
    nx = np.array([n[0] for n in nodes], dtype=np.float64)
    ny = np.array([n[1] for n in nodes], dtype=np.float64)
    if len(nx):
        d, _ = cKDTree(np.column_stack([ux, uy])).query(
            np.column_stack([nx, ny]), distance_upper_bound=params.range_m
        )
        m = np.isfinite(d)
        px, py = np.concatenate([nx[m], px]), np.concatenate([ny[m], py])
    return px, py


def _district_of(
    grids: NDArray[np.int64], units: dict[int, tuple[str, str, str, str]]
) -> NDArray[np.int64]:
    out = np.full(len(grids), -1, dtype=np.int64)
    lookup: dict[int, int] = {}
    for uid, (_c, _n, level, path) in units.items():
        if level == Level.GRID.value:
            ids = [int(p) for p in path.strip("/").split("/") if p]
            lookup[uid] = ids[1] if len(ids) > 1 else -1
    for k, g in enumerate(grids.tolist()):
        out[k] = lookup.get(int(g), -1)
    return out


def _site_requirements(
    session: Session,
    seg: dict[str, NDArray[Any]],
    tree: cKDTree,
    params: PlanIn,
    scope: set[int] | None,
) -> tuple[list[maxcover.Requirement], list[str]]:
    if params.site_min_share <= 0:
        return [], []
    proj = require_projector(session)
    reqs: list[maxcover.Requirement] = []
    labels: list[str] = []
    for code, level, geom, grid_id in session.execute(
        select(Place.code, Place.protection_level, Place.geom, Place.grid_id).order_by(Place.id)
    ).all():
        if scope is not None and grid_id not in scope:
            continue
        metric = proj.geometry_to_metric(geom)
        c = metric.centroid
        x0, y0, x1, y1 = metric.bounds
        reach = params.site_radius_m + float(np.hypot(x1 - x0, y1 - y0))
        idx = np.asarray(tree.query_ball_point([c.x, c.y], r=reach), dtype=np.int64)
        if len(idx):
            pts = shapely.points(seg["x"][idx], seg["y"][idx])
            idx = idx[shapely.dwithin(metric, pts, params.site_radius_m)]
        if len(idx) == 0:
            continue
        copies = 2 if level <= params.backup_level else 1
        reqs.append(maxcover.Requirement(np.sort(idx), params.site_min_share, copies, code))
        labels.append(code)
    return reqs, labels


def solve(instance: Instance, params: PlanIn) -> dict[str, Any]:
    out: dict[str, Any] = {
        "demand_segments": int((instance.problem.weight > 0).sum()),
        "candidates": len(instance.cand_x),
        "requirements": instance.site_labels,
    }
    solutions: dict[str, maxcover.Solution] = {}
    if params.method in ("greedy", "both"):
        t = time.perf_counter()
        solutions["greedy"] = maxcover.greedy(instance.problem)
        out["greedy_seconds"] = time.perf_counter() - t
    if params.method in ("exact", "both"):
        t = time.perf_counter()
        solutions["exact"] = maxcover.exact(instance.problem, time_limit_s=params.time_limit_s)
        out["exact_seconds"] = time.perf_counter() - t
        out["optimal"] = solutions["exact"].optimal
        out["bound"] = solutions["exact"].bound
    if "greedy" in solutions and "exact" in solutions:
        best = max(solutions["exact"].objective, solutions["exact"].bound or 0.0)
        out["greedy_gap"] = maxcover.gap(solutions["greedy"].objective, best)
    chosen = solutions["greedy"] if params.method == "greedy" else solutions["exact"]
    if params.method == "both" and solutions["greedy"].objective > chosen.objective:
        chosen = solutions["greedy"]
    for name, sol in solutions.items():
        out[f"{name}_objective"] = sol.objective
    out["method"] = chosen.method
    out["objective"] = chosen.objective
    out["requirements_met"] = chosen.requirements_met
    out["sites"] = _site_rows(instance, chosen)
    return out


def _site_rows(instance: Instance, sol: maxcover.Solution) -> list[dict[str, Any]]:
    cover = instance.problem.cover.tocsc()
    counts = instance.problem.existing_counts.copy()
    rows = []
    for order, (j, gain) in enumerate(zip(sol.chosen, sol.gains, strict=True), start=1):
        seen = cover.indices[cover.indptr[j] : cover.indptr[j + 1]]
        fresh = seen[counts[seen] == 0]
        counts[seen] += 1
        rows.append(
            {"order": order, "x": float(instance.cand_x[j]), "y": float(instance.cand_y[j]),
             "district_id": int(instance.cand_district[j]) if instance.cand_district[j] >= 0
             else None, "gain_weight": round(gain, 3),
             "gain_m": round(float(instance.seg_length[fresh].sum()), 2)}
        )  # fmt: skip
    return rows


def make_plan(session: Session, params: PlanIn, *, actor: Principal) -> PlacementPlan:
    """Compute and store a plan (runs inline: the CLI and the job both call this)."""
    actor.require(Perm.CAMERAS_WRITE)
    for district, cap in params.district_budget.items():
        if cap < 0:
            raise ValidationFailed(f"budget of district {district} is negative", field="budget")
    instance = build_instance(session, params, actor=actor)
    result = solve(instance, params)
    proj = require_projector(session)
    if result["sites"]:
        lon, lat = proj.to_lonlat(
            np.array([s["x"] for s in result["sites"]]), np.array([s["y"] for s in result["sites"]])
        )
        for s, lo, la in zip(result["sites"], lon.tolist(), lat.tolist(), strict=True):
            s["lon"], s["lat"] = round(lo, 7), round(la, 7)
            del s["x"], s["y"]
    plan = PlacementPlan(
        name=params.name, method=params.method, params=params.model_dump_json(),
        result=json.dumps(result), created_by=actor.actor,
    )  # fmt: skip
    session.add(plan)
    session.flush()
    audit.record(
        session, actor=actor.actor, action="cameras.plan.create", object_type="camera_plan",
        object_id=plan.id, detail={"sites": len(result["sites"]), "method": params.method},
    )  # fmt: skip
    return plan


def get_plan(session: Session, plan_id: int, *, actor: Principal) -> PlacementPlan:
    actor.require(Perm.CAMERAS_READ)
    plan = session.get(PlacementPlan, plan_id)
    if plan is None:
        raise NotFound(f"plan {plan_id} not found")
    return plan


def list_plans(session: Session, *, actor: Principal, limit: int = 100) -> list[PlacementPlan]:
    actor.require(Perm.CAMERAS_READ)
    stmt = select(PlacementPlan).order_by(PlacementPlan.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def plan_out(plan: PlacementPlan) -> PlanOut:
    return PlanOut(
        id=plan.id, name=plan.name, method=plan.method, created_at=plan.created_at,
        params=json.loads(plan.params), result=json.loads(plan.result),
    )  # fmt: skip


def plan_geojson(plan: PlacementPlan) -> dict[str, Any]:
    result = json.loads(plan.result)
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
             "properties": {k: v for k, v in s.items() if k not in ("lon", "lat")}}
            for s in result.get("sites", [])
        ],
    }  # fmt: skip


PLAN_CSV_COLUMNS = ("order", "lon", "lat", "district_id", "gain_weight", "gain_m")


def plan_csv(plan: PlacementPlan) -> str:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(PLAN_CSV_COLUMNS)
    for s in json.loads(plan.result).get("sites", []):
        writer.writerow([s.get(c) for c in PLAN_CSV_COLUMNS])
    return buf.getvalue()


# --- as a job ----------------------------------------------------------------


def _principal(session: Session, requested: dict[str, Any]) -> Principal:
    # The requester as they stand when the job runs: a revoked grant no longer counts.
    if requested.get("system"):
        return Principal.system(str(requested["username"]))
    user = get_user_by_name(session, str(requested["username"]))
    if not user.is_active:
        raise Forbidden(f"user {user.username!r} is no longer active")
    return principal_for(session, user, via="job")


def submit(session: Session, params: PlanIn, *, actor: Principal) -> jobs.Job:
    actor.require(Perm.CAMERAS_WRITE)
    stored = {
        "plan": params.model_dump(mode="json"),
        "requested_by": {"username": actor.username, "system": actor.is_system},
    }
    return jobs.submit(session, kind=KIND, params=stored, created_by=actor.actor)


@jobs.register(KIND, "Camera placement plan: greedy and/or exact maximal covering")
def plan_job(engine: Engine, stored: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    params = PlanIn.model_validate(stored["plan"])
    with session_scope(engine) as session:
        actor = _principal(
            session, stored.get("requested_by") or {"username": "job", "system": True}
        )
        progress(0.1, "building the instance")
        plan = make_plan(session, params, actor=actor)
        result = json.loads(plan.result)
    progress(1.0, f"{len(result['sites'])} sites")
    return {"plan_id": plan.id, "objective": result["objective"], "sites": len(result["sites"])}
