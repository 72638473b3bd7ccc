"""Case numbers are gap-free and never issued twice, even to writers racing each other."""

from __future__ import annotations

import threading

from sqlalchemy import Engine

from pingan.cases.service import next_number
from pingan.kit.db import session_scope


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
