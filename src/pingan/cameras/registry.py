"""The camera registry: owners, who may manage which cameras, idempotent bulk upserts.

A camera is managed by city staff holding ``cameras:write`` over its grid,
or by the users linked to its owner (a school's security office manages the
school's cameras and nobody else's). Upserts are keyed by owner + the
owner's own camera id, so importing the same file twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from sqlalchemy import ColumnElement, false, insert, or_, select, true
from sqlalchemy.orm import Session

from pingan.cameras import streets
from pingan.cameras.models import Camera, CameraOwner, CameraOwnerUser, CameraStatus
from pingan.cameras.schemas import CameraIn, CameraPatch, ImportReport, OwnerIn, RowError
from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.kit.errors import Conflict, Forbidden, NotFound
from pingan.org.levels import Level
from pingan.org.models import OrgUnit, User
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.org.service import grid_locator, require_projector

READ = Perm.CAMERAS_READ
WRITE = Perm.CAMERAS_WRITE
CHUNK = 5_000
# Past this many changed cameras one full recompute beats per-camera updates.
INCREMENTAL_LIMIT = 2_000

# Fields compared to decide whether an upsert changes a camera.
_FIELDS = (
    "network", "name", "height_m", "heading_deg", "fov_deg", "range_m", "resolution", "ptz",
    "status", "installed_on", "access_level", "sharing_contact",
)  # fmt: skip

Progress = Callable[[int], None]


# --- owners ------------------------------------------------------------------


def create_owner(session: Session, owner_in: OwnerIn, *, actor: Principal) -> CameraOwner:
    actor.require(WRITE)
    if session.scalar(select(CameraOwner.id).where(CameraOwner.code == owner_in.code)):
        raise Conflict(f"owner {owner_in.code!r} already exists", field="code")
    owner = CameraOwner(**owner_in.model_dump())
    session.add(owner)
    session.flush()
    audit.record(
        session, actor=actor.actor, action="cameras.owner.create", object_type="camera_owner",
        object_id=owner.id, detail={"code": owner.code},
    )  # fmt: skip
    return owner


def list_owners(session: Session, *, actor: Principal) -> list[CameraOwner]:
    stmt = select(CameraOwner).order_by(CameraOwner.id)
    if not actor.can(READ):
        stmt = stmt.where(CameraOwner.id.in_(member_owner_ids(session, actor)))
    return list(session.scalars(stmt))


def owner_by_code(session: Session, code: str) -> CameraOwner:
    owner = session.scalar(select(CameraOwner).where(CameraOwner.code == code))
    if owner is None:
        raise NotFound(f"camera owner {code!r} not found", field="owner_code")
    return owner


def link_owner_user(session: Session, owner_code: str, username: str, *, actor: Principal) -> None:
    """Let a user manage one owner's cameras (and, through that link, only those)."""
    actor.require(Perm.USERS_ADMIN)
    owner = owner_by_code(session, owner_code)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user {username!r} not found", field="username")
    exists = session.scalar(
        select(CameraOwnerUser.id).where(
            CameraOwnerUser.owner_id == owner.id, CameraOwnerUser.user_id == user.id
        )
    )
    if exists is None:
        session.add(CameraOwnerUser(owner_id=owner.id, user_id=user.id))
        audit.record(
            session, actor=actor.actor, action="cameras.owner.link_user",
            object_type="camera_owner", object_id=owner.id, detail={"user": username},
        )  # fmt: skip
        session.flush()


def member_owner_ids(session: Session, actor: Principal) -> list[int]:
    if actor.user_id is None:
        return []
    return list(
        session.scalars(
            select(CameraOwnerUser.owner_id).where(CameraOwnerUser.user_id == actor.user_id)
        )
    )


# --- scope -------------------------------------------------------------------


def _unit_paths(session: Session, unit_ids: Iterable[int | None]) -> dict[int, str]:
    ids = sorted({u for u in unit_ids if u is not None})
    if not ids:
        return {}
    rows = session.execute(select(OrgUnit.id, OrgUnit.path).where(OrgUnit.id.in_(ids))).all()
    return {int(i): str(p) for i, p in rows}


def _allowed(
    actor: Principal, perm: str, owner_id: int, unit_path: str | None, members: set[int]
) -> bool:
    if actor.is_system or owner_id in members:
        return True
    if unit_path is None:
        # Outside every grid: only a city-wide grant covers it.
        return any(g.level == Level.CITY.value for g in actor.grants_with(perm))
    return actor.can(perm, unit_path)


def visible_filter(session: Session, actor: Principal) -> ColumnElement[bool]:
    """Cameras the actor may read: in scope of ``cameras:read``, or their owner's."""
    if actor.is_system:
        return true()
    members = member_owner_ids(session, actor)
    grants = actor.grants_with(READ)
    parts: list[ColumnElement[bool]] = []
    if members:
        parts.append(Camera.owner_id.in_(members))
    if grants:
        in_scope = select(OrgUnit.id).where(or_(*[OrgUnit.path.startswith(g.path) for g in grants]))
        parts.append(Camera.org_unit_id.in_(in_scope))
    return or_(*parts) if parts else false()


