"""A throwaway database per benchmark run: a SQLite file, or a new PostgreSQL database.

Top-level scripts import it as ``pgdb`` (benchmarks/ is their sys.path[0]);
the load test imports it as ``benchmarks.pgdb``.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from pingan.kit.db import engine_for

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432"


def _admin_execute(sql: str) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction.
    admin = create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(sql))
    finally:
        admin.dispose()


def fresh_database(backend: str, sqlite_path: Path | str, *, prefix: str) -> str:
    """The URL of a new, empty database.

    On SQLite the file ``sqlite_path``; on PostgreSQL a database named ``<prefix>_<random>``.
    """
    if backend == "sqlite":
        return f"sqlite:///{sqlite_path}"
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    return f"{PG_BASE}/{name}"


def drop_database(url: str | None) -> None:
    """Close this process's pool on ``url``; drop it when it is a PostgreSQL database."""
    if url is None:
        return
    engine_for(url).dispose()
    if url.startswith("postgresql"):
        name = url.rsplit("/", 1)[1]
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
