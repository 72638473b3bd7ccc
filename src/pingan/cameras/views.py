"""HTTP routes of the camera registry, coverage layers, blind spots and placement plans."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.api.uploads import read_capped
from pingan.cameras import coverage, io, mvt, mvt_coverage, planning, registry, streets, tiles
from pingan.cameras.schemas import (
    CameraIn,
    CameraOut,
    CameraPatch,
    CoverageReport,
    ImportReport,
    OwnerIn,
    OwnerOut,
    PlanIn,
    PlanOut,
)
from pingan.kit.errors import Forbidden, PayloadTooLarge, ValidationFailed
from pingan.org.levels import Level
from pingan.org.permissions import Perm

router = APIRouter(prefix="/api/v1/cameras", tags=["cameras"])

GEOJSON = "application/geo+json"
# Bigger files go through `pingan cameras import`, which streams with a progress bar.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_BATCH = 10_000


@router.get("", response_model=list[CameraOut])
def list_cameras(
    principal: CurrentPrincipal,
    session: DbSession,
    owner_id: int | None = None,
    network: str | None = None,
    status: str | None = None,
    bbox: str | None = Query(None, description="lon0,lat0,lon1,lat1"),
    org_unit_id: int | None = Query(None, description="Only cameras in this unit's subtree"),
    q: str | None = Query(None, max_length=100, description="Text in the name or owner's id"),
    limit: int = Query(500, ge=1, le=5000),
    after_id: int | None = Query(None, description="Keyset: ids after this one"),
) -> list[CameraOut]:
    """Cameras you may see: those in your org scope and those of owners you act for."""
    cams = registry.list_cameras(
        session, actor=principal, owner_id=owner_id, network=network, status=status,
        bbox=coverage.parse_bbox(bbox), org_unit_id=org_unit_id, text=q, limit=limit,
        after_id=after_id,
    )  # fmt: skip
    return [CameraOut.of(c) for c in cams]


@router.post("", response_model=ImportReport)
def register_cameras(
    body: list[CameraIn], principal: CurrentPrincipal, session: DbSession
) -> ImportReport:
    """Create or update cameras by owner + owner's camera id (idempotent); per-row errors."""
    if len(body) > MAX_BATCH:
        raise PayloadTooLarge(f"at most {MAX_BATCH} cameras per request; use the file import")
    rows = [(i + 1, row) for i, row in enumerate(body)]
    return registry.upsert_cameras(session, rows, actor=principal, source="api")


@router.post("/import", response_model=ImportReport)
def import_file(
    principal: CurrentPrincipal,
    session: DbSession,
    file: Annotated[UploadFile, File(description="CSV, GeoJSON or GeoPackage")],
    layer: str | None = None,
) -> ImportReport:
    """Import a camera file; rows are numbered by CSV line, feature index or fid."""
    data = read_capped(
        file,
        MAX_UPLOAD_BYTES,
        detail="file too large for upload; use `pingan cameras import`",
        field=None,
    )
    suffix = Path(file.filename or "upload").suffix.lower()
    if suffix not in (".csv", ".geojson", ".json", ".gpkg"):
        raise ValidationFailed("expected a .csv, .geojson, .json or .gpkg file", field="file")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"cameras{suffix}"
        path.write_bytes(data)
        rows, errors = io.read_file(path, layer=layer)
    return registry.upsert_cameras(
        session, rows, actor=principal, errors=errors, source=file.filename or "upload"
    )


@router.get("/owners", response_model=list[OwnerOut])
def list_owners(principal: CurrentPrincipal, session: DbSession) -> list[OwnerOut]:
    return [OwnerOut.model_validate(o) for o in registry.list_owners(session, actor=principal)]


@router.post("/owners", response_model=OwnerOut, status_code=201)
def create_owner(body: OwnerIn, principal: CurrentPrincipal, session: DbSession) -> OwnerOut:
    return OwnerOut.model_validate(registry.create_owner(session, body, actor=principal))


