"""The audit log: append-only in the database, and tampering is detected."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
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
