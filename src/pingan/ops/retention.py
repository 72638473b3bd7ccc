"""Retention rules per kind of data, and the purge job that applies them.

Each rule names the data it removes and the ``PINGAN_RETENTION_*`` setting
that sets how long it is kept. The audit log has no rule: it is kept for
ever, because its hash chain is what proves nothing else was edited.

Rules work on tables by name, so a domain whose tables are absent (an older
schema) is simply skipped; each rule runs in its own transaction and the job
writes one audit entry with what each rule removed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Table, and_, delete, inspect, or_, select, update
from sqlalchemy.orm import Session

from pingan.kit import audit, jobs
from pingan.kit.db import Base, session_scope, utcnow
from pingan.settings import Settings, get_settings

PURGE_KIND = "privacy.purge"
REMOVED = None  # personal fields are emptied to NULL


@dataclass(frozen=True)
class Rule:
    name: str
    setting: str
    unit: str  # "hours" | "days"
    what: str
    apply: Callable[[Session, dt.datetime], int]

    def keep_for(self, settings: Settings) -> float:
        return float(getattr(settings, self.setting))

    def cutoff(self, settings: Settings, now: dt.datetime) -> dt.datetime:
        amount = self.keep_for(settings)
        delta = dt.timedelta(hours=amount) if self.unit == "hours" else dt.timedelta(days=amount)
        return now - delta


def _table(session: Session, name: str) -> Table | None:
    import pingan.models  # noqa: F401  (every domain's tables in the metadata)

    table = Base.metadata.tables.get(name)
    if table is None or not inspect(session.get_bind()).has_table(name):
        return None
    return table


def _rowcount(result: Any) -> int:
    return int(result.rowcount or 0)


def _positions(session: Session, cutoff: dt.datetime) -> int:
    removed = 0
    for name in ("responder_positions", "responder_trail"):
        table = _table(session, name)
        if table is not None:
            removed += _rowcount(session.execute(delete(table).where(table.c.at < cutoff)))
    return removed


def _closed_before(session: Session, cutoff: dt.datetime, case_type: str | None = None) -> Any:
    cases = _table(session, "cases")
    if cases is None:
        return None
    stmt = select(cases.c.id).where(cases.c.is_open.is_(False), cases.c.closed_at < cutoff)
    if case_type is not None:
        stmt = stmt.where(cases.c.case_type == case_type)
    return stmt


def _tips(session: Session, cutoff: dt.datetime) -> int:
    closed = _closed_before(session, cutoff, "tip")
    tips = _table(session, "tips")
    if closed is None or tips is None:
        return 0
    removed = 0
    for name in ("tip_messages", "tip_attachments"):
        table = _table(session, name)
        if table is not None:
            removed += _rowcount(session.execute(delete(table).where(table.c.case_id.in_(closed))))
    # The tip row stays (its number and rewards ledger); what the tipster wrote goes.
    removed += _rowcount(
        session.execute(
            update(tips)
            .where(tips.c.case_id.in_(closed), or_(tips.c.content != "", tips.c.place != ""))
            .values(content="", place="")
        )
    )
    return removed


# Nullable personal fields of tables keyed by case, emptied once the case has closed.
CASE_PERSONAL_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "cases": ("id", ("reporter_name", "reporter_email", "reporter_phone")),
    "petitions": ("case_id", ("petitioner_name", "petitioner_phone", "petitioner_address")),
}


def _case_personal(session: Session, cutoff: dt.datetime) -> int:
    closed = _closed_before(session, cutoff)
    if closed is None:
        return 0
    removed = 0
    for name, (key, fields) in CASE_PERSONAL_FIELDS.items():
        table = _table(session, name)
        if table is None:
            continue
        present = [f for f in fields if f in table.c]
        if not present:
            continue
        held = or_(*(table.c[f].is_not(None) for f in present))
        stmt = (
            update(table)
            .where(table.c[key].in_(closed), held)
            .values({f: REMOVED for f in present})
        )
        removed += _rowcount(session.execute(stmt))
    return removed


def _sessions(session: Session, cutoff: dt.datetime) -> int:
    tokens = _table(session, "auth_tokens")
    if tokens is None:
        return 0
    stale = or_(
        tokens.c.expires_at < cutoff,
        and_(tokens.c.revoked_at.is_not(None), tokens.c.revoked_at < cutoff),
    )
    return _rowcount(session.execute(delete(tokens).where(stale)))


RULES: tuple[Rule, ...] = (
    Rule(
        "responder_positions",
        "retention_positions_hours",
        "hours",
        "responders' latest positions and trail points",
        _positions,
    ),
    Rule(
        "closed_tips",
        "retention_closed_tips_days",
        "days",
        "what tipsters wrote and sent on closed tips (the tip number and rewards stay)",
        _tips,
    ),
    Rule(
        "closed_case_personal",
        "retention_closed_case_personal_days",
        "days",
        "names, phones, e-mails and addresses of reporters and petitioners on closed cases",
        _case_personal,
    ),
    Rule(
        "sessions",
        "retention_sessions_days",
        "days",
        "expired or revoked login sessions",
        _sessions,
    ),
)


def purge(
    engine: Engine, *, now: dt.datetime | None = None, settings: Settings | None = None,
    actor: str = "system:retention",
) -> dict[str, int]:  # fmt: skip
    """Apply every rule; returns what each removed. One audit entry records the run."""
    now = now or utcnow()
    settings = settings or get_settings()
    removed: dict[str, int] = {}
    for rule in RULES:
        with session_scope(engine) as session:
            removed[rule.name] = rule.apply(session, rule.cutoff(settings, now))
    with session_scope(engine) as session:
        audit.record(
            session,
            actor=actor,
            action=PURGE_KIND,
            object_type="retention",
            detail={
                "removed": removed,
                "keep": {r.name: f"{r.keep_for(settings):g} {r.unit}" for r in RULES},
            },
        )
    return removed


@jobs.register(PURGE_KIND, "Remove data past its retention period")
def _purge_job(engine: Engine, params: dict[str, Any], progress: jobs.Progress) -> dict[str, Any]:
    return {"removed": purge(engine)}
