"""HTTP routes of the analyses: runs (jobs) and interactive layers within scope.

Interactive GETs serve what is small or cached (heat tiles from a cached
surface, hotspot layers with at most 999 permutations); anything bigger is a
run: POST /runs answers 202 with the job, and /api/v1/jobs/{id} has its status,
progress and result.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.incidents.analysis import runs
from pingan.incidents.analysis.emerging import emerging
from pingan.incidents.analysis.forecast import (
    EvaluationParams,
    ForecastParams,
    evaluate,
    forecast,
)
from pingan.incidents.analysis.geojson import MEDIA_TYPE as GEOJSON
from pingan.incidents.analysis.heat import heat_map
from pingan.incidents.analysis.hotspots import hotspots
from pingan.incidents.analysis.params import EmergingParams, HeatParams, HotspotParams, RatesParams
from pingan.incidents.analysis.rates import rates, rows_csv
from pingan.kit import jobs
from pingan.org.permissions import Perm

router = APIRouter(prefix="/api/v1/analysis", tags=["analysis"])
TILE_CACHE = "private, max-age=300"


class RunIn(BaseModel):
    kind: str = Field(
        description="analysis.heat, analysis.hotspots, analysis.emerging or analysis.rates"
    )
    params: dict[str, Any] = Field(default_factory=dict, description="The analysis' parameters")


class RunOut(BaseModel):
    id: int
    kind: str
    status: str
    params: dict[str, Any]
    software_version: str
    created_at: dt.datetime
    status_url: str


class ContourParams(HeatParams):
    levels: list[float] | None = Field(
        None, max_length=50, description="Band edges, increasing; by default five steps to vmax"
    )


class RatesQuery(RatesParams):
    format: Literal["json", "csv"] = "json"


def _run_out(job: jobs.Job) -> RunOut:
    return RunOut(
        id=job.id,
        kind=job.kind,
        status=job.status,
        params=job.params_dict(),
        software_version=job.software_version,
        created_at=job.created_at,
        status_url=f"/api/v1/jobs/{job.id}",
    )


@router.post("/runs", response_model=RunOut, status_code=202)
def create_run(
    body: RunIn,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    session: DbSession,
) -> RunOut:
    """Start an analysis run; poll ``status_url`` for progress and the result."""
    job = runs.submit_run(session, kind=body.kind, params=body.params, actor=principal)
    # Commit before waking the worker, so it finds the job at once.
    session.commit()
    worker = getattr(request.app.state, "job_worker", None)
    if worker is not None:
        worker.wake()
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return _run_out(job)


@router.get("/runs", response_model=list[RunOut])
def list_runs(
    principal: CurrentPrincipal,
    session: DbSession,
    kind: str | None = Query(None, description="Only runs of this kind"),
    limit: int = Query(50, ge=1, le=500),
) -> list[RunOut]:
    """Your analysis runs, newest first (parameters, not results)."""
    principal.require(Perm.INCIDENTS_READ)
    stmt = select(jobs.Job).where(jobs.Job.created_by == principal.actor)
    stmt = stmt.where(jobs.Job.kind == kind) if kind else stmt.where(jobs.Job.kind.in_(runs.KINDS))
    found = session.scalars(stmt.order_by(jobs.Job.id.desc()).limit(limit))
    return [_run_out(job) for job in found]


# How old a heat surface a map display may use (see ``heat_map``).
DISPLAY_MAX_AGE_S = 60.0


@router.get("/heat/tiles/{z}/{x}/{y}.png", response_class=Response)
def heat_tile(
    z: int,
    x: int,
    y: int,
    params: Annotated[HeatParams, Query()],
    principal: CurrentPrincipal,
    session: DbSession,
) -> Response:
    """A 256 x 256 PNG map tile of the heat surface (Web Mercator z/x/y).

    Tiles and their legend may come from a surface up to a minute old, so that
    intake running alongside does not recompute the surface for every tile.
    """
    surface = heat_map(session, params, actor=principal, max_age_s=DISPLAY_MAX_AGE_S)
    return Response(
        surface.tile(z, x, y), media_type="image/png", headers={"Cache-Control": TILE_CACHE}
    )


@router.get("/heat/legend")
def heat_legend(
    params: Annotated[HeatParams, Query()], principal: CurrentPrincipal, session: DbSession
) -> dict[str, Any]:
    """The colour scale shared by every tile of the surface: vmin, vmax, units and stops."""
    return heat_map(session, params, actor=principal, max_age_s=DISPLAY_MAX_AGE_S).legend()


@router.get("/heat")
def heat_summary(
    params: Annotated[HeatParams, Query()], principal: CurrentPrincipal, session: DbSession
) -> dict[str, Any]:
    """The surface's data window, bandwidth, raster and legend."""
    return heat_map(session, params, actor=principal).summary()


