"""Camera health: scope, offline detection after silence, notices and escalation, reads.

A camera is offline when it says so or when nothing has been heard from it
for ``PINGAN_CAMERA_OFFLINE_AFTER_S`` seconds; each such stretch is an
outage interval. The periodic check (job ``cameras.health.check``) finds the
silent cameras and sends the notices: the operations centre hears of an
outage when it opens, the owner's contact gets a reminder after one hour and
another after one day, each exactly once (a unique key per outage and kind).
Cameras in maintenance or retired are not watched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely.geometry
from sqlalchemy import (
    ColumnElement,
    Engine,
    Table,
    and_,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pingan.cameras.health_models import (
    CameraLiveState,
    CameraOutage,
    CameraOutageNotice,
    LiveState,
    NoticeKind,
    OutageCause,
)
from pingan.cameras.models import Camera, CameraOwner, CameraOwnerUser, CameraStatus
from pingan.kit import audit, jobs
from pingan.kit.db import is_postgres, session_scope, utcnow
from pingan.kit.errors import NotFound
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.settings import get_settings

READ = Perm.CAMERAS_HEALTH_READ.value
REPORT = Perm.CAMERAS_HEALTH_REPORT.value
CHECK_KIND = "cameras.health.check"
OPERATIONS = "operations centre"
REMINDERS = ((NoticeKind.REMINDER_1H, dt.timedelta(hours=1)),
             (NoticeKind.REMINDER_1D, dt.timedelta(days=1)))  # fmt: skip


# --- scope -----------------------------------------------------------------


def _owned_by(session: Session, actor: Principal) -> set[int]:
    if actor.user_id is None:
        return set()
    rows = session.scalars(
        select(CameraOwnerUser.owner_id).where(CameraOwnerUser.user_id == actor.user_id)
    )
    return {int(r) for r in rows}


def report_scope(session: Session, actor: Principal) -> tuple[tuple[str, ...], set[int]]:
    """Org paths where the actor may report heartbeats, and the owners it acts for."""
    prefixes = tuple(g.path for g in actor.grants_with(REPORT))
    return prefixes, _owned_by(session, actor)


def camera_scope(session: Session, actor: Principal, perm: str = READ) -> ColumnElement[bool]:
    """Cameras whose org unit the actor's grants cover, or whose owner the actor acts for."""
    if actor.is_system:
        return literal(True)
    clauses: list[ColumnElement[bool]] = [
        Camera.org_unit_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(g.path)))
        for g in actor.grants_with(perm)
    ]
    owners = _owned_by(session, actor)
    if owners:
        clauses.append(Camera.owner_id.in_(sorted(owners)))
    return or_(*clauses) if clauses else false()


def require_read(session: Session, actor: Principal) -> None:
    """Health reads need the read permission somewhere, or acting for an owner."""
    if not actor.can(READ) and not _owned_by(session, actor):
        actor.require(READ)


def require_report(session: Session, actor: Principal) -> None:
    """Heartbeats need the report permission somewhere, or acting for an owner."""
    if not actor.can(REPORT) and not _owned_by(session, actor):
        actor.require(REPORT)


def require_camera(session: Session, camera_id: int, actor: Principal, perm: str = READ) -> Camera:
    """The camera, or 404 when it does not exist or lies outside the actor's scope."""
    camera = session.scalar(
        select(Camera).where(Camera.id == camera_id, camera_scope(session, actor, perm))
    )
    if camera is None:
        raise NotFound(f"camera {camera_id} not found")
    return camera


# --- offline detection and notices -------------------------------------------


@dataclass
class CheckReport:
    went_silent: list[int] = field(default_factory=list)
    notices: dict[str, int] = field(default_factory=dict)


def check(
    session: Session,
    *,
    now: dt.datetime | None = None,
    silence: dt.timedelta | None = None,
    actor: Principal | None = None,
) -> CheckReport:
    """Open outages for silent cameras, then send the notices that are due."""
    now = now or utcnow()
    if silence is None:
        silence = dt.timedelta(seconds=get_settings().camera_offline_after_s)
    actor = actor or Principal.system("scheduler")
    report = CheckReport(went_silent=_mark_silent(session, now - silence, now))
    report.notices = send_due_notices(session, now)
    if report.went_silent or any(report.notices.values()):
        audit.record(
            session, actor=actor.actor, action="cameras.health.check",
            object_type="camera_health",
            detail={"went_silent": len(report.went_silent), "notices": report.notices},
        )  # fmt: skip
    return report


