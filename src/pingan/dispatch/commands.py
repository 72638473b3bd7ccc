"""Command mode: activate a command for a major event or emergency, run it, close it.

A command belongs to one org unit (a city- or district-level command) and
sees the incidents, assignments and responders of that unit's subtree.
Activation calls up tiers and may pre-position teams at the key sites
(``command.preposition``); everyone with dispatch rights writes to one shared
log; the situation board is computed live from the tables; deactivation
freezes an after-action summary. Every step is also in the audit log.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pingan.dispatch.assignment_models import Assignment, AssignmentStatus
from pingan.dispatch.command import preposition
from pingan.dispatch.command_models import (
    Command,
    CommandKind,
    CommandLogEntry,
    CommandStatus,
    LogKind,
)
from pingan.dispatch.kpis import Targets
from pingan.dispatch.responder_models import Availability, Responder
from pingan.incidents.models import Incident, IncidentType
from pingan.incidents.models import Status as IncidentStatus
from pingan.incidents.service import in_unit_clause
from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.kit.errors import Conflict, NotFound, ValidationFailed
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.permissions import Perm
from pingan.org.principal import Principal

# A command is city- or district-level (the "city-level or district-level command").
COMMAND_LEVELS = (Level.CITY.value, Level.DISTRICT.value)
MAX_LOG_TEXT = 2000
OPEN_INCIDENT = (IncidentStatus.REPORTED, IncidentStatus.DISPATCHED, IncidentStatus.ON_SCENE)


def _unit(session: Session, code: str) -> OrgUnit:
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        raise ValidationFailed(f"org unit {code!r} does not exist", field="unit")
    if unit.level not in COMMAND_LEVELS:
        raise ValidationFailed(
            f"a command is city- or district-level; {code!r} is a {unit.level}", field="unit"
        )
    return unit


def _log(
    session: Session,
    command: Command,
    *,
    actor: str,
    kind: LogKind,
    text: str,
    at: dt.datetime,
    incident_id: int | None = None,
) -> CommandLogEntry:
    entry = CommandLogEntry(
        command_id=command.id, at=at, actor=actor, kind=kind.value, text=text,
        incident_id=incident_id,
    )  # fmt: skip
    session.add(entry)
    session.flush()
    audit.record(
        session, actor=actor, action=f"dispatch.command.log.{kind.value}",
        object_type="command", object_id=command.id,
        detail={"entry_id": entry.id, "text": text, "incident_id": incident_id},
    )  # fmt: skip
    return entry


def activate(
    session: Session,
    *,
    actor: Principal,
    name: str,
    kind: CommandKind,
    unit_code: str,
    tiers: list[int],
    posts: int = 0,
    site_kind: str | None = None,
    objective: str = "center",
    now: dt.datetime | None = None,
) -> Command:
    """Open a command; with ``posts`` > 0, also compute where to pre-position teams."""
    now = now or utcnow()
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed("name must be 1-200 characters", field="name")
    if not tiers or any(t not in (1, 2, 3) for t in tiers):
        raise ValidationFailed("tiers must be a non-empty subset of 1, 2, 3", field="tiers")
    unit = _unit(session, unit_code)
    actor.require(Perm.DISPATCH_WRITE, unit.path)
    running = session.scalar(
        select(Command.id).where(
            Command.org_unit_id == unit.id, Command.status == CommandStatus.ACTIVE
        )
    )
    if running is not None:
        raise Conflict(f"command {running} is already active for {unit_code}", field="unit")
    plan: dict[str, object] = {}
    placed = None
    if posts > 0:
        placed = preposition(
            session, actor=actor, p=posts, objective=objective, site_kind=site_kind
        )
        plan = {
            "objective": objective,
            "sites": placed.sites,
            "worst_s": placed.worst_s,
            "mean_s": placed.mean_s,
            "exact": placed.exact,
            "posts": [asdict(p) for p in placed.posts],
        }
    command = Command(
        name=name, kind=kind.value, org_unit_id=unit.id, org_path=unit.path,
        status=CommandStatus.ACTIVE.value, tiers=sorted(set(tiers)), site_kind=site_kind,
        posts=plan, activated_at=now, activated_by=actor.actor,
    )  # fmt: skip
    session.add(command)
    session.flush()
    _log(session, command, actor=actor.actor, kind=LogKind.SYSTEM, at=now,
         text=f"{kind.value} command activated for {unit.code} ({unit.name_en})")  # fmt: skip
    _log(session, command, actor=actor.actor, kind=LogKind.SYSTEM, at=now,
         text="tiers called up: " + ", ".join(str(t) for t in command.tiers))  # fmt: skip
    if placed is not None:
        _log(
            session, command, actor=actor.actor, kind=LogKind.SYSTEM, at=now,
            text=(f"{posts} standby posts for {placed.sites} sites; worst travel "
                  f"{placed.worst_s:.0f} s"),
        )  # fmt: skip
    audit.record(
        session, actor=actor.actor, action="dispatch.command.activate", object_type="command",
        object_id=command.id, detail={"unit": unit.code, "kind": kind.value, "tiers": tiers},
    )  # fmt: skip
    return command


def get_command(session: Session, command_id: int, *, actor: Principal, perm: str) -> Command:
    command = session.get(Command, command_id)
    # Out of scope looks like missing.
    if command is None or not actor.can(perm, command.org_path):
        raise NotFound(f"command {command_id} not found")
    return command


def list_commands(
    session: Session, *, actor: Principal, status: CommandStatus | None = None
) -> list[Command]:
    actor.require(Perm.DISPATCH_READ)
    query = select(Command).order_by(Command.id.desc())
    if status is not None:
        query = query.where(Command.status == status.value)
    return [c for c in session.scalars(query) if actor.can(Perm.DISPATCH_READ, c.org_path)]


def add_log(
    session: Session,
    *,
    command_id: int,
    actor: Principal,
    kind: LogKind,
    text: str,
    incident_id: int | None = None,
    now: dt.datetime | None = None,
) -> CommandLogEntry:
    if kind == LogKind.SYSTEM:
        raise ValidationFailed("system entries are written by Pingan itself", field="kind")
    text = text.strip()
    if not text or len(text) > MAX_LOG_TEXT:
        raise ValidationFailed(f"text must be 1-{MAX_LOG_TEXT} characters", field="text")
    command = get_command(session, command_id, actor=actor, perm=Perm.DISPATCH_WRITE)
    if command.status != CommandStatus.ACTIVE:
        raise Conflict("the command is closed; its log is final", field="command_id")
    if incident_id is not None and session.get(Incident, incident_id) is None:
        raise ValidationFailed(f"incident {incident_id} does not exist", field="incident_id")
    return _log(session, command, actor=actor.actor, kind=kind, text=text, at=now or utcnow(),
                incident_id=incident_id)  # fmt: skip


def log_entries(
    session: Session, *, command_id: int, actor: Principal, after_id: int = 0, limit: int = 500
) -> list[CommandLogEntry]:
    get_command(session, command_id, actor=actor, perm=Perm.DISPATCH_READ)
    return list(
        session.scalars(
            select(CommandLogEntry)
            .where(CommandLogEntry.command_id == command_id, CommandLogEntry.id > after_id)
            .order_by(CommandLogEntry.id)
            .limit(limit)
        )
    )


def _window(command: Command, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    return command.activated_at, command.deactivated_at or now


def _incident_filter(session: Session, command: Command, now: dt.datetime) -> list[Any]:
    unit = session.get(OrgUnit, command.org_unit_id)
    assert unit is not None
    since, until = _window(command, now)
    return [
        in_unit_clause(unit.level, unit.id),
        Incident.reported_at >= since,
        Incident.reported_at < until,
    ]


def board(
    session: Session, *, command_id: int, actor: Principal, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The situation board: what is open, who is out, who is free, and the latest log."""
    now = now or utcnow()
    command = get_command(session, command_id, actor=actor, perm=Perm.DISPATCH_READ)
    where = _incident_filter(session, command, now)
    by_status = dict(
        session.execute(
            select(Incident.status, func.count()).where(*where).group_by(Incident.status)
        ).all()
    )
    open_rows = session.execute(
        select(Incident.id, IncidentType.code, Incident.severity, Incident.status,
               Incident.reported_at, Incident.lon, Incident.lat)
        .join(IncidentType, IncidentType.id == Incident.type_id)
        .where(*where, Incident.status.in_([s.value for s in OPEN_INCIDENT]))
        .order_by(Incident.severity.desc(), Incident.reported_at)
        .limit(50)
    ).all()  # fmt: skip
    assignments = dict(
        session.execute(
            select(Assignment.status, func.count())
            .join(Incident, Incident.id == Assignment.incident_id)
            .where(*where)
            .group_by(Assignment.status)
        ).all()
    )
    free = dict(
        session.execute(
            select(Responder.tier, func.count())
            .join(OrgUnit, OrgUnit.id == Responder.org_unit_id)
            .where(
                OrgUnit.path.startswith(command.org_path),
                Responder.availability == Availability.AVAILABLE,
                Responder.tier.in_(command.tiers),
            )
            .group_by(Responder.tier)
        ).all()
    )
    log = list(
        session.scalars(
            select(CommandLogEntry)
            .where(CommandLogEntry.command_id == command.id)
            .order_by(CommandLogEntry.id.desc())
            .limit(20)
        )
    )
    return {
        "command": command,
        "as_of": now,
        "elapsed_s": (now - command.activated_at).total_seconds(),
        "incidents_by_status": {str(k): int(v) for k, v in by_status.items()},
        "open_incidents": [
            {
                "id": r[0],
                "type": r[1],
                "severity": r[2],
                "status": r[3],
                "reported_at": r[4],
                "lon": r[5],
                "lat": r[6],
            }
            for r in open_rows
        ],
        "assignments_by_status": {str(k): int(v) for k, v in assignments.items()},
        "available_by_tier": {int(k): int(v) for k, v in free.items()},
        "posts": command.posts,
        "latest_log": log,
    }


