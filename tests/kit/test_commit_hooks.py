"""Commit-time writes run by their declared rank, the audit chain last, once per commit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

import pingan.cameras.streets  # noqa: F401  (registers its hook)
from pingan.kit import audit, commit_hooks, meta
from pingan.kit.db import session_scope


def test_versions_then_stamps_then_the_audit_chain() -> None:
    order = commit_hooks.registered()
    names = ["kit.meta._bump_at_commit", "streets._write_pending_stamp", "audit._chain_pending"]
    at = [next(i for i, n in enumerate(order) if n.endswith(name)) for name in names]
    assert at == sorted(at)
    assert order[-1].endswith("audit._chain_pending")


@pytest.fixture
def probe() -> Iterator[list[str]]:
    """A hook ranked just before the chain, registered after it; it notes what it saw."""
    seen: list[str] = []

    @commit_hooks.at_commit(commit_hooks.AUDIT_CHAIN - 1)
    def late_probe(session: Session) -> None:
        seen.append("probe")
        session.execute(text("SELECT 1"))

    yield seen
    commit_hooks.unregister(late_probe)


def test_a_hook_ranked_before_the_chain_runs_before_it(engine: Engine, probe: list[str]) -> None:
    statements: list[str] = []

    def note(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split())[:60])

    event.listen(engine, "before_cursor_execute", note)
    try:
        with session_scope(engine) as s:
            meta.bump_version_at_commit(s, "test.hooks")
            audit.record(s, actor="test", action="hooks.probe", object_type="test")
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert probe == ["probe"]
    bump = next(i for i, st in enumerate(statements) if "pingan_meta" in st)
    mine = statements.index("SELECT 1")
    chain = next(i for i, st in enumerate(statements) if "audit" in st.lower())
    assert bump < mine < chain
    with session_scope(engine) as s:
        assert audit.verify_chain(s).ok


def test_a_released_savepoint_runs_no_hook(engine: Engine, probe: list[str]) -> None:
    with session_scope(engine) as s:
        with s.begin_nested():
            s.execute(text("SELECT 1"))
        assert probe == []
    assert probe == ["probe"]
