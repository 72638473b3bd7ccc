"""Duty rosters: shifts per responder, and the job that follows them.

A responder still controls their own availability; the roster sets it at
the edges of a shift: available at the start (if they were off duty) and
off duty at the end (if they hold no active assignment: one who is busy on
a job goes off duty at the first run after clearing it). A shift that
touches the next one (a handover to the same person) does not send them
off duty in between.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from dataclasses import dataclass, field

from sqlalchemy import Engine, and_, select, update
from sqlalchemy.orm import Session

from pingan.dispatch.responder_models import Availability, Responder
from pingan.dispatch.responders import forget_position, get_responder, has_active_assignment
from pingan.dispatch.shift_models import Shift, ShiftKind
from pingan.kit import audit
from pingan.kit.db import session_scope, utcnow
from pingan.kit.errors import Conflict, NotFound, ValidationFailed
from pingan.org.permissions import Perm
from pingan.org.principal import Principal

MAX_SHIFT = dt.timedelta(hours=24)
ROSTER_ACTOR = Principal.system("dispatch-roster")


@dataclass(frozen=True)
class ShiftIn:
    starts_at: dt.datetime
    ends_at: dt.datetime
    kind: ShiftKind = ShiftKind.ON_DUTY


def _check(shift: ShiftIn, where: str) -> None:
    if shift.starts_at.tzinfo is None or shift.ends_at.tzinfo is None:
        raise ValidationFailed(f"{where}: times need a UTC offset", field="starts_at")
    if not shift.starts_at < shift.ends_at <= shift.starts_at + MAX_SHIFT:
        raise ValidationFailed(f"{where}: a shift ends after it starts, within 24 h",
                               field="ends_at")  # fmt: skip


def add_shifts(
    session: Session, *, responder_id: int, shifts: list[ShiftIn], actor: Principal
) -> list[Shift]:
    """Add shifts for one responder; none may overlap another (theirs, old or new)."""
    responder = get_responder(session, responder_id, actor=actor, perm=Perm.DISPATCH_WRITE)
    for i, s in enumerate(shifts):
        _check(s, f"shift {i + 1}")
    ordered = sorted(shifts, key=lambda s: s.starts_at)
    for a, b in itertools.pairwise(ordered):
        if b.starts_at < a.ends_at:
            raise Conflict(f"shifts overlap at {b.starts_at.isoformat()}", field="starts_at")
    for s in ordered:
        clash = session.scalar(
            select(Shift.id).where(
                Shift.responder_id == responder.id,
                Shift.starts_at < s.ends_at,
                Shift.ends_at > s.starts_at,
            )
        )
        if clash is not None:
            raise Conflict(f"overlaps shift {clash} of this responder", field="starts_at")
    made = [
        Shift(responder_id=responder.id, kind=s.kind.value, starts_at=s.starts_at,
              ends_at=s.ends_at, created_by=actor.actor)
        for s in ordered
    ]  # fmt: skip
    session.add_all(made)
    session.flush()
    audit.record(
        session, actor=actor.actor, action="dispatch.shifts.add", object_type="responder",
        object_id=responder.id, detail={"shifts": [m.id for m in made]},
    )  # fmt: skip
    return made


def list_shifts(
    session: Session,
    *,
    responder_id: int,
    actor: Principal,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[Shift]:
    get_responder(session, responder_id, actor=actor)
    query = select(Shift).where(Shift.responder_id == responder_id)
    if since is not None:
        query = query.where(Shift.ends_at > since)
    if until is not None:
        query = query.where(Shift.starts_at < until)
    return list(session.scalars(query.order_by(Shift.starts_at)))


def delete_shift(
    session: Session, *, shift_id: int, actor: Principal, now: dt.datetime | None = None
) -> None:
    """Only a shift that has not started can be taken off the roster."""
    shift = session.get(Shift, shift_id)
    if shift is None:
        raise NotFound(f"shift {shift_id} not found")
    try:
        get_responder(session, shift.responder_id, actor=actor, perm=Perm.DISPATCH_WRITE)
    except NotFound:
        raise NotFound(f"shift {shift_id} not found") from None
    if shift.starts_at <= (now or utcnow()):
        raise Conflict("the shift has started; it stays on the record", field="shift_id")
    session.delete(shift)
    audit.record(
        session, actor=actor.actor, action="dispatch.shifts.delete", object_type="responder",
        object_id=shift.responder_id, detail={"shift_id": shift_id},
    )  # fmt: skip


@dataclass
class ImportReport:
    added: int = 0
    errors: list[str] = field(default_factory=list)


def import_roster(
    session: Session, text: str, *, actor: Principal, source: str = "roster.csv"
) -> ImportReport:
    """CSV with columns responder_id, starts_at, ends_at[, kind]; all or nothing.

    Every error names its line; with any error nothing is added.
    """
    reader = csv.DictReader(io.StringIO(text))
    missing = {"responder_id", "starts_at", "ends_at"} - set(reader.fieldnames or [])
    if missing:
        raise ValidationFailed(f"{source}: missing columns {sorted(missing)}")
    by_responder: dict[int, list[tuple[int, ShiftIn]]] = {}
    report = ImportReport()
    for row in reader:
        line = reader.line_num
        try:
            shift = ShiftIn(
                starts_at=dt.datetime.fromisoformat(row["starts_at"].strip()),
                ends_at=dt.datetime.fromisoformat(row["ends_at"].strip()),
                kind=ShiftKind((row.get("kind") or "on_duty").strip()),
            )
            _check(shift, f"{source} line {line}")
            by_responder.setdefault(int(row["responder_id"]), []).append((line, shift))
        except ValidationFailed as exc:
            report.errors.append(exc.detail)
        except (ValueError, AttributeError) as exc:
            report.errors.append(f"{source} line {line}: {exc}")
    if report.errors:
        return report
    for responder_id, rows in by_responder.items():
        try:
            with session.begin_nested():
                report.added += len(
                    add_shifts(session, responder_id=responder_id,
                               shifts=[s for _, s in rows], actor=actor)
                )  # fmt: skip
        except (NotFound, Conflict, ValidationFailed) as exc:
            lines = ", ".join(str(n) for n, _ in rows)
            report.errors.append(f"{source} lines {lines} (responder {responder_id}): {exc.detail}")
    if report.errors:
        report.added = 0  # the caller rolls back: all or nothing
    return report


@dataclass
class RosterReport:
    started: int = 0
    ended: int = 0
    # Shift ends put off because the responder is still on a job.
    deferred: int = 0


def run_roster(engine: Engine, *, now: dt.datetime | None = None) -> RosterReport:
    """Apply every shift start and end that is due, each exactly once."""
    now = now or utcnow()
    report = RosterReport()
    with session_scope(engine) as session:
        due_starts = list(
            session.scalars(
                select(Shift).where(
                    Shift.started_applied_at.is_(None), Shift.starts_at <= now, Shift.ends_at > now
                )
            )
        )
        for shift in due_starts:
            if _claim(session, shift, "started_applied_at", now):
                report.started += _start(session, shift)
        due_ends = list(
            session.scalars(
                select(Shift).where(Shift.ended_applied_at.is_(None), Shift.ends_at <= now)
            )
        )
        for shift in due_ends:
            if _covered_by_next(session, shift, now):
                _claim(session, shift, "ended_applied_at", now)
                continue
            if has_active_assignment(session, shift.responder_id):
                report.deferred += 1
                continue
            if _claim(session, shift, "ended_applied_at", now):
                report.ended += _end(session, shift)
    return report


def _claim(session: Session, shift: Shift, column: str, now: dt.datetime) -> bool:
    """Stamp the shift edge if nobody has; two runs racing apply it once."""
    stamp = getattr(Shift, column)
    done = session.execute(
        update(Shift)
        .where(and_(Shift.id == shift.id, stamp.is_(None)))
        .values({column: now})
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def _covered_by_next(session: Session, shift: Shift, now: dt.datetime) -> bool:
    return (
        session.scalar(
            select(Shift.id).where(
                Shift.responder_id == shift.responder_id,
                Shift.id != shift.id,
                Shift.starts_at <= max(shift.ends_at, now),
                Shift.ends_at > now,
            )
        )
        is not None
    )


def _start(session: Session, shift: Shift) -> int:
    responder = session.get(Responder, shift.responder_id)
    if responder is None or responder.availability != Availability.OFF_DUTY:
        return 0  # already on: the roster does not override the responder
    responder.availability = Availability.AVAILABLE.value
    responder.updated_at = utcnow()
    audit.record(
        session, actor=ROSTER_ACTOR.actor, action="dispatch.responder.availability",
        object_type="responder", object_id=responder.id,
        detail={"before": "off_duty", "after": "available", "shift_id": shift.id},
    )  # fmt: skip
    return 1


def _end(session: Session, shift: Shift) -> int:
    responder = session.get(Responder, shift.responder_id)
    if responder is None or responder.availability == Availability.OFF_DUTY:
        return 0
    before = responder.availability
    responder.availability = Availability.OFF_DUTY.value
    responder.updated_at = utcnow()
    # Off duty, the position is neither kept nor accepted.
    forget_position(session, responder.id)
    audit.record(
        session, actor=ROSTER_ACTOR.actor, action="dispatch.responder.availability",
        object_type="responder", object_id=responder.id,
        detail={"before": before, "after": "off_duty", "shift_id": shift.id},
    )  # fmt: skip
    return 1
