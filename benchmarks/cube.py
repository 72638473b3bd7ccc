"""The event cube: N incidents from PostgreSQL into numpy arrays.

A fresh PostgreSQL database gets the bench lattice city and N incidents
generated server-side (INSERT ... SELECT generate_series, so loading is not
what is timed). Then, in the same run:

- pingan ``incidents.cube.load_cube`` with ``--readers`` connections (id
  ranges in one exported snapshot) and with one stream (``readers=1``),
- the server's floor: the same binary COPY drained and thrown away,
- the peer: ``pandas.read_sql`` of the same columns through SQLAlchemy,
- and plain ``fetchall`` into numpy,

each cold (cache cleared) and median of repeats; the ratio is printed.

With ``--snapshot`` (the default) it also times the columnar snapshot on disk
(``PINGAN_CUBE_DIR``, incidents/cube_store.py) in the same run: (a) the first
build from an empty directory, (b) a cold pull from the existing snapshot
(in-memory cache dropped; page cache warm, and again after dropping the OS
page cache where this process may), (c) the sync after 10,000 new rows, and
(d) a filtered pull (one month, one type) from the snapshot and directly.
``--url`` measures an existing database instead (e.g. the full-scale city of
``benchmarks/fullscale_city.py``), without touching its rows.

    .venv/bin/python benchmarks/cube.py               # 10,000,000 incidents
    .venv/bin/python benchmarks/cube.py --n 1000000
    .venv/bin/python benchmarks/cube.py --n 2000000 --no-fetchall   # docs/benchmarks.md
    .venv/bin/python benchmarks/cube.py --url postgresql+psycopg://postgres@127.0.0.1:5432/pingan_full
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))

from ingest import LAT0, LON0, SIDE, SYSTEM, drop_database, fresh_database

from pingan.incidents import cube
from pingan.kit.db import engine_for, session_scope
from pingan.settings import get_settings

COLUMNS = "x, y, extract(epoch from occurred_at)::float8 AS t, type_id, grid_id, severity"


def fill(url: str, n: int, prefix: str = "b") -> None:
    """N incidents made by the server; indexes dropped during the load, rebuilt after."""
    engine = engine_for(url)
    with engine.begin() as conn:
        grids = [r[0] for r in conn.execute(text("SELECT id FROM org_units WHERE level = 'grid'"))]
        anc = (
            conn.execute(text("SELECT id FROM org_units WHERE level <> 'grid' ORDER BY id"))
            .scalars()
            .all()
        )
        conn.execute(text("DROP INDEX IF EXISTS ix_incidents_geom"))
        conn.execute(
            text(
                f"""
                INSERT INTO incidents (type_id, occurred_at, reported_at, geom, lon, lat, x, y,
                    severity, source, status, external_id, grid_id, community_id,
                    subdistrict_id, district_id, city_id, created_at, updated_at)
                SELECT 1 + (g % 20), ts, ts, ST_SetSRID(ST_MakePoint(lon, lat), 4326), lon, lat,
                    500000 + lon * 1000, 3300000 + lat * 1000, 1 + (g % 5), 'bench', 'closed',
                    :prefix || g, (:grids)[1 + (g % :ngrids)], :a3, :a2, :a1, :a0, now(), now()
                FROM (
                    SELECT g, {LON0} + random() * {SIDE} AS lon, {LAT0} + random() * {SIDE} AS lat,
                        timestamptz '2026-01-01' + random() * interval '365 days' AS ts
                    FROM generate_series(1, :n) AS g
                ) AS s
                """
            ),
            {
                "n": n, "prefix": prefix, "grids": grids, "ngrids": len(grids),
                "a0": anc[0], "a1": anc[1], "a2": anc[2], "a3": anc[3],
            },
        )  # fmt: skip
        conn.execute(text("ANALYZE incidents"))


def use_snapshot(directory: str) -> None:
    """Point the cube at a snapshot directory; empty: the direct query."""
    os.environ["PINGAN_CUBE_DIR"] = directory
    get_settings.cache_clear()


def time_pingan(
    url: str, readers: int = 1, flt: cube.CubeFilter | None = None
) -> tuple[float, int]:
    cube._cache.clear()
    started = time.perf_counter()
    with session_scope(engine_for(url)) as session:
        result = cube.load_cube(session, flt or cube.CubeFilter(), actor=SYSTEM, readers=readers)
    return time.perf_counter() - started, len(result)


def time_direct(
    url: str, readers: int = 1, flt: cube.CubeFilter | None = None
) -> tuple[float, int]:
    use_snapshot("")
    return time_pingan(url, readers, flt)


def drop_page_cache() -> bool:
    """Drop the OS page cache (root only); False where this process may not."""
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as handle:
            handle.write("1\n")
        return True
    except OSError:
        return False


ONE_MONTH = cube.CubeFilter(
    since=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    until=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
    types=("theft",),
)


def snapshot_results(url: str, n: int, repeats: int, workdir: str) -> dict[str, float]:
    """(a) first build, (b) cold pulls, (c) sync after 10,000 rows, (d) a filtered pull."""
    results: dict[str, float] = {}

    def record(name: str, runs: list[tuple[float, int]], want: int | None) -> None:
        assert want is None or all(count == want for _, count in runs), runs
        results[name] = statistics.median(t for t, _ in runs)
        print(f"{name:30s} median {results[name]:7.2f} s over {len(runs)}", flush=True)

    builds = []
    for _ in range(repeats):
        shutil.rmtree(workdir, ignore_errors=True)
        use_snapshot(workdir)
        builds.append(time_pingan(url))
    record("snapshot: first build", builds, n)
    record("snapshot: cold pull", [time_pingan(url) for _ in range(repeats)], n)
    dropped = []
    for _ in range(repeats):
        if not drop_page_cache():
            print("  (the page cache cannot be dropped here: cold pulls ran with it warm)")
            break
        dropped.append(time_pingan(url))
    if dropped:
        record("snapshot: cold pull, no page cache", dropped, n)
    synced = []
    for k in range(repeats):
        fill(url, 10_000, prefix=f"new{k}-")
        n += 10_000
        synced.append(time_pingan(url))
        assert synced[-1][1] == n, synced
    record("snapshot: sync after 10,000 rows", synced, None)
    month = [time_pingan(url, flt=ONE_MONTH) for _ in range(repeats)]
    record("snapshot: one month, one type", month, month[0][1])
    direct = [time_direct(url, flt=ONE_MONTH) for _ in range(repeats)]
    use_snapshot(workdir)
    record("direct: one month, one type", direct, month[0][1])  # the same rows
    return results


RAW_COLUMNS = "x, y, occurred_at, type_id, grid_id, severity"


def time_copy_drained(url: str, columns: str = RAW_COLUMNS) -> tuple[float, int]:
    """The server's side alone: binary COPY of the raw columns, blocks counted and dropped."""
    started = time.perf_counter()
    size = 0
    raw = engine_for(url).raw_connection()
    try:
        sql = f"SELECT {columns} FROM incidents"
        with (
            raw.driver_connection.cursor() as cur,
            cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)") as copy,
        ):
            for block in copy:
                size += len(block)
        raw.driver_connection.rollback()
    finally:
        raw.close()
    return time.perf_counter() - started, (size - 21) // 60


