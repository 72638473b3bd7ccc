"""Street segments in PostgreSQL at full scale: loading, reading, counting, briefings (issue 11).

Runs on a database that holds the full-scale city (``pingan sim city --scale
full``, e.g. as loaded by ``benchmarks/fullscale_city.py``; only the org tree
and the road network are used), old and new paths side by side, in one run:

1. load: the road network cut into 10 m segments (``streets.build_segments``,
   one COPY on PostgreSQL), timed whole; then the old and new insert paths on
   the first ``--insert-sample`` segments, each in a transaction rolled back;
2. read: ``segment_arrays`` the old way (the driver's fetchall), by binary
   COPY, and from the in-process cache (best and median of ``--repeat``);
3. counts: ``--cameras`` cameras scattered along the streets (the coverage
   benchmark's generator) counted in memory; the changed counts written one
   UPDATE per segment (old) and with ``UPDATE ... FROM unnest`` (new), each
   in a transaction rolled back (the old one on ``--count-sample`` segments);
   then the new way for real, so the briefings see a covered network;
4. briefings: the coverage KPI of a day with 28 briefings (weekly and monthly
   for the city and its 13 districts): the old KPI (the whole
   ``coverage_report``, segments read by fetchall in every call;
   ``--old-briefings`` calls), then the new one (``unit_street_coverage`` on
   the cached segments) for all 28, the first of which reads them.

    .venv/bin/python -m benchmarks.cameras_segments_db --db pingan_full_h2
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432"


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _stats(times: list[float]) -> str:
    return f"median {statistics.median(times):.2f} s, best {min(times):.2f} s (n={len(times)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--cameras", type=int, default=830_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--insert-sample", type=int, default=200_000)
    parser.add_argument("--count-sample", type=int, default=100_000)
    parser.add_argument("--old-briefings", type=int, default=2)
    parser.add_argument("--skip-build", action="store_true", help="segments are loaded")
    parser.add_argument(
        "--only-briefings", action="store_true", help="step 4 alone, on loaded, counted segments"
    )
    args = parser.parse_args()

    from pingan.kit.db import engine_for
    from pingan.org.principal import Principal

    engine = engine_for(f"{PG_BASE}/{args.db}")
    actor = Principal.system("bench")
    print(f"database {args.db}; load average {os.getloadavg()}", flush=True)

    if not args.only_briefings:
        _load_read_count(args, engine, actor)
    _briefings(args, engine, actor)
    print(f"load average at the end {os.getloadavg()}")


def _load_read_count(args: argparse.Namespace, engine: Any, actor: Any) -> None:
    from benchmarks.cameras_coverage import scatter_cameras

    from pingan.analytics.coverage import cover_counts
    from pingan.cameras import streets
    from pingan.cameras.models import StreetSegment
    from pingan.kit.db import session_scope

    # 1. load
    if not args.skip_build:
        with session_scope(engine) as s:
            t, n = _timed(lambda: streets.build_segments(s, actor=actor))
        print(f"load: build_segments (cut, count, one COPY): {n:,} segments in {t:.1f} s")
    with session_scope(engine) as s:
        n_seg = streets.segment_count(s)
        sample = s.execute(
            text(
                "SELECT edge_id, seq, road_class, length_m, x, y, grid_id, cover_count, "
                "ST_AsBinary(geom) FROM camera_street_segments ORDER BY id LIMIT :n"
            ),
            {"n": args.insert_sample},
        ).all()
    import shapely

    names = ["edge_id", "seq", "road_class", "length_m", "x", "y", "grid_id", "cover_count"]
    columns = {name: [r[k] for r in sample] for k, name in enumerate(names)}
    geoms = shapely.from_wkb([bytes(r[8]) for r in sample])
    for label, insert in (
        ("old (executemany, 10,000 a statement)", streets.insert_segments_per_row),
        ("new (COPY FROM STDIN)", streets._insert_by_copy),
    ):
        with Session(engine) as s:
            s.execute(text("TRUNCATE camera_street_segments"))
            t, _ = _timed(lambda ins=insert: ins(s, columns, geoms, None))  # type: ignore[misc]
            s.rollback()
        print(f"load: insert {len(sample):,} segments, {label}: {t:.1f} s "
              f"({len(sample) / t:,.0f} rows/s)", flush=True)  # fmt: skip

    # 2. read
    for label, read in (
        ("old (fetchall)", streets._read_fetchall),
        ("new (binary COPY)", streets._read_copy),
    ):
        times = []
        for _ in range(args.repeat):
            with session_scope(engine) as s:
                t, arrays = _timed(lambda r=read: r(s))  # type: ignore[misc]
            times.append(t)
        print(f"read {len(arrays['id']):,} segments, {label}: {_stats(times)}", flush=True)
    with session_scope(engine) as s:
        streets.segment_arrays(s)  # fills the cache (the stamp was written by the load)
    times = []
    for _ in range(args.repeat):
        with session_scope(engine) as s:
            t, _ = _timed(lambda: streets.segment_arrays(s))
        times.append(t)
    print(f"read, cached (stamp and roads version checked): {_stats(times)}", flush=True)

    # 3. counts
    with session_scope(engine) as s:
        seg = streets.segment_arrays(s)
    sectors = scatter_cameras(np.random.default_rng(1), seg["x"], seg["y"], args.cameras)
    counts = cover_counts(sectors, seg["x"], seg["y"], workers=2)
    changed = np.flatnonzero(counts != seg["count"])
    ids, new_counts = seg["id"][changed], counts[changed]
    print(f"counts: {args.cameras:,} cameras cover {int((counts > 0).sum()):,} of {n_seg:,} "
          f"segments; {len(changed):,} counts to write", flush=True)  # fmt: skip
    k = min(args.count_sample, len(ids))
    for label, write, n in (
        ("old (one UPDATE per segment)", streets.write_counts_per_row, k),
        ("new (UPDATE ... FROM unnest)", streets.write_counts, k),
        ("new (UPDATE ... FROM unnest)", streets.write_counts, len(ids)),
    ):
        with Session(engine) as s:
            t, _ = _timed(lambda w=write, m=n: w(s, ids[:m], new_counts[:m]))  # type: ignore[misc]
            s.rollback()
        print(f"counts: write {n:,}, {label}: {t:.1f} s ({n / t:,.0f} rows/s)", flush=True)
    with session_scope(engine) as s:
        t, _ = _timed(lambda: streets.write_counts(s, ids, new_counts))
        streets.mark_segments_changed(s)
        covered = s.scalar(
            select(func.count()).select_from(StreetSegment).where(StreetSegment.cover_count > 0)
        )
    print(f"counts written for the briefings: {t:.1f} s; {covered:,} segments covered")


def _briefings(args: argparse.Namespace, engine: Any, actor: Any) -> None:
    from pingan.cameras import coverage, streets
    from pingan.kit.db import session_scope
    from pingan.org.levels import Level
    from pingan.org.models import OrgUnit

    # 4. briefings
    with session_scope(engine) as s:
        units = s.execute(
            select(OrgUnit.id, OrgUnit.level).where(
                OrgUnit.level.in_([Level.CITY.value, Level.DISTRICT.value])
            )
        ).all()
    calls = [(uid, Level(level)) for uid, level in units] * 2  # weekly and monthly
    old_times, old_figures = [], {}
    for uid, level in calls[: args.old_briefings]:
        with session_scope(engine) as s:
            original = coverage.segment_arrays
            coverage.segment_arrays = streets._read_fetchall  # type: ignore[assignment]
            try:
                t, report = _timed(
                    lambda lv=level: coverage.coverage_report(
                        s, actor=actor, level=lv, incident_days=None
                    )
                )
            finally:
                coverage.segment_arrays = original
        area = next(a for a in report.areas if a.org_unit_id == uid)
        old_figures[uid] = (area.total_m, area.covered_m)
        old_times.append(t)
    print(f"briefing coverage KPI, old (the whole report, segments read by fetchall): "
          f"{_stats(old_times)} per briefing -> {len(calls)} briefings "
          f"~{statistics.median(old_times) * len(calls):,.0f} s", flush=True)  # fmt: skip
    new_times, same = [], True
    for uid, _level in calls:
        with session_scope(engine) as s:
            t, found = _timed(
                lambda u=uid: coverage.unit_street_coverage(s, actor=actor, unit_id=u)
            )
        if uid in old_figures:
            same &= bool(np.allclose(found, old_figures[uid], rtol=1e-9))
        new_times.append(t)
    print(f"briefing coverage KPI, new (the unit's figure, cached segments): {len(calls)} "
          f"briefings in {sum(new_times):.1f} s ({_stats(new_times)}; first, with the read, "
          f"{new_times[0]:.2f} s); same figures as the old path: {same}")  # fmt: skip


if __name__ == "__main__":
    main()
