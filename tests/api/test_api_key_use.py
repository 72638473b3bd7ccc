"""An API key's last use is recorded about once a minute, and never makes requests queue."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import Engine, select, update

from pingan.kit.db import session_scope, utcnow
from pingan.org import auth, users
from pingan.org.models import ApiKey
from pingan.org.principal import Principal

SYSTEM = Principal.system("test")


def _key(engine: Engine) -> tuple[str, int]:
    with session_scope(engine) as s:
        user = users.create_user(s, username="bridge", password=None, is_service=True, actor=SYSTEM)
        secret, key = auth.create_api_key(s, user=user, name="cad", actor=SYSTEM)
        return secret, key.id


def _last_used(engine: Engine, key_id: int) -> dt.datetime | None:
    with session_scope(engine) as s:
        return s.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id))


def test_last_use_is_recorded_once_a_minute(engine: Engine, city: object) -> None:
    secret, key_id = _key(engine)
    with session_scope(engine) as s:
        auth.principal_from_api_key(s, secret)
    first = _last_used(engine, key_id)
    assert first is not None and utcnow() - first < dt.timedelta(minutes=1)
    with session_scope(engine) as s:
        auth.principal_from_api_key(s, secret)
    assert _last_used(engine, key_id) == first  # within the minute: no write
    with session_scope(engine) as s:
        s.execute(update(ApiKey).values(last_used_at=utcnow() - dt.timedelta(minutes=5)))
    with session_scope(engine) as s:
        auth.principal_from_api_key(s, secret)
    later = _last_used(engine, key_id)
    assert later is not None and utcnow() - later < dt.timedelta(minutes=1)


def test_a_request_recording_the_use_does_not_hold_up_the_next(
    engine: Engine, city: object
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: row locks are PostgreSQL's")
    secret, key_id = _key(engine)
    holder = engine.connect()
    tx = holder.begin()
    # Another request is recording the key's use and has not committed yet.
    holder.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=utcnow()))
    done = threading.Event()

    def second_request() -> None:
        with session_scope(engine) as s:
            auth.principal_from_api_key(s, secret)
        done.set()

    worker = threading.Thread(target=second_request, daemon=True)
    worker.start()
    try:
        assert done.wait(10), "the second request waited for the first one's row lock"
    finally:
        tx.rollback()
        holder.close()
        worker.join(10)