def after_action(
    session: Session, command: Command, now: dt.datetime, targets: Targets = Targets()
) -> dict[str, Any]:
    """What happened during the command, from the tables, for the after-action review."""
    where = _incident_filter(session, command, now)
    by_type = dict(
        session.execute(
            select(IncidentType.code, func.count())
            .join(Incident, Incident.type_id == IncidentType.id)
            .where(*where)
            .group_by(IncidentType.code)
        ).all()
    )
    rows = list(
        session.scalars(
            select(Assignment).join(Incident, Incident.id == Assignment.incident_id).where(*where)
        )
    )
    timed_out = sum(1 for a in rows if a.status == AssignmentStatus.TIMED_OUT)
    to_scene = [
        (a.on_scene_at - a.dispatched_at).total_seconds() for a in rows if a.on_scene_at is not None
    ]
    travel = [
        (a.on_scene_at - a.en_route_at).total_seconds()
        for a in rows
        if a.on_scene_at is not None and a.en_route_at is not None
    ]
    entries = dict(
        session.execute(
            select(CommandLogEntry.kind, func.count())
            .where(CommandLogEntry.command_id == command.id)
            .group_by(CommandLogEntry.kind)
        ).all()
    )
    since, until = _window(command, now)
    return {
        "duration_s": (until - since).total_seconds(),
        "incidents": int(sum(by_type.values())),
        "incidents_by_type": {str(k): int(v) for k, v in sorted(by_type.items())},
        "assignments": len(rows),
        "timed_out": timed_out,
        "reached_scene": len(to_scene),
        "dispatch_to_scene_median_s": statistics.median(to_scene) if to_scene else None,
        "travel_within_target_share": (
            sum(1 for t in travel if t <= targets.travel_s) / len(travel) if travel else None
        ),
        "travel_target_s": targets.travel_s,
        "log_entries_by_kind": {str(k): int(v) for k, v in sorted(entries.items())},
    }


def deactivate(
    session: Session,
    *,
    command_id: int,
    actor: Principal,
    note: str = "",
    now: dt.datetime | None = None,
) -> Command:
    now = now or utcnow()
    command = get_command(session, command_id, actor=actor, perm=Perm.DISPATCH_WRITE)
    if command.status != CommandStatus.ACTIVE:
        raise Conflict("the command is already closed", field="command_id")
    if note.strip():
        _log(session, command, actor=actor.actor, kind=LogKind.DECISION, text=note.strip(), at=now)
    _log(session, command, actor=actor.actor, kind=LogKind.SYSTEM, at=now,
         text="command deactivated")  # fmt: skip
    command.summary = after_action(session, command, now)
    command.status = CommandStatus.CLOSED.value
    command.deactivated_at = now
    command.deactivated_by = actor.actor
    audit.record(
        session, actor=actor.actor, action="dispatch.command.deactivate", object_type="command",
        object_id=command.id, detail={"summary": command.summary},
    )  # fmt: skip
    return command
