"""Parallel reads of the event cube: the same rows as one stream, and the same times as the server.

The parallel path is PostgreSQL's (id ranges over several connections in one
exported snapshot); on SQLite the same calls must give the same answers
through the single path.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from pingan.incidents import cube as cube_module
from pingan.incidents import service
from pingan.incidents.cube import CubeFilter, EventCube, load_cube
from pingan.kit.db import session_scope
from pingan.org.principal import Principal
from tests.citykit import TestCity, grid_centre

SYSTEM = Principal.system("test")
UTC = dt.UTC
FIELDS = ("x", "y", "t", "type_id", "grid_id", "severity")


def _rows(n: int, seed: int, prefix: str) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(n):
        lon, lat = grid_centre(["W1", "W2", "E1", "E2"][i % 4])
        # Microseconds on purpose: the time conversion must keep them.
        when = start + dt.timedelta(seconds=int(rng.integers(0, 200 * 86400)),
                                    microseconds=int(rng.integers(0, 1_000_000)))  # fmt: skip
        rows.append(
            {
                "type": ["theft.bicycle", "fire", "dispute.neighbour"][i % 3],
                "occurred_at": when.isoformat(),
                "lon": lon + rng.uniform(-0.004, 0.004),
                "lat": lat + rng.uniform(-0.008, 0.008),
                "severity": int(rng.integers(1, 6)),
                "external_id": f"{prefix}{i}",
            }
        )
    return rows


def _committed(engine: Engine, n: int, seed: int = 3, prefix: str = "p") -> None:
    with session_scope(engine) as s:
        result = service.intake_batch(s, rows=_rows(n, seed, prefix), actor=SYSTEM)
        assert len(result.accepted) == n


def _sorted(c: EventCube) -> list[np.ndarray]:
    order = np.lexsort((c.severity, c.type_id, c.y, c.x, c.t))
    return [getattr(c, f)[order] for f in FIELDS]


def _fresh(engine: Engine, flt: CubeFilter, readers: int) -> EventCube:
    cube_module._cache.clear()
    with session_scope(engine) as s:
        return load_cube(s, flt, actor=SYSTEM, readers=readers)


@pytest.fixture(autouse=True)
def direct_query(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the direct query: no snapshot (test_cube_store.py has it)."""
    from pingan.settings import get_settings

    monkeypatch.setenv("PINGAN_CUBE_DIR", "")
    get_settings.cache_clear()


@pytest.fixture
def parallel_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Split every pull, however small, so the tests exercise the parallel path."""
    monkeypatch.setattr(cube_module, "PARALLEL_MIN_ROWS", 0)


@pytest.mark.usefixtures("parallel_always")
@pytest.mark.parametrize("readers", [2, 3, 7])
def test_parallel_ranges_equal_one_stream(
    engine: Engine, city: TestCity, readers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    _committed(engine, 600)
    flt = CubeFilter(since=dt.datetime(2026, 2, 1, tzinfo=UTC), types=("theft", "fire"))
    one = _fresh(engine, flt, readers=1)
    read = cube_module._read_in_snapshot
    ranges: list[str] = []

    def counted(*args: object) -> np.ndarray:
        ranges.append(str(args[2]))
        return read(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(cube_module, "_read_in_snapshot", counted)
    many = _fresh(engine, flt, readers=readers)
    postgres = engine.dialect.name == "postgresql"
    assert len(ranges) == (readers if postgres else 0)  # SQLite reads in one stream
    assert len(one) == len(many) > 100
    for a, b in zip(_sorted(one), _sorted(many), strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    # Ranges are read in id order, so the concatenation is in id order too.
    with session_scope(engine) as s:
        if s.get_bind().dialect.name == "postgresql":
            by_id = np.array(
                s.execute(
                    text(
                        "SELECT x FROM incidents WHERE occurred_at >= '2026-02-01T00:00:00Z' "
                        "AND type_id IN (SELECT id FROM incident_types WHERE code LIKE 'theft%' "
                        "OR code LIKE 'fire%') ORDER BY id"
                    )
                ).scalars().all()
            )  # fmt: skip
            np.testing.assert_array_equal(many.x, by_id)


@pytest.mark.usefixtures("parallel_always")
def test_parallel_sees_rows_written_in_this_transaction(engine: Engine, city: TestCity) -> None:
    _committed(engine, 200)
    cube_module._cache.clear()
    with session_scope(engine) as s:
        service.intake_batch(s, rows=_rows(50, 9, "u"), actor=SYSTEM)  # not committed yet
        seen = load_cube(s, CubeFilter(), actor=SYSTEM, readers=4)
        assert len(seen) == 250


@pytest.mark.usefixtures("parallel_always")
def test_parallel_pull_is_cached_and_follows_intake(engine: Engine, city: TestCity) -> None:
    _committed(engine, 300)
    first = _fresh(engine, CubeFilter(), readers=2)
    with session_scope(engine) as s:
        assert load_cube(s, CubeFilter(), actor=SYSTEM, readers=2) is first
    _committed(engine, 10, seed=11, prefix="q")
    with session_scope(engine) as s:
        again = load_cube(s, CubeFilter(), actor=SYSTEM, readers=2)
    assert len(again) == len(first) + 10


def test_times_equal_the_servers_epoch(session: Session, city: TestCity) -> None:
    """Epoch seconds to the microsecond, as the database itself computes them."""
    session.commit()
    service.intake_batch(session, rows=_rows(300, 5, "t"), actor=SYSTEM)
    c = load_cube(session, CubeFilter(), actor=SYSTEM)
    if session.get_bind().dialect.name == "postgresql":
        server = session.execute(
            text("SELECT extract(epoch FROM occurred_at)::float8 FROM incidents")
        ).scalars()
        np.testing.assert_array_equal(np.sort(c.t), np.sort(np.array(list(server))))
    else:  # julianday keeps whole milliseconds
        stored = session.execute(text("SELECT occurred_at FROM incidents")).scalars().all()
        want = np.sort([dt.datetime.fromisoformat(v).replace(tzinfo=UTC).timestamp()
                        if isinstance(v, str) else v.replace(tzinfo=UTC).timestamp()
                        for v in stored])  # fmt: skip
        np.testing.assert_allclose(np.sort(c.t), want, rtol=0, atol=1e-3)
