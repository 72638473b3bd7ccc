"""The audit log: append-only in the database, and tampering is detected."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from pingan.cli import app
from pingan.kit import audit
from pingan.kit.db import session_scope


def _append(engine: Engine, n: int) -> None:
    with session_scope(engine) as session:
        for i in range(n):
            audit.record(
                session, actor="user:test", action="thing.change", object_type="thing",
                object_id=i, detail={"i": i, "名": "值"},
            )  # fmt: skip


def _drop_protection(engine: Engine) -> None:
    """What an attacker with DDL rights would do before editing rows."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_log_no_change ON audit_log"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))


def test_intact_chain_verifies(engine: Engine) -> None:
    _append(engine, 25)
    with session_scope(engine) as session:
        report = audit.verify_chain(session, batch_size=7)
    assert report.ok and report.checked == 25


def test_database_refuses_update_and_delete(engine: Engine) -> None:
    _append(engine, 3)
    for statement in (
        "UPDATE audit_log SET actor = 'x' WHERE id = 2",
        "DELETE FROM audit_log WHERE id = 3",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))


def test_edited_row_is_named(engine: Engine) -> None:
    _append(engine, 10)
    _drop_protection(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET detail = '{\"i\": 99}' WHERE id = 6"))
    with session_scope(engine) as session:
        report = audit.verify_chain(session)
    assert not report.ok and report.first_broken_id == 6 and report.checked == 5
    assert "hash" in (report.reason or "")


def test_deleted_row_is_detected(engine: Engine) -> None:
    _append(engine, 10)
    _drop_protection(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = 4"))
    with session_scope(engine) as session:
        report = audit.verify_chain(session)
    assert not report.ok and report.first_broken_id == 5


def test_rehashed_row_still_breaks_the_next_link(engine: Engine) -> None:
    """Recomputing the edited row's own hash does not help: the next row points at the old one."""
    _append(engine, 5)
    _drop_protection(engine)
    with session_scope(engine) as session:
        row = session.get(audit.AuditEntry, 3)
        assert row is not None
        row.actor = "user:someone-else"
        row.hash = audit._digest(
            entry_id=row.id, at=row.at, actor=row.actor, action=row.action,
            object_type=row.object_type, object_id=row.object_id, detail=row.detail,
            prev_hash=row.prev_hash,
        )  # fmt: skip
    with session_scope(engine) as session:
        report = audit.verify_chain(session)
    assert report.first_broken_id == 4 and "prev_hash" in (report.reason or "")


def test_cli_verify_exit_codes(engine: Engine) -> None:
    _append(engine, 4)
    runner = CliRunner()
    good = runner.invoke(app, ["audit", "verify"])
    assert good.exit_code == 0 and "4 entries verified" in good.output
    _drop_protection(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET action = 'nothing.happened' WHERE id = 2"))
    bad = runner.invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1 and "entry 2" in bad.output


def _actions(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return list(session.scalars(select(audit.AuditEntry.action).order_by(audit.AuditEntry.id)))


def test_entries_of_a_rolled_back_transaction_never_reach_the_log(engine: Engine) -> None:
    with Session(engine) as session:
        audit.record(session, actor="user:a", action="lost", object_type="thing")
        session.rollback()
        audit.record(session, actor="user:a", action="kept", object_type="thing")
        session.commit()
    assert _actions(engine) == ["kept"]


def test_a_savepoint_that_rolls_back_takes_only_its_own_entries(engine: Engine) -> None:
    with Session(engine) as session:
        audit.record(session, actor="user:a", action="before", object_type="thing")
        with session.begin_nested():
            audit.record(session, actor="user:a", action="released", object_type="thing")
        savepoint = session.begin_nested()
        audit.record(session, actor="user:a", action="undone", object_type="thing")
        with session.begin_nested():
            audit.record(session, actor="user:a", action="undone-inner", object_type="thing")
        savepoint.rollback()
        audit.record(session, actor="user:a", action="after", object_type="thing")
        session.commit()
    assert _actions(engine) == ["before", "released", "after"]
    with session_scope(engine) as session:
        assert audit.verify_chain(session).ok


def test_an_open_transaction_does_not_hold_up_other_writers(engine: Engine) -> None:
    """The chain's lock is taken at commit: a slow transaction with an entry blocks nobody.

    On PostgreSQL the other writer runs under a lock timeout, so waiting would fail it.
    The log's order is the commit order.
    """
    slow = Session(engine)
    try:
        audit.record(slow, actor="user:slow", action="slow", object_type="thing")
        slow.flush()
        with Session(engine) as quick:
            if engine.dialect.name == "postgresql":
                quick.execute(text("SET lock_timeout = '2s'"))
            audit.record(quick, actor="user:quick", action="quick", object_type="thing")
            quick.commit()
        slow.commit()
    finally:
        slow.close()
    assert _actions(engine) == ["quick", "slow"]
    with session_scope(engine) as session:
        assert audit.verify_chain(session).ok


def test_awkward_text_hashes_the_same_on_the_server_and_in_python(engine: Engine) -> None:
    """On PostgreSQL the server hashes (migration 0022); verify_chain recomputes in Python."""
    awkward = 'quote " back \\ slash\nnew line\ttab \x01 控制 😀 \u2028 </script>'
    with session_scope(engine) as session:
        audit.record(
            session, actor=f"user:{awkward}", action="thing.change", object_type="thing",
            object_id=awkward, detail={"text": awkward, awkward: [1, 2.5, None, True]},
        )  # fmt: skip
        audit.record(session, actor="user:plain", action="thing.change", object_type="thing")
    with session_scope(engine) as session:
        report = audit.verify_chain(session)
        stored = session.scalar(select(audit.AuditEntry.object_id).where(audit.AuditEntry.id == 1))
    assert report.ok and report.checked == 2
    assert stored == awkward
