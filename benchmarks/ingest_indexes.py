"""What each index of ``incidents`` costs an intake batch on PostgreSQL.

A fresh database with N incidents generated server-side (not timed), then
10,000-row binary COPY batches into ``incidents`` (same shape as intake
writes), first with every index, then after dropping them one by one. For
each index set it prints the median wall time and the median CPU time of the
server backend (read from /proc, so it needs the server on this machine);
CPU time is the figure to trust when the machine is busy.

    .venv/bin/python benchmarks/ingest_indexes.py            # 1,000,000 stored rows
    .venv/bin/python benchmarks/ingest_indexes.py --n 200000
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from ingest import backend_cpu_seconds, drop_database, fresh_database

_COLUMNS = (
    "type_id, occurred_at, reported_at, geom, lon, lat, x, y, severity, source, status, "
    "external_id, grid_id, community_id, subdistrict_id, district_id, city_id, created_at, "
    "updated_at"
)
# Random points over the bench city, random times over 300 days, like benchmarks/ingest.py.
_ROWS = """
SELECT 1 + (random() * 4)::int, ts, ts, ST_SetSRID(ST_MakePoint(lo, la), 4326), lo, la,
       lo * 1e5, la * 1e5, 2::smallint, 'call', 'reported', '{tag}-' || g,
       (%(grids)s::int[])[1 + g %% 400], 1, 1, 1, 1, now(), now()
FROM (SELECT g, 120.001 + random() * 0.198 AS lo, 30.001 + random() * 0.198 AS la,
             timestamptz '2026-01-01' + random() * interval '300 days' AS ts
      FROM generate_series(1, {n}) AS g) AS s
"""
# Dropped in this order; the last set is the primary key and the (source, external_id) key.
_DROPS = [
    "ix_incidents_geom",
    "ix_incidents_occurred_at",
    "ix_incidents_grid_occurred",
    "ix_incidents_district_occurred",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="incidents stored first")
    parser.add_argument("--reps", type=int, default=5, help="batches per index set")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database("postgres", Path(tmp))
        try:
            run(url.replace("postgresql+psycopg", "postgresql"), args.n, args.reps)
        finally:
            drop_database(url)


def run(dsn: str, n: int, reps: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        grids = [r[0] for r in conn.execute("SELECT id FROM org_units WHERE level = 'grid'")]
        conn.execute(  # type: ignore[call-overload]
            f"INSERT INTO incidents ({_COLUMNS}) " + _ROWS.format(tag="base", n=n),
            {"grids": grids},
        )
        conn.execute("VACUUM ANALYZE incidents")
        present = {
            r[0]
            for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'incidents'")
        }
        print(f"{n:,} incidents stored; indexes: {', '.join(sorted(present))}")
        for dropped in [None, *_DROPS]:
            if dropped is not None:
                if dropped not in present:
                    continue
                conn.execute(f"DROP INDEX {dropped}")
                present.discard(dropped)
            wall, cpu = measure(conn, grids, reps)
            label = "every index" if dropped is None else f"without {dropped} (and above)"
            print(
                f"{label:55s} wall {wall * 1e3:7.1f} ms   server CPU {cpu * 1e3:6.1f} ms"
                "   per 10,000 rows"
            )


def measure(
    conn: psycopg.Connection[tuple[object, ...]], grids: list[int], reps: int
) -> tuple[float, float]:
    pid = conn.info.backend_pid
    walls, cpus = [], []
    for _ in range(reps):
        payload = io.BytesIO()
        query = _ROWS.format(tag=uuid.uuid4().hex[:8], n=10_000)
        with conn.cursor().copy(  # type: ignore[call-overload]
            f"COPY ({query}) TO STDOUT (FORMAT BINARY)", {"grids": grids}
        ) as copy:
            for block in copy:
                payload.write(bytes(block))
        c0, t0 = backend_cpu_seconds(pid) or 0.0, time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor().copy(f"COPY incidents ({_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.write(payload.getvalue())
        walls.append(time.perf_counter() - t0)
        cpus.append((backend_cpu_seconds(pid) or 0.0) - c0)
    return statistics.median(walls), statistics.median(cpus)


if __name__ == "__main__":
    main()