def time_pandas(url: str) -> tuple[float, int]:
    import pandas as pd

    started = time.perf_counter()
    with engine_for(url).connect() as conn:
        frame = pd.read_sql(text(f"SELECT {COLUMNS} FROM incidents"), conn)
    arrays = {c: frame[c].to_numpy() for c in frame.columns}
    return time.perf_counter() - started, len(arrays["x"])


def time_fetchall(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    with engine_for(url).connect() as conn:
        rows = conn.execute(text(f"SELECT {COLUMNS} FROM incidents")).all()
    table = np.array(rows, dtype=np.float64)
    return time.perf_counter() - started, len(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--readers", type=int, default=cube.DEFAULT_READERS)
    parser.add_argument("--url", help="an existing, loaded database (left as it is)")
    parser.add_argument("--no-fetchall", action="store_true", help="skip the slowest peer")
    parser.add_argument("--no-snapshot", action="store_true", help="skip the snapshot on disk")
    args = parser.parse_args()
    url = args.url or fresh_database("postgres", Path("/tmp"))
    workdir = tempfile.mkdtemp(prefix="pingan-cube-bench-")
    try:
        if not args.url:
            t0 = time.perf_counter()
            fill(url, args.n)
            print(f"generated {args.n:,} incidents in PostgreSQL in "
                  f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
        with engine_for(url).connect() as conn:
            n = int(conn.execute(text("SELECT count(*) FROM incidents")).scalar_one())
        print(f"{n:,} incidents; load average {os.getloadavg()}")
        ours = f"pingan load_cube, {args.readers} readers"
        methods = [
            (ours, functools.partial(time_direct, readers=args.readers)),
            ("pingan load_cube, 1 stream", functools.partial(time_direct, readers=1)),
            ("binary COPY drained (floor)", time_copy_drained),
            ("same, extract(epoch) (old)", functools.partial(time_copy_drained, columns=COLUMNS)),
            ("pandas.read_sql", time_pandas),
        ]
        if not args.no_fetchall:
            methods.append(("fetchall + numpy", time_fetchall))
        results = {}
        for name, fn in methods:
            runs = [fn(url) for _ in range(args.repeats)]
            assert all(count == n for _, count in runs), runs
            results[name] = statistics.median(t for t, _ in runs)
            print(f"{name:30s} median {results[name]:7.2f} s over {args.repeats}", flush=True)
        base = results[ours]
        for name in results:
            if name != ours:
                print(f"{name} / {ours}: {results[name] / base:.2f}x")
        if not args.no_snapshot and not args.url:
            snap = snapshot_results(url, n, args.repeats, workdir)
            pull = snap["snapshot: cold pull"]
            for name in (ours, "binary COPY drained (floor)", "pandas.read_sql"):
                print(f"{name} / snapshot cold pull: {results[name] / pull:.1f}x")
            print(f"snapshot first build / {ours}: {snap['snapshot: first build'] / base:.2f}x")
            month = snap["direct: one month, one type"] / snap["snapshot: one month, one type"]
            print(f"one month, one type: direct / snapshot: {month:.1f}x")
        print(f"load average at the end {os.getloadavg()}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if not args.url:
            drop_database(url)


if __name__ == "__main__":
    main()