@router.get("/layer", response_class=JSONResponse)
def camera_layer(
    principal: CurrentPrincipal,
    session: DbSession,
    bbox: str = Query(..., description="lon0,lat0,lon1,lat1"),
    sectors: bool = Query(False, description="Field-of-view sectors instead of points"),
    limit: int = Query(20_000, ge=1, le=100_000),
) -> JSONResponse:
    """Cameras in a box as GeoJSON points or sectors."""
    doc = coverage.cameras_geojson(
        session, actor=principal, bbox=coverage.parse_bbox(bbox), sectors=sectors, limit=limit
    )
    return JSONResponse(doc, media_type=GEOJSON)


@router.get("/coverage", response_model=CoverageReport)
def coverage_report(
    principal: CurrentPrincipal,
    session: DbSession,
    level: Level = Level.DISTRICT,
    incident_days: int | None = Query(365, ge=1, le=3650),
    site_radius_m: float = Query(150.0, gt=0, le=2000),
) -> CoverageReport:
    """Covered street length and share per area, road class and key site."""
    return coverage.coverage_report(
        session, actor=principal, level=level, incident_days=incident_days,
        site_radius_m=site_radius_m,
    )  # fmt: skip


@router.get("/coverage/segments", response_class=JSONResponse)
def coverage_layer(
    principal: CurrentPrincipal,
    session: DbSession,
    bbox: str = Query(..., description="lon0,lat0,lon1,lat1"),
    limit: int = Query(20_000, ge=1, le=100_000),
) -> JSONResponse:
    """Street segments in a box with their camera count (0 = blind)."""
    doc = coverage.segments_geojson(
        session, actor=principal, bbox=coverage.parse_bbox(bbox), limit=limit
    )
    return JSONResponse(doc, media_type=GEOJSON)


@router.post("/coverage/recompute")
def recompute(principal: CurrentPrincipal, session: DbSession) -> dict[str, int]:
    """Recount every segment from the active cameras (a repair; updates are incremental)."""
    principal.require(Perm.CAMERAS_WRITE)
    # It touches the whole city, so only a city-wide grant may run it.
    if not principal.is_system and not any(
        g.level == Level.CITY.value for g in principal.grants_with(Perm.CAMERAS_WRITE)
    ):
        raise Forbidden("recomputing coverage needs cameras:write for the whole city")
    return {"changed": streets.recompute(session)}


@router.get("/blind-spots", response_class=JSONResponse)
def blind_spots(
    principal: CurrentPrincipal,
    session: DbSession,
    bbox: str | None = Query(None, description="lon0,lat0,lon1,lat1"),
    incident_days: int = Query(365, ge=1, le=3650),
    limit: int = Query(500, ge=1, le=20_000),
) -> JSONResponse:
    """Uncovered segments, ranked by incidents nearby, then population density."""
    doc = coverage.blind_spots(
        session, actor=principal, bbox=coverage.parse_bbox(bbox), incident_days=incident_days,
        limit=limit,
    )  # fmt: skip
    return JSONResponse(doc, media_type=GEOJSON)


@router.post("/plans", status_code=202)
def create_plan(
    body: PlanIn, request: Request, response: Response, principal: CurrentPrincipal,
    session: DbSession,
) -> dict[str, Any]:  # fmt: skip
    """Queue a placement plan; the job's result names the plan id."""
    job = planning.submit(session, body, actor=principal)
    session.commit()  # before waking the worker, so it finds the job
    worker = getattr(request.app.state, "job_worker", None)
    if worker is not None:
        worker.wake()
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return {"id": job.id, "kind": job.kind, "status": job.status,
            "status_url": f"/api/v1/jobs/{job.id}"}  # fmt: skip


@router.get("/plans", response_model=list[PlanOut])
def list_plans(principal: CurrentPrincipal, session: DbSession) -> list[PlanOut]:
    return [planning.plan_out(p) for p in planning.list_plans(session, actor=principal)]


