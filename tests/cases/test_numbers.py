"""Case numbers are never issued twice, even to writers racing each other, and
consecutive as filings commit; on PostgreSQL a filing that has taken its number
holds up no other filing."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine

from pingan.cases.service import next_number
from pingan.kit.db import session_factory, session_scope


def test_racing_writers_get_distinct_consecutive_numbers(engine: Engine) -> None:
    writers, each = 6, 15
    issued: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(writers)
    lock = threading.Lock()

    def write() -> None:
        try:
            start.wait()
            for _ in range(each):
                with session_scope(engine) as session:
                    number = next_number(session, "GE", 2026)
                with lock:
                    issued.append(number)
        except BaseException as exc:  # reported below, with the numbers seen
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(issued) == [f"GE-2026-{n:06d}" for n in range(1, writers * each + 1)]


def test_numbers_restart_per_prefix_and_year(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert next_number(session, "GE", 2026) == "GE-2026-000001"
        assert next_number(session, "GE", 2026) == "GE-2026-000002"
        assert next_number(session, "GE", 2027) == "GE-2027-000001"
        assert next_number(session, "XF", 2026) == "XF-2026-000001"


def test_a_number_taken_holds_up_no_other_filing(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: the counter is taken in the filing")
    with session_scope(engine) as session:
        assert next_number(session, "GE", 2026) == "GE-2026-000001"
    holder = session_factory(engine)()
    try:
        # A filing has its number and has not committed yet (say, it is adding its clocks).
        assert next_number(holder, "GE", 2026) == "GE-2026-000002"
        got: list[str] = []

        def other_filing() -> None:
            with session_scope(engine) as session:
                got.append(next_number(session, "GE", 2026))

        other = threading.Thread(target=other_filing)
        other.start()
        other.join(timeout=10)
        assert got == ["GE-2026-000003"], "the second filing waited for the first to commit"
    finally:
        holder.rollback()  # the first filing fails: its number stays unused
        holder.close()
    with session_scope(engine) as session:
        assert next_number(session, "GE", 2026) == "GE-2026-000004"
