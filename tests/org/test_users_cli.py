"""``pingan users ...`` and ``pingan db upgrade`` from the command line."""

from __future__ import annotations

from sqlalchemy import Engine
from typer.testing import CliRunner

from pingan.cli import app
from pingan.kit.db import session_scope
from pingan.kit.migrate import head_revision
from pingan.org import auth
from tests.citykit import TestCity


def test_add_grant_list_and_login(engine: Engine, city: TestCity) -> None:
    runner = CliRunner()
    added = runner.invoke(app, ["users", "add", "alice", "--password", "s3cret-pass"])
    assert added.exit_code == 0, added.output
    granted = runner.invoke(app, ["users", "grant", "alice", "officer", "DW"])
    assert granted.exit_code == 0, granted.output
    listed = runner.invoke(app, ["users", "list"])
    assert "alice" in listed.output and "officer@DW" in listed.output
    with session_scope(engine) as session:
        token, _record, _user = auth.login(
            session, username="alice", password="s3cret-pass", ttl_hours=1
        )
        principal = auth.principal_from_token(session, token)
    assert [(g.role, g.level) for g in principal.grants] == [("officer", "district")]


def test_errors_are_messages_not_tracebacks(engine: Engine, city: TestCity) -> None:
    runner = CliRunner()
    runner.invoke(app, ["users", "add", "bob", "--password", "s3cret-pass"])
    again = runner.invoke(app, ["users", "add", "bob", "--password", "s3cret-pass"])
    assert again.exit_code == 1 and "already exists" in again.output
    short = runner.invoke(app, ["users", "add", "carol", "--password", "short"])
    assert short.exit_code == 1 and "at least 8" in short.output
    no_role = runner.invoke(app, ["users", "grant", "bob", "emperor", "DW"])
    assert no_role.exit_code == 1 and "role 'emperor' not found" in no_role.output
    no_unit = runner.invoke(app, ["users", "grant", "bob", "officer", "NOPE"])
    assert no_unit.exit_code == 1 and "'NOPE' not found" in no_unit.output
    assert "Traceback" not in no_unit.output


def test_service_account_api_key(engine: Engine, city: TestCity) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["users", "api-key", "bridge", "--name", "cad", "--service"])
    assert result.exit_code == 0, result.output
    secret = next(w for w in result.output.split() if w.startswith("pgk_"))
    with session_scope(engine) as session:
        principal = auth.principal_from_api_key(session, secret)
    assert principal.username == "bridge" and principal.via == "api_key"


def test_db_upgrade_is_idempotent(engine: Engine) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["db", "upgrade"])
    second = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert head_revision() in second.output


def test_upgrade_gives_builtin_roles_new_permissions(engine: Engine) -> None:
    from sqlalchemy import select

    from pingan.org.models import Role
    from pingan.org.users import ensure_builtin_roles

    with session_scope(engine) as session:
        officer = session.scalar(select(Role).where(Role.name == "officer"))
        assert officer is not None
        full = list(officer.permissions)
        officer.permissions = [p for p in full if p != "incidents:write"] + ["custom:thing"]
    with session_scope(engine) as session:
        ensure_builtin_roles(session)
    with session_scope(engine) as session:
        officer = session.scalar(select(Role).where(Role.name == "officer"))
        assert officer is not None
        assert set(officer.permissions) == {*full, "custom:thing"}
