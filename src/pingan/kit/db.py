"""Database plumbing shared by every domain.

One engine per database URL, a declarative ``Base`` with a stable naming
convention (so Alembic migrations name constraints the same way on SQLite
and PostgreSQL), and two column types that behave the same on both backends:

* ``UTCDateTime`` stores timezone-aware UTC and always gives it back aware
  (SQLite has no time zones of its own).
* ``Geometry`` is a PostGIS ``geometry(<type>, <srid>)`` column on PostgreSQL
  and a WKB blob on SQLite; Python code always sees shapely geometries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    BigInteger,
    DateTime,
    Dialect,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    create_engine,
    event,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler, TypeCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator, UserDefinedType

from pingan.settings import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

WGS84 = 4326

# SQLite only auto-increments an ``INTEGER PRIMARY KEY``.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        utc = value.astimezone(dt.UTC)
        # SQLite stores text: keep it naive-UTC so string order is time order.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _GeomFromWKB(FunctionElement[Any]):
    inherit_cache = True
    type = LargeBinary()


class _GeomAsWKB(FunctionElement[Any]):
    inherit_cache = True
    type = LargeBinary()


@compiles(_GeomFromWKB)
def _from_wkb_plain(element: _GeomFromWKB, compiler: SQLCompiler, **kw: Any) -> str:
    (value, _srid) = list(element.clauses)
    return compiler.process(value, **kw)


@compiles(_GeomFromWKB, "postgresql")
def _from_wkb_pg(element: _GeomFromWKB, compiler: SQLCompiler, **kw: Any) -> str:
    (value, srid) = list(element.clauses)
    return f"ST_GeomFromWKB({compiler.process(value, **kw)}, {compiler.process(srid, **kw)})"


@compiles(_GeomAsWKB)
def _as_wkb_plain(element: _GeomAsWKB, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = list(element.clauses)
    return compiler.process(value, **kw)


@compiles(_GeomAsWKB, "postgresql")
def _as_wkb_pg(element: _GeomAsWKB, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = list(element.clauses)
    return f"ST_AsBinary({compiler.process(value, **kw)})"


class Geometry(UserDefinedType[BaseGeometry]):
    """A geometry column: PostGIS on PostgreSQL, WKB on SQLite."""

    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY", srid: int = WGS84) -> None:
        self.geometry_type = geometry_type.upper()
        self.srid = srid

    def get_col_spec(self, **kw: Any) -> str:
        return f"geometry({self.geometry_type},{self.srid})"

    def bind_expression(self, bindvalue: Any) -> ColumnElement[Any]:
        from sqlalchemy import literal

        return _GeomFromWKB(bindvalue, literal(self.srid, Integer()))

    def column_expression(self, colexpr: Any) -> ColumnElement[Any]:
        expr = _GeomAsWKB(colexpr)
        # Typed as this Geometry so the result processor turns WKB into shapely.
        expr.type = self  # type: ignore[assignment]
        return expr

    def bind_processor(self, dialect: Dialect) -> Any:
        def process(value: BaseGeometry | bytes | None) -> bytes | None:
            if value is None or isinstance(value, bytes):
                return value
            return bytes(shapely.to_wkb(value))

        return process

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        def process(value: bytes | memoryview | None) -> BaseGeometry | None:
            if value is None:
                return None
            return shapely.from_wkb(bytes(value))

        return process


@compiles(Geometry, "sqlite")
def _geometry_sqlite_ddl(type_: Geometry, compiler: TypeCompiler, **kw: Any) -> str:
    return "BLOB"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # The default 2 MB page cache thrashes once incident indexes outgrow it.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine with the pragmas and options Pingan relies on."""
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    settings = get_settings()
    # Room for every request the gate lets in (api/gate.py) and a few background users:
    # connections past the pool's size are closed on return, and under load that meant a
    # new PostgreSQL backend (a fork and a login) every few requests.
    pool_size = settings.db_pool_size or settings.max_concurrent_requests + 4
    return create_engine(
        url, pool_pre_ping=settings.db_pool_pre_ping, pool_size=pool_size, max_overflow=10
    )


def _ensure_sqlite_dir(url: str) -> None:
    from pathlib import Path

    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A transaction: commits on success, rolls back on any error."""
    with transaction(session_factory(engine)) as session:
        yield session


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session from ``factory`` whose work commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = (
        session_or_engine.get_bind()
        if isinstance(session_or_engine, Session)
        else session_or_engine
    )
    return bind.dialect.name == "postgresql"
