"""Backup and restore of the whole database, for both backends.

SQLite: the sqlite3 online backup API, a consistent copy even while the
server writes (WAL). PostgreSQL: ``pg_dump`` / ``pg_restore`` in the custom
format, restored in one transaction so a failed restore leaves the database
as it was. After a restore the audit chain is verified, so a tampered or
truncated backup is noticed at once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, select
from sqlalchemy.engine import URL, make_url

from pingan.incidents import cube_store
from pingan.kit import audit
from pingan.kit.db import Base, engine_for, session_scope
from pingan.kit.errors import PinganError, ValidationFailed

# Tables whose row counts and checksums a backup report shows.
KEY_TABLES = ("org_units", "users", "incidents", "cases", "alerts", "jobs", "audit_log")
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDMP_MAGIC = b"PGDMP"


class BackupFailed(PinganError):
    status = 500
    slug = "backup-failed"
    title = "Backup or restore failed"


@dataclass(frozen=True)
class TableSum:
    table: str
    rows: int
    sha256: str


@dataclass(frozen=True)
class RestoreReport:
    tables: list[TableSum]
    audit: audit.ChainReport


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise ValidationFailed("an in-memory SQLite database cannot be backed up", field="url")
    return Path(url.database)


def backup(database_url: str, target: Path) -> None:
    """Write a consistent copy of the database to ``target`` (replaced if present)."""
    url = make_url(database_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        dest = sqlite3.connect(partial)
        try:
            with dest:
                source.backup(dest)
        finally:
            dest.close()
            source.close()
    elif url.get_backend_name() == "postgresql":
        _run([_pg_tool("pg_dump"), "--format=custom", f"--file={partial}", *_pg_args(url)], url)
    else:
        raise ValidationFailed(f"no backup for {url.get_backend_name()!r} databases", field="url")
    # Only a complete file takes the target's name.
    partial.replace(target)


def restore(database_url: str, source: Path) -> RestoreReport:
    """Replace the database's contents with the backup's; then verify the audit chain."""
    if not source.is_file():
        raise ValidationFailed(f"no backup file at {source}", field="file")
    url = make_url(database_url)
    head = source.read_bytes()[:16]
    engine_for(database_url).dispose()
    if url.get_backend_name() == "sqlite":
        if head != SQLITE_MAGIC:
            raise ValidationFailed(f"{source} is not a SQLite backup", field="file")
        _restore_sqlite(source, _sqlite_path(url))
    elif url.get_backend_name() == "postgresql":
        if not head.startswith(PGDMP_MAGIC):
            raise ValidationFailed(f"{source} is not a pg_dump custom-format backup", field="file")
        args = ["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error"]
        _run([_pg_tool("pg_restore"), *args, *_pg_args(url), str(source)], url)
    else:
        raise ValidationFailed(f"no restore for {url.get_backend_name()!r} databases", field="url")
    engine = engine_for(database_url)
    engine.dispose()
    with session_scope(engine) as session:
        # A restored database is a new incarnation: no cube snapshot made before is reused.
        cube_store.renew_incarnation(session)
    with session_scope(engine) as session:
        chain = audit.verify_chain(session)
    return RestoreReport(fingerprint(engine), chain)


def _restore_sqlite(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        problem = src.execute("PRAGMA integrity_check").fetchone()
        if problem is None or problem[0] != "ok":
            raise ValidationFailed(f"{source} fails SQLite's integrity check", field="file")
        tables = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "alembic_version" not in tables:
            raise ValidationFailed(f"{source} is not a Pingan database", field="file")
        target.parent.mkdir(parents=True, exist_ok=True)
        dest = sqlite3.connect(target)
        try:
            # One step: other connections see the old database or the new one, never a mix.
            src.backup(dest)
        finally:
            dest.close()
    finally:
        src.close()


def _pg_tool(name: str) -> str:
    """The newest installed client tool (it must not be older than the server)."""
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=_major, reverse=True)
    if versions:
        return str(versions[0])
    found = shutil.which(name)
    if found is None:
        raise BackupFailed(f"{name} is not installed (Debian: postgresql-client)")
    return found


def _major(path: Path) -> int:
    try:
        return int(path.parent.parent.name)
    except ValueError:
        return 0


def _pg_args(url: URL) -> list[str]:
    args = [f"--dbname={url.database}"]
    if url.host:
        args.append(f"--host={url.host}")
    if url.port:
        args.append(f"--port={url.port}")
    if url.username:
        args.append(f"--username={url.username}")
    return args


def _run(command: list[str], url: URL) -> None:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tool = Path(command[0]).name
        raise BackupFailed(f"{tool} failed: {done.stderr.strip()[-1000:]}")


def fingerprint(engine: Engine, tables: tuple[str, ...] = KEY_TABLES) -> list[TableSum]:
    """Row count and a SHA-256 over every row in key order, per table that exists."""
    present = set(inspect(engine).get_table_names())
    sums = []
    with engine.connect() as conn:
        for name in tables:
            if name not in present or name not in Base.metadata.tables:
                continue
            table = Base.metadata.tables[name]
            digest = hashlib.sha256()
            rows = 0
            stmt = select(table).order_by(*table.primary_key.columns)
            for row in conn.execution_options(yield_per=5000).execute(stmt):
                digest.update(repr(tuple(row)).encode())
                digest.update(b"\n")
                rows += 1
            sums.append(TableSum(name, rows, digest.hexdigest()))
    return sums
