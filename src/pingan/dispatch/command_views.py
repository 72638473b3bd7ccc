"""HTTP routes of command mode, patrol planning, response plans, rosters and one-tap links."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

import shapely
from fastapi import APIRouter, Query

from pingan.api.deps import CurrentPrincipal, DbSession
from pingan.dispatch import commands, onetap, patrols, plans, shifts
from pingan.dispatch.command_models import CommandStatus
from pingan.dispatch.command_schemas import (
    AckLinkOut,
    AckView,
    BoardOut,
    CommandIn,
    CommandOut,
    DeactivateIn,
    LogIn,
    LogOut,
    PatrolIn,
    ShiftBody,
    ShiftOut,
)
from pingan.dispatch.shift_models import ShiftKind
from pingan.kit.errors import ValidationFailed

router = APIRouter(prefix="/api/v1/dispatch", tags=["dispatch: command mode"])
# No login: a volunteer's phone opens the link that was sent to it.
public_router = APIRouter(prefix="/api/v1/public/ack", tags=["dispatch: command mode"])


@router.get("/commands")
def list_commands(
    principal: CurrentPrincipal, session: DbSession, status: CommandStatus | None = None
) -> list[CommandOut]:
    found = commands.list_commands(session, actor=principal, status=status)
    return [CommandOut.model_validate(c) for c in found]


@router.post("/commands", status_code=201)
def activate_command(
    body: CommandIn, principal: CurrentPrincipal, session: DbSession
) -> CommandOut:
    """Activate a command: call up tiers and, with ``posts``, pre-position teams."""
    command = commands.activate(
        session, actor=principal, name=body.name, kind=body.kind, unit_code=body.unit,
        tiers=body.tiers, posts=body.posts, site_kind=body.site_kind, objective=body.objective,
    )  # fmt: skip
    return CommandOut.model_validate(command)


@router.get("/commands/{command_id}")
def get_command(command_id: int, principal: CurrentPrincipal, session: DbSession) -> CommandOut:
    command = commands.get_command(session, command_id, actor=principal, perm="dispatch:read")
    return CommandOut.model_validate(command)


@router.get("/commands/{command_id}/board")
def command_board(command_id: int, principal: CurrentPrincipal, session: DbSession) -> BoardOut:
    """The situation board, computed now."""
    board = commands.board(session, command_id=command_id, actor=principal)
    board["command"] = CommandOut.model_validate(board["command"])
    board["latest_log"] = [LogOut.model_validate(e) for e in board["latest_log"]]
    return BoardOut.model_validate(board)


@router.get("/commands/{command_id}/log")
def command_log(
    command_id: int,
    principal: CurrentPrincipal,
    session: DbSession,
    after_id: int = Query(0, ge=0),
    limit: int = Query(500, ge=1, le=5000),
) -> list[LogOut]:
    entries = commands.log_entries(
        session, command_id=command_id, actor=principal, after_id=after_id, limit=limit
    )
    return [LogOut.model_validate(e) for e in entries]


@router.post("/commands/{command_id}/log", status_code=201)
def add_log_entry(
    command_id: int, body: LogIn, principal: CurrentPrincipal, session: DbSession
) -> LogOut:
    entry = commands.add_log(
        session, command_id=command_id, actor=principal, kind=body.kind, text=body.text,
        incident_id=body.incident_id,
    )  # fmt: skip
    return LogOut.model_validate(entry)


@router.post("/commands/{command_id}/deactivate")
def deactivate_command(
    command_id: int, body: DeactivateIn, principal: CurrentPrincipal, session: DbSession
) -> CommandOut:
    """Close the command and freeze its after-action summary."""
    command = commands.deactivate(session, command_id=command_id, actor=principal, note=body.note)
    return CommandOut.model_validate(command)


@router.post("/patrols/plan")
def plan_patrols(body: PatrolIn, principal: CurrentPrincipal, session: DbSession) -> Any:
    """Patrol routes over the area's Gi* hotspots within one shift, as GeoJSON."""
    plan = patrols.plan_patrols(
        session, actor=principal, responder_ids=body.responder_ids,
        org_unit_id=body.org_unit_id, place_id=body.place_id, days=body.days,
        cell_size_m=body.cell_size_m, shift_s=body.shift_s, dwell_s=body.dwell_s,
    )  # fmt: skip
    features = [
        {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(r.route) if r.route is not None else None,
            "properties": {
                "responder_id": r.responder_id, "name": r.name, "seconds": r.seconds,
                "stops": [vars(s) for s in r.stops],
            },
        }
        for r in plan.routes
    ]  # fmt: skip
    return {
        "type": "FeatureCollection",
        "features": features,
        "summary": {
            "hotspots": plan.hotspots, "covered": plan.covered,
            "prize_share": plan.prize_share, "shift_s": plan.shift_s, "dwell_s": plan.dwell_s,
        },
    }  # fmt: skip


@router.post("/assignments/{assignment_id}/ack-link", status_code=201)
def create_ack_link(
    assignment_id: int, principal: CurrentPrincipal, session: DbSession
) -> AckLinkOut:
    """A one-tap link to send to the responder's phone (shown once; only its hash is kept)."""
    token, expires = onetap.create_link(session, assignment_id=assignment_id, actor=principal)
    return AckLinkOut(token=token, path=f"/api/v1/public/ack/{token}", expires_at=expires)


@public_router.get("/{token}")
def view_ack_link(token: str, session: DbSession) -> AckView:
    return AckView.model_validate(vars(onetap.view(session, token)))


@public_router.post("/{token}")
def tap_ack_link(token: str, session: DbSession) -> dict[str, Any]:
    assignment = onetap.acknowledge(session, token)
    return {"assignment_id": assignment.id, "status": assignment.status}


@router.get("/plans")
def response_plans(principal: CurrentPrincipal) -> dict[str, Any]:
    """The response plans in force: by incident type, the default, acknowledgement times."""
    principal.require("dispatch:read")
    plan_set = plans.active_plans()
    return {
        "source": plan_set.source,
        "ack_seconds": plan_set.ack_seconds,
        "default": asdict(plan_set.default),
        "plans": {code: [asdict(p) for p in ps] for code, ps in sorted(plan_set.plans.items())},
    }


@router.post("/responders/{responder_id}/shifts", status_code=201)
def add_shifts(
    responder_id: int,
    body: list[ShiftBody],
    principal: CurrentPrincipal,
    session: DbSession,
) -> list[ShiftOut]:
    """Put shifts on a responder's roster (at most 200 at once; none may overlap)."""
    if not 1 <= len(body) <= 200:
        raise ValidationFailed("send 1-200 shifts", field="body")
    made = shifts.add_shifts(
        session, responder_id=responder_id, actor=principal,
        shifts=[shifts.ShiftIn(b.starts_at, b.ends_at, ShiftKind(b.kind)) for b in body],
    )  # fmt: skip
    return [ShiftOut.model_validate(m) for m in made]


@router.get("/responders/{responder_id}/shifts")
def list_shifts(
    responder_id: int,
    principal: CurrentPrincipal,
    session: DbSession,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[ShiftOut]:
    found = shifts.list_shifts(
        session, responder_id=responder_id, actor=principal, since=since, until=until
    )
    return [ShiftOut.model_validate(s) for s in found]


@router.delete("/shifts/{shift_id}", status_code=204)
def delete_shift(shift_id: int, principal: CurrentPrincipal, session: DbSession) -> None:
    shifts.delete_shift(session, shift_id=shift_id, actor=principal)