def _mark_silent(session: Session, cutoff: dt.datetime, now: dt.datetime) -> list[int]:
    """Online, active cameras not heard since ``cutoff`` go offline as of their last heartbeat."""
    s = CameraLiveState
    active = select(Camera.id).where(Camera.status == CameraStatus.ACTIVE.value)
    # PostgreSQL re-checks the condition on a row a concurrent heartbeat just
    # updated, so that camera stays online. A heartbeat whose batch read the
    # state before this commits is applied without a transition; the camera's
    # next heartbeat then closes the outage.
    rows = session.execute(
        update(s)
        .where(s.state == LiveState.ONLINE.value, s.last_seen_at < cutoff, s.camera_id.in_(active))
        .values(state=LiveState.OFFLINE.value, state_since=s.last_seen_at)
        .returning(s.camera_id, s.last_seen_at)
    ).all()
    if not rows:
        return []
    outage = CameraOutage.__table__
    assert isinstance(outage, Table)
    created = session.execute(
        outage.insert().returning(outage.c.id),
        [
            {"camera_id": int(r[0]), "started_at": r[1], "ended_at": None,
             "cause": OutageCause.SILENT.value, "detected_at": now}
            for r in rows
        ],
    ).all()  # fmt: skip
    add_notices(session, [int(r[0]) for r in created], NoticeKind.OPENED, now)
    return sorted(int(r[0]) for r in rows)


def open_outage(
    session: Session,
    state: CameraLiveState,
    *,
    at: dt.datetime,
    cause: OutageCause,
    now: dt.datetime,
) -> int:
    """Mark one online camera offline as of ``at``; returns the new outage's id."""
    state.state, state.state_since = LiveState.OFFLINE.value, at
    outage = CameraOutage(camera_id=state.camera_id, started_at=at, cause=cause.value,
                          detected_at=now)  # fmt: skip
    session.add(outage)
    session.flush()
    return int(outage.id)


def add_notices(
    session: Session, outage_ids: Sequence[int], kind: NoticeKind, now: dt.datetime
) -> None:
    """Operations-centre notices (opened, recovered) for the given outages."""
    if not outage_ids:
        return
    values = [
        {"outage_id": i, "kind": kind.value, "recipient": OPERATIONS, "created_at": now}
        for i in outage_ids
    ]
    session.execute(_insert_ignore(session), values)


def _insert_ignore(session: Session) -> Any:
    dialect = postgresql if is_postgres(session) else sqlite
    return dialect.insert(CameraOutageNotice).on_conflict_do_nothing(
        index_elements=["outage_id", "kind"]
    )


def owner_contact() -> ColumnElement[str]:
    """Who hears about an owner's camera: the agreement's contact, else the owner's."""
    return func.coalesce(
        Camera.sharing_contact,
        CameraOwner.contact_phone,
        CameraOwner.contact_email,
        CameraOwner.contact_name,
        "owner " + CameraOwner.code,
    )


def send_due_notices(session: Session, now: dt.datetime) -> dict[str, int]:
    """Reminders to owners for outages still open after 1 h and after 1 day, once each."""
    o, n = CameraOutage, CameraOutageNotice
    sent: dict[str, int] = {}
    for kind, after in REMINDERS:
        due = (
            select(o.id, literal(kind.value), owner_contact(), literal(now, o.detected_at.type))
            .join(Camera, Camera.id == o.camera_id)
            .join(CameraOwner, CameraOwner.id == Camera.owner_id)
            .where(
                o.ended_at.is_(None),
                o.started_at <= now - after,
                # A camera put into maintenance or retired meanwhile needs no chasing.
                Camera.status == CameraStatus.ACTIVE.value,
                ~exists().where(and_(n.outage_id == o.id, n.kind == kind.value)),
            )
        )
        stmt = _insert_ignore(session).from_select(
            ["outage_id", "kind", "recipient", "created_at"], due
        )
        # RETURNING counts the rows on both backends (rowcount is -1 on some drivers).
        sent[kind.value] = len(session.execute(stmt.returning(n.id)).all())
    return sent


# --- reads ------------------------------------------------------------------


@dataclass(frozen=True)
class CameraHealth:
    camera_id: int
    owner_id: int
    network: str
    name: str | None
    state: str  # online, offline, or unknown when never heard from
    state_since: dt.datetime | None
    last_seen_at: dt.datetime | None
    fps: float | None
    bitrate_kbps: float | None
    reports: int