@router.get("/heat/contours", response_class=JSONResponse)
def heat_contours(
    params: Annotated[ContourParams, Query()], principal: CurrentPrincipal, session: DbSession
) -> JSONResponse:
    """Contour bands of the surface as GeoJSON (lon/lat)."""
    surface = heat_map(
        session, HeatParams(**params.model_dump(exclude={"levels"})), actor=principal
    )
    return JSONResponse(surface.contours(params.levels), media_type=GEOJSON)


@router.get("/heat.tif", response_class=Response)
def heat_geotiff(
    params: Annotated[HeatParams, Query()], principal: CurrentPrincipal, session: DbSession
) -> Response:
    """The surface as a float32 GeoTIFF in the city's projected CRS."""
    surface = heat_map(session, params, actor=principal)
    return Response(
        surface.geotiff(),
        media_type="image/tiff",
        headers={"Content-Disposition": 'attachment; filename="heat.tif"'},
    )


@router.get("/hotspots", response_class=JSONResponse)
def hotspot_layer(
    params: Annotated[HotspotParams, Query()], principal: CurrentPrincipal, session: DbSession
) -> JSONResponse:
    """Hotspot cells or grids as GeoJSON (at most 999 permutations; more is a run)."""
    doc = hotspots(session, params, actor=principal, sync=True)
    return JSONResponse(doc, media_type=GEOJSON)


@router.get("/forecast", response_class=JSONResponse)
def forecast_layer(
    params: Annotated[ForecastParams, Query()], principal: CurrentPrincipal, session: DbSession
) -> JSONResponse:
    """The cells expected to be hottest over the next days (etas, kde or naive), as GeoJSON."""
    return JSONResponse(forecast(session, params, actor=principal), media_type=GEOJSON)


@router.get("/forecast/evaluation")
def forecast_evaluation(
    params: Annotated[EvaluationParams, Query()], principal: CurrentPrincipal, session: DbSession
) -> dict[str, Any]:
    """Hit rate and PAI of each forecast method over held-out recent weeks."""
    return evaluate(session, params, actor=principal, weeks=params.weeks)


@router.get("/emerging", response_class=JSONResponse)
def emerging_layer(
    params: Annotated[EmergingParams, Query()], principal: CurrentPrincipal, session: DbSession
) -> JSONResponse:
    """Emerging hotspot categories per cell or grid as GeoJSON."""
    return JSONResponse(emerging(session, params, actor=principal), media_type=GEOJSON)


@router.get("/rates", response_model=None)
def rate_table(
    params: Annotated[RatesQuery, Query()], principal: CurrentPrincipal, session: DbSession
) -> dict[str, Any] | Response:
    """Counts, rates per 10,000 residents and change per org unit (JSON or CSV)."""
    result = rates(session, RatesParams(**params.model_dump(exclude={"format"})), actor=principal)
    if params.format == "csv":
        return Response(
            rows_csv(result),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="rates-{params.level}.csv"'},
        )
    return result
