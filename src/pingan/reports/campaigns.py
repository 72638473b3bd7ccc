"""Campaign evaluation: did a special rectification reduce incidents, and did they move next door?

A campaign has an area, incident types and dates. Its effect is measured by
difference-in-differences (``analytics.did``) of incident density (per km²
per step) between the campaign area and comparable control grids, over the
campaign and an equally long period before it. Control grids lie outside the
area and its surrounding band, and are the ones whose density before the
campaign was closest to the area's. The band (a ring of ``band_m`` metres
around the area) is compared with the same controls: a significant rise there
suggests displacement, a significant fall a diffusion of benefits.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.analytics.did import DidResult, did
from pingan.incidents.analysis.selection import check_types
from pingan.incidents.cube import CubeFilter, load_cube
from pingan.incidents.service import city_zone
from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.kit.errors import NotFound, ValidationFailed
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.org.service import as_multipolygon, require_projector
from pingan.reports.models import Campaign

DEFAULT_CONTROLS = 8
MIN_CONTROLS = 2


def register_campaign(
    session: Session,
    *,
    name: str,
    unit: OrgUnit,
    types: list[str],
    starts_on: dt.date,
    ends_on: dt.date,
    area: dict[str, Any] | None = None,
    band_m: float = 500.0,
    actor: Principal,
) -> Campaign:
    """Record a campaign; its area defaults to the unit's boundary and must lie inside it."""
    if not actor.can(Perm.ORG_READ, unit.path):
        raise NotFound(f"org unit {unit.code!r} not found", field="unit")
    actor.require(Perm.REPORTS_WRITE, unit.path)
    if not name.strip():
        raise ValidationFailed("a campaign needs a name", field="name")
    if ends_on < starts_on:
        raise ValidationFailed("ends_on is before starts_on", field="ends_on")
    if not 0 <= band_m <= 5_000:
        raise ValidationFailed("band_m must lie between 0 and 5000 metres", field="band_m")
    codes = list(check_types(session, types))
    if area is None:
        geom = unit.boundary
        if geom is None:
            raise ValidationFailed(f"{unit.code} has no boundary: give an area", field="area")
    else:
        try:
            geom = shape(area)
        except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.ShapelyError):
            raise ValidationFailed(
                "area must be a GeoJSON Polygon or MultiPolygon", field="area"
            ) from None
        if geom.geom_type not in ("Polygon", "MultiPolygon") or not geom.is_valid or geom.is_empty:
            raise ValidationFailed("area must be a valid Polygon or MultiPolygon", field="area")
        if unit.boundary is not None and not unit.boundary.buffer(1e-6).contains(geom):
            raise ValidationFailed(f"the area reaches outside {unit.code}", field="area")
    campaign = Campaign(
        name=name.strip(),
        org_unit_id=unit.id,
        org_path=unit.path,
        area=as_multipolygon(geom),
        incident_types=json.dumps(codes),
        starts_on=starts_on,
        ends_on=ends_on,
        band_m=band_m,
        created_by=actor.actor,
    )
    session.add(campaign)
    session.flush()
    audit.record(
        session, actor=actor.actor, action="campaign.register", object_type="campaign",
        object_id=campaign.id, detail={"name": campaign.name, "unit": unit.code, "types": codes,
                                       "from": str(starts_on), "to": str(ends_on)},
    )  # fmt: skip
    return campaign


def get_campaign(session: Session, campaign_id: int, *, actor: Principal) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or not actor.can(Perm.REPORTS_READ, campaign.org_path):
        raise NotFound(f"campaign {campaign_id} not found")
    return campaign


def list_campaigns(session: Session, *, actor: Principal) -> list[Campaign]:
    actor.require(Perm.REPORTS_READ)
    campaigns = session.scalars(select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id))
    return [c for c in campaigns if actor.can(Perm.REPORTS_READ, c.org_path)]


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=city_zone()).astimezone(dt.UTC)


def _result_dict(result: DidResult) -> dict[str, Any]:
    keys = ("effect", "se", "ci_low", "ci_high", "p_value", "treated_pre", "treated_post",
            "control_pre", "control_post", "counterfactual_post", "relative_effect")  # fmt: skip
    out: dict[str, Any] = {
        k: None if getattr(result, k) is None else round(float(getattr(result, k)), 6) for k in keys
    }
    out.update(df=result.df, confidence=result.confidence, se_kind=result.se_kind)
    return out


