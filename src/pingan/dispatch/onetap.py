"""One-tap acknowledgement: a link a volunteer opens on the phone, without logging in.

The link carries a random token; Pingan keeps only its SHA-256, so a copy of
the database does not hold working links. A link acknowledges exactly one
assignment, once, before it expires (by default the assignment's own
acknowledgement deadline plus a grace minute).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session

from pingan.dispatch import assignments
from pingan.dispatch.assignment_models import Assignment, AssignmentStatus
from pingan.dispatch.command_models import AckLink
from pingan.incidents.models import Incident, IncidentType
from pingan.kit.db import utcnow
from pingan.kit.errors import Conflict, NotFound
from pingan.org.permissions import Perm
from pingan.org.principal import Principal

GRACE = dt.timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_link(
    session: Session, *, assignment_id: int, actor: Principal, now: dt.datetime | None = None
) -> tuple[str, dt.datetime]:
    """A fresh token for the assignment; returns (token, expires_at)."""
    now = now or utcnow()
    assignment = assignments.get_assignment(
        session, assignment_id, actor=actor, perm=Perm.DISPATCH_WRITE
    )
    if assignment.status != AssignmentStatus.DISPATCHED:
        raise Conflict(f"the assignment is {assignment.status}; nothing to acknowledge")
    token = secrets.token_urlsafe(24)
    expires = max(assignment.ack_deadline, now) + GRACE
    session.add(
        AckLink(token_sha256=_digest(token), assignment_id=assignment.id, expires_at=expires,
                created_by=actor.actor)
    )  # fmt: skip
    return token, expires


@dataclass(frozen=True)
class LinkView:
    """What the volunteer's phone shows: the job, not the caller's details."""

    assignment_id: int
    status: str
    incident_type: str
    severity: int
    lon: float
    lat: float
    eta_s: float | None
    ack_deadline: dt.datetime


def _live_link(session: Session, token: str, now: dt.datetime) -> AckLink:
    link = session.get(AckLink, _digest(token))
    # An unknown, used or expired token all read the same: no oracle for guessing.
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise NotFound("this link is not valid (unknown, used or expired)")
    return link


def view(session: Session, token: str, *, now: dt.datetime | None = None) -> LinkView:
    link = _live_link(session, token, now or utcnow())
    assignment = session.get(Assignment, link.assignment_id)
    assert assignment is not None
    incident = session.get(Incident, assignment.incident_id)
    assert incident is not None
    type_code = session.get(IncidentType, incident.type_id)
    return LinkView(
        assignment_id=assignment.id, status=assignment.status,
        incident_type=type_code.code if type_code else "", severity=incident.severity,
        lon=round(incident.lon, 5), lat=round(incident.lat, 5), eta_s=assignment.eta_s,
        ack_deadline=assignment.ack_deadline,
    )  # fmt: skip


def acknowledge(session: Session, token: str, *, now: dt.datetime | None = None) -> Assignment:
    """Acknowledge through the link, as the responder the assignment was sent to."""
    now = now or utcnow()
    link = _live_link(session, token, now)
    # Spend the link first, conditionally, so two taps acknowledge once.
    spent = session.execute(
        update(AckLink)
        .where(AckLink.token_sha256 == link.token_sha256, AckLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound("this link is not valid (unknown, used or expired)")
    assignment = session.get(Assignment, link.assignment_id)
    assert assignment is not None
    actor = Principal.system(f"onetap:responder:{assignment.responder_id}")
    return assignments.set_status(
        session, assignment_id=assignment.id, status=AssignmentStatus.ACKNOWLEDGED, actor=actor,
        now=now,
    )  # fmt: skip
