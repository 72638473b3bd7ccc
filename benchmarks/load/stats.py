"""Table statistics during a run, as a production PostgreSQL keeps them.

PostgreSQL plans each query from its statistics, which autovacuum refreshes
as tables change. This machine's PostgreSQL runs with ``autovacuum = off``
(a CI setting), so a freshly loaded database has none and the cases filed
during a run never show up in them: the planner then picks plans for empty
tables (seen: the clocks' status index scanned once per listed case). When
autovacuum is off, the harness analyses the database before the run and
every ``every_s`` seconds during it; when it is on, it leaves it to autovacuum.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import create_engine, text


def autovacuum_is_on(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text("SHOW autovacuum")).scalar() == "on")
    finally:
        engine.dispose()


def analyse(url: str) -> float:
    """ANALYZE the whole database; returns the seconds it took."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    started = time.monotonic()
    try:
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    return time.monotonic() - started


class StatisticsKeeper:
    """ANALYZE every ``every_s`` seconds on a thread, standing in for autovacuum."""

    def __init__(self, url: str, *, every_s: float = 60.0) -> None:
        self.url = url
        self.every_s = every_s
        self.runs: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="analyse", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> list[float]:
        self._stop.set()
        self._thread.join(timeout=60)
        return self.runs

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.runs.append(analyse(self.url))
