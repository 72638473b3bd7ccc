"""Append-only, hash-chained audit log.

Every state change and every read of personal data appends one entry. Each
entry's hash covers its own fields and the previous entry's hash, so editing,
deleting or reordering any row breaks the chain from that row on, and
``verify_chain`` names the first broken row. The database refuses UPDATE and
DELETE on the table (triggers created by the migration); the chain catches
what someone with enough privilege to drop those triggers does anyway.

Entries are chained when their transaction commits, not when ``record`` is
called: the chain's lock (one for all writers, or the chain would fork) is
held from the append to the commit, so taking it at the last moment keeps
every other writer's wait to one INSERT and one COMMIT. It also means the
chain's order is the commit order, and an entry recorded in a transaction
(or savepoint) that rolls back never reaches the log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, String, Text, event, select, text
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from pingan.kit import commit_hooks
from pingan.kit.db import Base, UTCDateTime, utcnow

GENESIS_HASH = "0" * 64
# Serialises appends on PostgreSQL so the chain never forks.
_PG_LOCK_KEY = 0x50494E47414E  # "PINGAN"


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(100), index=True)
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


def _middle(
    *,
    at: dt.datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | None,
    detail: str,
) -> str:
    """The hashed payload without its two chain fields: ``[id,<middle>,"prev"]`` is the whole."""
    fields = [
        at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        actor,
        action,
        object_type,
        object_id,
        detail,
    ]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))[1:-1]


def _digest(
    *,
    entry_id: int,
    at: dt.datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | None,
    detail: str,
    prev_hash: str,
) -> str:
    middle = _middle(
        at=at, actor=actor, action=action, object_type=object_type, object_id=object_id,
        detail=detail,
    )  # fmt: skip
    # The same text as json.dumps([entry_id, *fields, prev_hash]) with compact separators.
    payload = f'[{entry_id},{middle},"{prev_hash}"]'
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class _Pending:
    """An entry recorded in a transaction that has not committed yet."""

    at: dt.datetime
    actor: str
    action: str
    object_type: str
    object_id: str | None
    detail: str
    recorded_in: SessionTransaction  # the innermost transaction or savepoint at the time


_PENDING = "pingan.audit.pending"


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry to the log when (and only if) the caller's transaction commits."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:
        transaction = session.begin()
    pending: list[_Pending] = session.info.setdefault(_PENDING, [])
    pending.append(
        _Pending(
            at=utcnow(),
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str),
            recorded_in=transaction,
        )
    )


@commit_hooks.at_commit(commit_hooks.AUDIT_CHAIN)
def _chain_pending(session: Session) -> None:
    """Chain and insert this transaction's entries, as the last writes before COMMIT.

    Ranked last of the commit hooks (``kit/commit_hooks``): the others write first,
    outside the chain's lock. A savepoint's entries wait for the outer commit.
    """
    pending: list[_Pending] = session.info.pop(_PENDING, [])
    if not pending:
        return
    if session.get_bind().dialect.name == "postgresql":
        _append_postgres(session, pending)
        return
    # SQLite: the transaction holds the database's one write lock from here to COMMIT.
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    entry_id = 1 if last is None else last.id + 1
    prev_hash = GENESIS_HASH if last is None else last.hash
    for item in pending:
        digest = _digest(
            entry_id=entry_id, at=item.at, actor=item.actor, action=item.action,
            object_type=item.object_type, object_id=item.object_id, detail=item.detail,
            prev_hash=prev_hash,
        )  # fmt: skip
        entry = AuditEntry(
            id=entry_id, at=item.at, actor=item.actor, action=item.action,
            object_type=item.object_type, object_id=item.object_id, detail=item.detail,
            prev_hash=prev_hash, hash=digest,
        )  # fmt: skip
        session.add(entry)
        entry_id += 1
        prev_hash = digest
    session.flush()


def _append_postgres(session: Session, pending: list[_Pending]) -> None:
    """One call: the server takes the chain's lock, hashes and inserts (migration 0022)."""
    entries = [
        {
            "middle": _middle(
                at=p.at, actor=p.actor, action=p.action, object_type=p.object_type,
                object_id=p.object_id, detail=p.detail,
            ),
            "at": p.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "actor": p.actor, "action": p.action, "object_type": p.object_type,
            "object_id": p.object_id, "detail": p.detail,
        }
        for p in pending
    ]  # fmt: skip
    session.execute(
        text("SELECT pingan_audit_append(:k, CAST(:entries AS jsonb))"),
        {"k": _PG_LOCK_KEY, "entries": json.dumps(entries, ensure_ascii=False)},
    )


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    """Forget the entries recorded inside the transaction or savepoint that rolled back."""
    pending: list[_Pending] | None = session.info.get(_PENDING)
    if pending:
        pending[:] = [p for p in pending if not _inside(p.recorded_in, previous_transaction)]


def _inside(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@dataclass(frozen=True)
class ChainReport:
    checked: int
    ok: bool
    first_broken_id: int | None = None
    reason: str | None = None


def verify_chain(session: Session, *, batch_size: int = 5000) -> ChainReport:
    """Recompute every hash in order; report the first row that does not fit."""
    expected_prev = GENESIS_HASH
    expected_id = 1
    checked = 0
    # Plain column tuples, streamed: an ORM object per entry cost 4x the hashing itself.
    rows = session.execute(
        select(
            AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.action,
            AuditEntry.object_type, AuditEntry.object_id, AuditEntry.detail,
            AuditEntry.prev_hash, AuditEntry.hash,
        )
        .order_by(AuditEntry.id)
        .execution_options(yield_per=batch_size)
    )  # fmt: skip
    for entry_id, at, actor, action, object_type, object_id, detail, prev_hash, stored in rows:
        if entry_id != expected_id:
            return ChainReport(
                checked, False, entry_id, f"expected entry {expected_id}, found {entry_id}"
            )
        if prev_hash != expected_prev:
            return ChainReport(
                checked, False, entry_id, "prev_hash does not match the entry before"
            )
        recomputed = _digest(
            entry_id=entry_id, at=at, actor=actor, action=action, object_type=object_type,
            object_id=object_id, detail=detail, prev_hash=prev_hash,
        )  # fmt: skip
        if recomputed != stored:
            return ChainReport(checked, False, entry_id, "content does not match its hash")
        expected_prev = stored
        expected_id += 1
        checked += 1
    return ChainReport(checked, True)