def get_camera(session: Session, camera_id: int, *, actor: Principal) -> Camera:
    cam = session.scalar(
        select(Camera).where(Camera.id == camera_id, visible_filter(session, actor))
    )
    if cam is None:
        raise NotFound(f"camera {camera_id} not found")
    return cam


def list_cameras(
    session: Session,
    *,
    actor: Principal,
    owner_id: int | None = None,
    network: str | None = None,
    status: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    org_unit_id: int | None = None,
    text: str | None = None,
    limit: int = 500,
    after_id: int | None = None,
) -> list[Camera]:
    stmt = select(Camera).where(visible_filter(session, actor)).order_by(Camera.id)
    if org_unit_id is not None:
        stmt = stmt.where(Camera.org_unit_id.in_(_subtree(session, org_unit_id)))
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                Camera.name.ilike(pattern, escape="\\"),
                Camera.owner_camera_id.ilike(pattern, escape="\\"),
            )
        )
    if owner_id is not None:
        stmt = stmt.where(Camera.owner_id == owner_id)
    if network is not None:
        stmt = stmt.where(Camera.network == network)
    if status is not None:
        stmt = stmt.where(Camera.status == status)
    if bbox is not None:
        x0, y0, x1, y1 = _metric_bbox(session, bbox)
        stmt = stmt.where(Camera.x.between(x0, x1), Camera.y.between(y0, y1))
    if after_id is not None:
        stmt = stmt.where(Camera.id > after_id)
    return list(session.scalars(stmt.limit(limit)))


def _subtree(session: Session, org_unit_id: int) -> Any:
    """Ids of an org unit and every unit under it (a camera's unit is its grid)."""
    path = session.scalar(select(OrgUnit.path).where(OrgUnit.id == org_unit_id))
    if path is None:
        raise NotFound(f"org unit {org_unit_id} not found", field="org_unit_id")
    return select(OrgUnit.id).where(OrgUnit.path.startswith(path))