def evaluate(
    session: Session,
    campaign_id: int,
    *,
    actor: Principal,
    step_days: int = 7,
    controls: int = DEFAULT_CONTROLS,
    confidence: float = 0.95,
    se: Literal["classical", "cluster"] = "classical",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The campaign's effect (difference-in-differences) and the displacement check; stored."""
    campaign = get_campaign(session, campaign_id, actor=actor)
    actor.require(Perm.REPORTS_WRITE, campaign.org_path)  # the evaluation is stored
    actor.require(Perm.INCIDENTS_READ, campaign.org_path)
    if not 1 <= step_days <= 92:
        raise ValidationFailed("step_days must lie between 1 and 92", field="step_days")
    if controls < MIN_CONTROLS:
        raise ValidationFailed(f"use at least {MIN_CONTROLS} control grids", field="controls")
    now = now or utcnow()
    start = _local_midnight(campaign.starts_on)
    end = min(_local_midnight(campaign.ends_on + dt.timedelta(days=1)), now)
    step = dt.timedelta(days=step_days)
    post_steps = int((end - start) / step)
    if post_steps < 1:
        raise ValidationFailed(
            f"the campaign has run less than one step ({step_days} days) so far", field="step_days"
        )
    since = start - post_steps * step
    until = start + post_steps * step
    projector = require_projector(session)
    area = projector.geometry_to_metric(campaign.area)
    band = area.buffer(campaign.band_m).difference(area) if campaign.band_m > 0 else None
    excluded = area.buffer(campaign.band_m) if campaign.band_m > 0 else area
    grids = [
        g
        for g in session.scalars(
            select(OrgUnit).where(OrgUnit.level == "grid").order_by(OrgUnit.code)
        )
        if g.boundary is not None and actor.can(Perm.INCIDENTS_READ, g.path)
    ]
    candidates = []
    for g in grids:
        assert g.boundary is not None
        metric = projector.geometry_to_metric(g.boundary)
        # Grids that only touch the area's edge are still outside it.
        if metric.intersection(excluded).area <= 0.01 * metric.area:
            candidates.append((g, metric))
    if len(candidates) < MIN_CONTROLS:
        raise ValidationFailed(
            "fewer than two grids lie outside the campaign area and its band to compare with",
            field="band_m",
        )
    cube = load_cube(
        session,
        CubeFilter(since=since, until=until, types=tuple(campaign.types_list())),
        actor=actor,
    )
    step_index = np.floor((cube.t - since.timestamp()) / step.total_seconds()).astype(int)
    n_steps = 2 * post_steps
    valid = (step_index >= 0) & (step_index < n_steps)

    def series_in(polygon: BaseGeometry) -> np.ndarray:
        inside = shapely.contains_xy(polygon, cube.x, cube.y) & valid
        counts = np.bincount(step_index[inside], minlength=n_steps).astype(float)
        return counts / (polygon.area / 1e6)

    def series_of_grid(grid_id: int, km2: float) -> np.ndarray:
        keep = (cube.grid_id == grid_id) & valid
        return np.bincount(step_index[keep], minlength=n_steps).astype(float) / km2

    post = np.arange(n_steps) >= post_steps
    treated_series = series_in(area)
    pool = [(g, series_of_grid(g.id, m.area / 1e6)) for g, m in candidates]
    pre_level = float(treated_series[~post].mean())
    pool.sort(key=lambda item: (abs(float(item[1][~post].mean()) - pre_level), item[0].code))
    chosen = pool[:controls]
    control_matrix = np.vstack([s for _, s in chosen])

    def run(series: np.ndarray) -> DidResult:
        y = np.vstack([series, control_matrix])
        treated = np.zeros(y.shape[0], dtype=bool)
        treated[0] = True
        return did(y, treated, post, confidence=confidence, se=se)

    effect = run(treated_series)
    out: dict[str, Any] = {
        "campaign_id": campaign.id,
        "types": campaign.types_list(),
        "units": "incidents per km² per step",
        "step_days": step_days,
        "pre": {"since": since.isoformat(), "until": start.isoformat()},
        "post": {"since": start.isoformat(), "until": until.isoformat()},
        "steps": n_steps,
        "area_km2": round(area.area / 1e6, 4),
        "controls": [{"id": g.id, "code": g.code, "name_en": g.name_en} for g, _ in chosen],
        "effect": _result_dict(effect),
        "counts": {
            "area_pre": round(float(treated_series[~post].sum()) * area.area / 1e6),
            "area_post": round(float(treated_series[post].sum()) * area.area / 1e6),
        },
    }
    if band is not None and not band.is_empty:
        displaced = run(series_in(band))
        verdict = "none detected"
        if displaced.p_value < 1 - confidence:
            verdict = "displacement suspected" if displaced.effect > 0 else "diffusion of benefits"
        out["band"] = {"band_m": campaign.band_m, "area_km2": round(band.area / 1e6, 4),
                       "effect": _result_dict(displaced), "verdict": verdict}  # fmt: skip
    campaign.evaluation = json.dumps(out)
    campaign.evaluated_at = utcnow()
    session.flush()
    audit.record(
        session, actor=actor.actor, action="campaign.evaluate", object_type="campaign",
        object_id=campaign.id, detail={"effect": out["effect"]["effect"]},
    )  # fmt: skip
    return out