@router.get("/plans/{plan_id}", response_model=PlanOut)
def get_plan(plan_id: int, principal: CurrentPrincipal, session: DbSession) -> PlanOut:
    return planning.plan_out(planning.get_plan(session, plan_id, actor=principal))


@router.get("/plans/{plan_id}/sites.geojson", response_class=JSONResponse)
def plan_geojson(plan_id: int, principal: CurrentPrincipal, session: DbSession) -> JSONResponse:
    plan = planning.get_plan(session, plan_id, actor=principal)
    return JSONResponse(planning.plan_geojson(plan), media_type=GEOJSON)


@router.get("/plans/{plan_id}/sites.csv", response_class=PlainTextResponse)
def plan_csv(plan_id: int, principal: CurrentPrincipal, session: DbSession) -> PlainTextResponse:
    plan = planning.get_plan(session, plan_id, actor=principal)
    return PlainTextResponse(planning.plan_csv(plan), media_type="text/csv")


@router.get("/tiles/coverage/{z}/{x}/{y}.png", response_class=Response)
def coverage_tile(
    z: int, x: int, y: int, principal: CurrentPrincipal, session: DbSession
) -> Response:
    """Street coverage as a PNG tile: seen pieces green, blind pieces red."""
    png = tiles.coverage_tile(session, actor=principal, z=z, x=x, y=y)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=60"})


@router.get("/tiles/cameras/{z}/{x}/{y}.png", response_class=Response)
def cameras_tile(
    z: int, x: int, y: int, principal: CurrentPrincipal, session: DbSession
) -> Response:
    """Cameras you may see as a PNG tile, coloured by network."""
    png = tiles.cameras_tile(session, actor=principal, z=z, x=x, y=y)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=60"})


def _mvt_response(request: Request, body: bytes) -> Response:
    # Tiles are scoped to the caller, so caches must be private; the ETag lets
    # the console revalidate a minute-old tile without downloading it again.
    etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    headers = {"Cache-Control": "private, max-age=60", "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=mvt.MEDIA_TYPE, headers=headers)


@router.get("/tiles/cameras/{z}/{x}/{y}.mvt", response_class=Response)
def cameras_vector_tile(
    z: int, x: int, y: int, request: Request, principal: CurrentPrincipal, session: DbSession
) -> Response:
    """Layer ``cameras``: clusters with counts at city zoom, single cameras from zoom 15."""
    return _mvt_response(request, mvt.cameras_tile(session, actor=principal, z=z, x=x, y=y))


@router.get("/tiles/coverage/{z}/{x}/{y}.mvt", response_class=Response)
def coverage_vector_tile(
    z: int, x: int, y: int, request: Request, principal: CurrentPrincipal, session: DbSession
) -> Response:
    """Layer ``segments``: street pieces with ``covered`` 0/1; major roads only below zoom 14."""
    body = mvt_coverage.coverage_tile(session, actor=principal, z=z, x=x, y=y)
    return _mvt_response(request, body)


@router.get("/{camera_id:int}", response_model=CameraOut)
def get_camera(camera_id: int, principal: CurrentPrincipal, session: DbSession) -> CameraOut:
    return CameraOut.of(registry.get_camera(session, camera_id, actor=principal))


@router.patch("/{camera_id:int}", response_model=CameraOut)
def update_camera(
    camera_id: int, body: CameraPatch, principal: CurrentPrincipal, session: DbSession
) -> CameraOut:
    """Move, re-aim or change status; coverage of the affected streets follows at once."""
    return CameraOut.of(registry.update_camera(session, camera_id, body, actor=principal))


@router.delete("/{camera_id:int}", response_model=CameraOut)
def retire_camera(camera_id: int, principal: CurrentPrincipal, session: DbSession) -> CameraOut:
    """Retire a camera (kept in the registry, no longer counted for coverage)."""
    return CameraOut.of(registry.retire_camera(session, camera_id, actor=principal))