def _metric_bbox(
    session: Session, bbox: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    proj = require_projector(session)
    lon0, lat0, lon1, lat1 = bbox
    xs, ys = proj.to_metric(np.array([lon0, lon1, lon0, lon1]), np.array([lat0, lat0, lat1, lat1]))
    return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


# --- writes ------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    line: int
    row: CameraIn
    owner_id: int
    x: float
    y: float
    grid_id: int | None
    point: shapely.Point


def upsert_cameras(
    session: Session,
    rows: Sequence[tuple[int, CameraIn]],
    *,
    actor: Principal,
    errors: Sequence[RowError] = (),
    progress: Progress | None = None,
    source: str = "api",
) -> ImportReport:
    """Create or update cameras keyed by owner + owner's id; every bad row is reported.

    Good rows are kept even when others fail. ``errors`` carries rows that
    already failed parsing, so one report covers the whole file.
    """
    report = ImportReport(errors=list(errors))
    members = set(member_owner_ids(session, actor))
    owners = {
        code: oid
        for code, oid in session.execute(
            select(CameraOwner.code, CameraOwner.id).where(
                CameraOwner.code.in_({r.owner_code for _, r in rows})
            )
        ).all()
    }
    proj = require_projector(session)
    locator = grid_locator(session)
    paths = locator.paths
    changes: list[tuple[streets.SectorSpec | None, streets.SectorSpec | None]] = []
    seen: set[tuple[int, str]] = set()
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        lon = np.array([r.lon for _, r in chunk], dtype=np.float64)
        lat = np.array([r.lat for _, r in chunk], dtype=np.float64)
        xs, ys = proj.to_metric(lon, lat)
        points = np.asarray(shapely.points(lon, lat), dtype=object)
        grids = locator.locate(lon, lat) if len(chunk) else np.zeros(0, dtype=np.int64)
        prepared: list[_Prepared] = []
        for k, (line, row) in enumerate(chunk):
            owner_id = owners.get(row.owner_code)
            if owner_id is None:
                report.errors.append(
                    RowError(line=line, owner_camera_id=row.owner_camera_id,
                             error=f"unknown owner {row.owner_code!r}")
                )  # fmt: skip
                continue
            if (owner_id, row.owner_camera_id) in seen:
                report.errors.append(
                    RowError(line=line, owner_camera_id=row.owner_camera_id,
                             error="the same camera appears twice in this batch")
                )  # fmt: skip
                continue
            grid = int(grids[k])
            grid_id = grid if grid >= 0 else None
            if not _allowed(actor, WRITE, owner_id, paths.get(grid) if grid_id else None, members):
                report.errors.append(
                    RowError(line=line, owner_camera_id=row.owner_camera_id,
                             error="not permitted to manage this owner's cameras here")
                )  # fmt: skip
                continue
            seen.add((owner_id, row.owner_camera_id))
            prepared.append(
                _Prepared(line, row, owner_id, float(xs[k]), float(ys[k]), grid_id, points[k])
            )
        _write_chunk(session, prepared, report, changes)
        if progress is not None:
            progress(len(chunk))
    report.rejected = len(report.errors)
    report.segments_updated = streets.apply_changes(session, changes, limit=INCREMENTAL_LIMIT)
    audit.record(
        session, actor=actor.actor, action="cameras.import", object_type="camera",
        detail={"source": source, "created": report.created, "updated": report.updated,
                "unchanged": report.unchanged, "rejected": report.rejected},
    )  # fmt: skip
    return report


def _values(p: _Prepared) -> dict[str, Any]:
    r = p.row
    return {
        "owner_id": p.owner_id, "owner_camera_id": r.owner_camera_id, "network": r.network.value,
        "name": r.name, "status": r.status.value, "org_unit_id": p.grid_id,
        "location": p.point, "x": p.x, "y": p.y, "height_m": r.height_m,
        "heading_deg": r.heading_deg, "fov_deg": r.fov_deg, "range_m": r.range_m,
        "resolution": r.resolution, "ptz": r.ptz, "installed_on": r.installed_on,
        "access_level": r.access_level.value, "sharing_contact": r.sharing_contact,
    }  # fmt: skip


def _write_chunk(
    session: Session,
    prepared: list[_Prepared],
    report: ImportReport,
    changes: list[tuple[streets.SectorSpec | None, streets.SectorSpec | None]],
) -> None:
    if not prepared:
        return
    keys = {(p.owner_id, p.row.owner_camera_id) for p in prepared}
    existing: dict[tuple[int, str], Camera] = {}
    by_owner: dict[int, list[str]] = {}
    for owner_id, cid in keys:
        by_owner.setdefault(owner_id, []).append(cid)
    for owner_id, cids in by_owner.items():
        for found in session.scalars(
            select(Camera).where(Camera.owner_id == owner_id, Camera.owner_camera_id.in_(cids))
        ):
            existing[(found.owner_id, found.owner_camera_id)] = found
    now = utcnow()
    new_rows: list[dict[str, Any]] = []
    for p in prepared:
        values = _values(p)
        cam = existing.get((p.owner_id, p.row.owner_camera_id))
        if cam is None:
            new_rows.append({**values, "created_at": now, "updated_at": now})
            changes.append((None, streets.SectorSpec.of_values(values)))
            continue
        moved = abs(cam.x - p.x) > 1e-6 or abs(cam.y - p.y) > 1e-6
        differs = moved or any(getattr(cam, f) != values[f] for f in _FIELDS)
        if not differs:
            report.unchanged += 1
            continue
        before = streets.SectorSpec.of_camera(cam)
        for key, value in values.items():
            setattr(cam, key, value)
        cam.updated_at = now
        changes.append((before, streets.SectorSpec.of_camera(cam)))
        report.updated += 1
    if new_rows:
        session.execute(insert(Camera), new_rows)
        report.created += len(new_rows)
    session.flush()


def update_camera(
    session: Session, camera_id: int, patch: CameraPatch, *, actor: Principal
) -> Camera:
    """Move, re-aim or change the status of one camera; coverage follows incrementally."""
    cam = get_camera(session, camera_id, actor=actor)
    members = set(member_owner_ids(session, actor))
    path = _unit_paths(session, [cam.org_unit_id]).get(cam.org_unit_id or -1)
    if not _allowed(actor, WRITE, cam.owner_id, path, members):
        raise Forbidden("not permitted to manage this camera")
    before = streets.SectorSpec.of_camera(cam)
    changes_made = patch.model_dump(exclude_unset=True)
    changed = dict(changes_made)
    if ("lon" in changed) != ("lat" in changed):
        from pingan.kit.errors import ValidationFailed

        raise ValidationFailed("a move needs both lon and lat", field="lon")
    if "lon" in changed:
        lon, lat = float(changed.pop("lon")), float(changed.pop("lat"))
        proj = require_projector(session)
        xs, ys = proj.to_metric(np.array([lon]), np.array([lat]))
        grid = int(grid_locator(session).locate(np.array([lon]), np.array([lat]))[0])
        new_path = grid_locator(session).paths.get(grid) if grid >= 0 else None
        if not _allowed(actor, WRITE, cam.owner_id, new_path, members):
            raise Forbidden("not permitted to move this camera there")
        cam.location = shapely.Point(lon, lat)
        cam.x, cam.y = float(xs[0]), float(ys[0])
        cam.org_unit_id = grid if grid >= 0 else None
    for key, value in changed.items():
        setattr(cam, key, value.value if hasattr(value, "value") else value)
    cam.updated_at = utcnow()
    session.flush()
    streets.apply_changes(session, [(before, streets.SectorSpec.of_camera(cam))])
    audit.record(
        session, actor=actor.actor, action="cameras.update", object_type="camera",
        object_id=cam.id, detail={k: str(v) for k, v in changes_made.items()},
    )  # fmt: skip
    return cam


def retire_camera(session: Session, camera_id: int, *, actor: Principal) -> Camera:
    return update_camera(session, camera_id, CameraPatch(status=CameraStatus.RETIRED), actor=actor)


def count_cameras(session: Session) -> int:
    from sqlalchemy import func

    return int(session.scalar(select(func.count()).select_from(Camera)) or 0)
