"""Creating, reading and listing cases, within the actor's org scope.

A case is visible to whoever holds ``cases:read`` over its assigned unit or
over the grid where it happened (so the grid worker who filed it can follow
it after dispatch), and to the user who reported it. Out of scope reads the
same as missing.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Engine, and_, false, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pingan.cases import clocks, routing
from pingan.cases.calendar import load_calendar
from pingan.cases.categories import get_category
from pingan.cases.engine import CREATE
from pingan.cases.models import Case, CaseCategory, CaseClock, CaseCounter, CaseEvent
from pingan.cases.schemas import CaseIn
from pingan.cases.search import text_matches
from pingan.cases.workflows import get_workflow
from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.kit.errors import NotFound, ValidationFailed
from pingan.org.permissions import Perm
from pingan.org.principal import Principal
from pingan.org.service import require_projector

DUPLICATE_RADIUS_M = 50.0


def add_event(
    session: Session,
    case: Case,
    *,
    kind: str,
    actor: str,
    at: dt.datetime,
    detail: dict[str, Any] | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
) -> None:
    """One timeline line plus its audit entry: every change goes through here."""
    session.add(
        CaseEvent(
            case_id=case.id,
            at=at,
            actor=actor,
            kind=kind,
            from_state=from_state,
            to_state=to_state,
            detail=json.dumps(detail or {}, ensure_ascii=False, default=str),
        )
    )
    case.updated_at = at
    audit.record(
        session,
        actor=actor,
        action=f"case.{kind}",
        object_type="case",
        object_id=case.number,
        detail={"from": from_state, "to": to_state, **(detail or {})},
    )


def next_number(session: Session, prefix: str, year: int) -> str:
    """GE-2026-000123: the next number of a counter per prefix and year, never issued twice.

    PostgreSQL: taken in a transaction of its own, one upsert that commits at
    once. Holding the counter's row until the filing commits lined every
    filing of the city up behind the slowest one (the load test measured
    filings waiting seconds on it); the price is that a filing which fails
    after taking its number leaves that number unused. Every check that can
    refuse a filing runs before it takes the number.

    SQLite (one writer at a time anyway): inside the filing's transaction, so
    a failed filing gives its number back. One ``UPDATE ... RETURNING``: the
    increment reads under the write lock, so two writers never get the same
    number (a read followed by a write would, as SQLite's reads take no lock).
    """
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if engine.dialect.name == "postgresql":
        return _format(prefix, year, _issue_apart(engine, prefix, year))
    bump = (
        update(CaseCounter)
        .where(CaseCounter.prefix == prefix, CaseCounter.year == year)
        .values(last=CaseCounter.last + 1)
        .returning(CaseCounter.last)
    )
    issued = session.execute(bump).scalar_one_or_none()
    if issued is None:
        try:
            with session.begin_nested():
                session.add(CaseCounter(prefix=prefix, year=year, last=0))
        except IntegrityError:  # another writer created it first
            pass
        issued = session.execute(bump).scalar_one()
    return _format(prefix, year, issued)


def _issue_apart(engine: Engine, prefix: str, year: int) -> int:
    # A second pooled connection for one statement: the pool holds one per request the
    # gate admits plus room, and this one is back in the pool within a round trip.
    upsert = (
        pg_insert(CaseCounter)
        .values(prefix=prefix, year=year, last=1)
        .on_conflict_do_update(
            index_elements=[CaseCounter.prefix, CaseCounter.year],
            set_={"last": CaseCounter.last + 1},
        )
        .returning(CaseCounter.last)
    )
    with engine.connect() as conn:
        issued = int(conn.execute(upsert).scalar_one())
        conn.commit()
    return issued


def _format(prefix: str, year: int, issued: int) -> str:
    return f"{prefix}-{year}-{issued:06d}"


def find_duplicates(session: Session, case: Case) -> list[Case]:
    """Open cases of the same category within 50 m (projected metres)."""
    if case.x is None or case.y is None:
        return []
    r = DUPLICATE_RADIUS_M
    near = session.scalars(
        select(Case).where(
            Case.category_id == case.category_id,
            Case.is_open.is_(True),
            Case.id != case.id if case.id is not None else true(),
            Case.x.between(case.x - r, case.x + r),
            Case.y.between(case.y - r, case.y + r),
        )
    )
    x0, y0 = case.x, case.y
    return [
        c
        for c in near
        if c.x is not None and c.y is not None and (c.x - x0) ** 2 + (c.y - y0) ** 2 <= r * r
    ]


def create_case(
    session: Session,
    *,
    case_in: CaseIn,
    actor: Principal,
    source: str = "api",
    now: dt.datetime | None = None,
) -> tuple[Case, list[Case]]:
    """File a case; returns it and the open cases it may duplicate.

    A repeated ``idempotency_key`` returns the case already filed with it.
    """
    now = now or utcnow()
    if case_in.idempotency_key:
        existing = session.scalar(
            select(Case).where(Case.idempotency_key == case_in.idempotency_key)
        )
        if existing is not None:
            return get_case(session, existing.id, actor=actor), []
    workflow = get_workflow(case_in.case_type)
    category = get_category(session, case_in.category)
    if category.case_type != workflow.key:
        raise ValidationFailed(
            f"category {category.code!r} is not a {workflow.key}", field="category"
        )
    route = routing.route(session, lon=case_in.lon, lat=case_in.lat, category=category)
    actor.require(Perm.CASES_REPORT, route.grid.path)
    xs, ys = require_projector(session).to_metric(np.array([case_in.lon]), np.array([case_in.lat]))
    x, y = float(xs[0]), float(ys[0])
    # Until dispatch the case sits with the grid's community, which accepts it.
    intake = routing.unit_at_level(session, route.grid, "community")
    # The number's year is the city's calendar year, not UTC's.
    local_year = now.astimezone(load_calendar(session).zone).year
    case = Case(
        case_type=workflow.key,
        state=workflow.initial,
        is_open=True,
        category_id=category.id,
        title=case_in.title,
        description=case_in.description,
        address=case_in.address,
        lon=case_in.lon,
        lat=case_in.lat,
        x=x,
        y=y,
        grid_id=route.grid.id,
        grid_path=route.grid.path,
        unit_id=intake.id,
        unit_path=intake.path,
        department="",
        reporter_user_id=actor.user_id,
        reporter_name=case_in.reporter_name,
        reporter_email=case_in.reporter_email,
        reporter_phone=case_in.reporter_phone,
        source=source,
        public_token=secrets.token_urlsafe(16),
        idempotency_key=case_in.idempotency_key,
        created_at=now,
        updated_at=now,
    )
    duplicates = find_duplicates(session, case)
    # Numbered after every check that can refuse the filing (on PostgreSQL a number
    # taken is used or skipped, see next_number; on SQLite the counter stays locked
    # until COMMIT).
    case.number = next_number(session, workflow.number_prefix, local_year)
    session.add(case)
    session.flush()
    add_event(
        session,
        case,
        kind="created",
        actor=actor.actor,
        at=now,
        to_state=case.state,
        detail={
            "category": category.code,
            "grid_id": case.grid_id,
            "possible_duplicates": [d.number for d in duplicates],
        },
    )
    cal = load_calendar(session)
    clocks.apply(
        session,
        case=case,
        workflow=workflow,
        transition=CREATE,
        category=category,
        cal=cal,
        now=now,
    )
    return case, duplicates


# --- reading -----------------------------------------------------------------


def scope_clause(principal: Principal) -> ColumnElement[bool]:
    if principal.is_system:
        return Case.id.is_not(None)
    grants = principal.grants_with(Perm.CASES_READ)
    parts: list[ColumnElement[bool]] = []
    for g in grants:
        parts += [Case.unit_path.startswith(g.path), Case.grid_path.startswith(g.path)]
    if principal.user_id is not None:
        parts.append(Case.reporter_user_id == principal.user_id)
    return or_(*parts) if parts else false()


def can_see(principal: Principal, case: Case) -> bool:
    if principal.user_id is not None and case.reporter_user_id == principal.user_id:
        return True
    return principal.can(Perm.CASES_READ, case.unit_path) or principal.can(
        Perm.CASES_READ, case.grid_path
    )


def get_case(session: Session, case_id: int, *, actor: Principal) -> Case:
    case = session.get(Case, case_id)
    if case is None or not can_see(actor, case):
        raise NotFound(f"case {case_id} not found")
    return case


def get_case_by_number(session: Session, number: str, *, actor: Principal) -> Case:
    case = session.scalar(select(Case).where(Case.number == number))
    if case is None or not can_see(actor, case):
        raise NotFound(f"case {number} not found")
    return case


INBOXES = ("all", "mine", "unit", "overdue", "due_today", "flagged")


def list_cases(
    session: Session,
    *,
    actor: Principal,
    inbox: str = "all",
    state: str | None = None,
    category: str | None = None,
    is_open: bool | None = None,
    q: str | None = None,
    limit: int = 100,
    after_id: int | None = None,
    now: dt.datetime | None = None,
    case_types: tuple[str, ...] | None = None,
) -> list[Case]:
    """Cases in scope, by id; ``q`` is a case-insensitive substring search (``search``)."""
    now = now or utcnow()
    stmt = select(Case).where(scope_clause(actor)).order_by(Case.id).limit(limit)
    if case_types is not None:
        stmt = stmt.where(Case.case_type.in_(case_types))
    if inbox == "mine":
        stmt = stmt.where(Case.handler_id == (actor.user_id or -1))
    elif inbox == "unit":
        stmt = stmt.where(Case.unit_id.in_([g.unit_id for g in actor.grants] or [-1]))
    elif inbox in ("overdue", "due_today"):
        if inbox == "overdue":
            window = CaseClock.due_at <= now
        else:
            zone = load_calendar(session).zone
            local = now.astimezone(zone)
            end = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), zone)
            window = and_(CaseClock.due_at > now, CaseClock.due_at < end)
        running = select(CaseClock.case_id).where(CaseClock.status == clocks.RUNNING, window)
        stmt = stmt.where(Case.id.in_(running))
    elif inbox == "flagged":
        stmt = stmt.where(Case.supervision_flag.is_(True))
    elif inbox != "all":
        raise ValidationFailed(
            f"unknown inbox {inbox!r} (known: {', '.join(INBOXES)})", field="inbox"
        )
    if state is not None:
        stmt = stmt.where(Case.state == state)
    if category is not None:
        stmt = stmt.where(Case.category_id == get_category(session, category).id)
    if is_open is not None:
        stmt = stmt.where(Case.is_open.is_(is_open))
    if q and q.strip():
        stmt = stmt.where(text_matches(session, q))
    if after_id is not None:
        stmt = stmt.where(Case.id > after_id)
    return list(session.scalars(stmt))


def category_codes(session: Session, ids: set[int]) -> dict[int, str]:
    rows = session.execute(
        select(CaseCategory.id, CaseCategory.code).where(CaseCategory.id.in_(ids))
    )
    return {int(i): str(c) for i, c in rows}


def timeline(session: Session, case_id: int) -> list[CaseEvent]:
    return list(
        session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        )
    )