def list_health(
    session: Session,
    *,
    actor: Principal,
    state: str | None = None,
    network: str | None = None,
    owner_id: int | None = None,
    limit: int = 100,
    after_id: int = 0,
) -> list[CameraHealth]:
    """Live state of the cameras in scope, by camera id (keyset pages)."""
    require_read(session, actor)
    s = CameraLiveState
    stmt = (
        select(
            Camera.id,
            Camera.owner_id,
            Camera.network,
            Camera.name,
            s.state,
            s.state_since,
            s.last_seen_at,
            s.fps,
            s.bitrate_kbps,
            s.reports,
        )
        .outerjoin(s, s.camera_id == Camera.id)
        .where(camera_scope(session, actor), Camera.id > after_id)
        .order_by(Camera.id)
        .limit(limit)
    )
    if state == "unknown":
        stmt = stmt.where(s.camera_id.is_(None))
    elif state is not None:
        stmt = stmt.where(s.state == state)
    if network is not None:
        stmt = stmt.where(Camera.network == network)
    if owner_id is not None:
        stmt = stmt.where(Camera.owner_id == owner_id)
    return [
        CameraHealth(
            int(r[0]),
            int(r[1]),
            r[2],
            r[3],
            r[4] or "unknown",
            r[5],
            r[6],
            r[7],
            r[8],
            int(r[9] or 0),
        )
        for r in session.execute(stmt).all()
    ]


def summary(session: Session, *, actor: Principal) -> list[dict[str, Any]]:
    """Active cameras in scope per network: how many are online, offline, never heard from."""
    require_read(session, actor)
    s = CameraLiveState
    state = func.coalesce(s.state, "unknown")
    rows = session.execute(
        select(Camera.network, state, func.count())
        .outerjoin(s, s.camera_id == Camera.id)
        .where(camera_scope(session, actor), Camera.status == CameraStatus.ACTIVE.value)
        .group_by(Camera.network, state)
        .order_by(Camera.network)
    ).all()
    out: dict[str, dict[str, Any]] = {}
    for network, st, n in rows:
        entry = out.setdefault(
            network, {"network": network, "online": 0, "offline": 0, "unknown": 0}
        )
        entry[st] = int(n)
    return list(out.values())


def offline_features(session: Session, *, actor: Principal, limit: int = 10_000) -> dict[str, Any]:
    """Cameras offline now as a GeoJSON FeatureCollection (the map layer of what is down)."""
    require_read(session, actor)
    s = CameraLiveState
    rows = session.execute(
        select(Camera.id, Camera.network, Camera.owner_id, Camera.location, s.state_since,
               s.last_seen_at)
        .join(s, s.camera_id == Camera.id)
        .where(camera_scope(session, actor), s.state == LiveState.OFFLINE.value)
        .order_by(s.state_since)
        .limit(limit)
    ).all()  # fmt: skip
    features = [
        {
            "type": "Feature",
            "id": int(r[0]),
            "geometry": shapely.geometry.mapping(r[3]),
            "properties": {
                "camera_id": int(r[0]),
                "network": r[1],
                "owner_id": int(r[2]),
                "offline_since": r[4].isoformat(),
                "last_seen_at": r[5].isoformat(),
            },
        }
        for r in rows
    ]
    return {"type": "FeatureCollection", "features": features}


@dataclass(frozen=True)
class OutageView:
    id: int
    camera_id: int
    started_at: dt.datetime
    ended_at: dt.datetime | None
    cause: str
    detected_at: dt.datetime
    notices: tuple[tuple[str, str, dt.datetime], ...]  # (kind, recipient, at)


def list_outages(
    session: Session,
    *,
    actor: Principal,
    open_only: bool = False,
    camera_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[OutageView]:
    """Outages of cameras in scope, newest first; ``since``/``until`` select overlapping ones."""
    require_read(session, actor)
    o = CameraOutage
    stmt = (
        select(o)
        .join(Camera, Camera.id == o.camera_id)
        .where(camera_scope(session, actor))
        .order_by(o.started_at.desc(), o.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if open_only:
        stmt = stmt.where(o.ended_at.is_(None))
    if camera_id is not None:
        stmt = stmt.where(o.camera_id == camera_id)
    if since is not None:
        stmt = stmt.where(or_(o.ended_at.is_(None), o.ended_at > since))
    if until is not None:
        stmt = stmt.where(o.started_at < until)
    outages = list(session.scalars(stmt))
    notices: dict[int, list[tuple[str, str, dt.datetime]]] = {x.id: [] for x in outages}
    if outages:
        n = CameraOutageNotice
        for row in session.execute(
            select(n.outage_id, n.kind, n.recipient, n.created_at)
            .where(n.outage_id.in_(list(notices)))
            .order_by(n.id)
        ):
            notices[int(row[0])].append((row[1], row[2], row[3]))
    return [
        OutageView(
            x.id,
            x.camera_id,
            x.started_at,
            x.ended_at,
            x.cause,
            x.detected_at,
            tuple(notices[x.id]),
        )
        for x in outages
    ]


# --- the periodic job ---------------------------------------------------------


@jobs.register(CHECK_KIND, "Mark silent cameras offline and send outage reminders")
def _check_job(engine: Engine, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    with session_scope(engine) as session:
        report = check(session)
    return {"went_silent": len(report.went_silent), "notices": report.notices}
