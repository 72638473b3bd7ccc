"""Version counters: bumped in one statement, at commit when asked, never lost to a race."""

from __future__ import annotations

import threading

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pingan.kit import meta
from pingan.kit.db import session_scope


def test_bump_creates_then_increments_and_refreshes_a_loaded_copy(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert meta.get_version(session, "test.counter") == 0
        assert meta.bump_version(session, "test.counter") == 1
        entry = session.get(meta.MetaEntry, "test.counter")  # now in the identity map
        assert entry is not None and entry.value == "1"
        assert meta.bump_version(session, "test.counter") == 2
        assert meta.get_version(session, "test.counter") == 2
        assert entry.value == "2"


def test_bump_at_commit_happens_once_and_not_on_rollback(engine: Engine) -> None:
    with Session(engine) as session:
        meta.bump_version_at_commit(session, "test.late")
        meta.bump_version_at_commit(session, "test.late")
        assert meta.get_version(session, "test.late") == 0  # not yet
        session.commit()
        meta.bump_version_at_commit(session, "test.late")
        session.rollback()
        session.commit()
    with session_scope(engine) as session:
        assert meta.get_version(session, "test.late") == 1


def test_concurrent_bumps_are_all_counted(engine: Engine) -> None:
    with session_scope(engine) as session:
        meta.bump_version(session, "test.race")
    errors: list[BaseException] = []

    def bump_many() -> None:
        try:
            for _ in range(10):
                with session_scope(engine) as session:
                    meta.bump_version(session, "test.race")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=bump_many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_scope(engine) as session:
        assert meta.get_version(session, "test.race") == 41
