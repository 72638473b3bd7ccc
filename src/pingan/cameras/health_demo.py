"""Demo health history: three days of heartbeats, past outages, some cameras down now.

Built from heartbeats through the real intake and check, so every outage,
notice and availability figure in the demo comes from the same code paths
that production uses. A no-op once any camera has a live state.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import Engine, func, select

from pingan.cameras import health, health_intake
from pingan.cameras.health_models import CameraLiveState
from pingan.cameras.models import Camera, CameraStatus
from pingan.kit.db import session_scope, utcnow
from pingan.org.principal import Principal

HISTORY = dt.timedelta(days=3)
PAST_OUTAGE_SHARE = 0.05
DOWN_NOW_SHARE = 0.03
_CHUNK = 50_000


def seed_demo_health(engine: Engine, *, seed: int, now: dt.datetime | None = None) -> int:
    """Returns how many cameras are offline at the end (0 when already seeded)."""
    now = now or utcnow()
    with session_scope(engine) as session:
        if session.scalar(select(func.count()).select_from(CameraLiveState)):
            return 0
        ids = np.array(
            session.scalars(
                select(Camera.id)
                .where(Camera.status == CameraStatus.ACTIVE.value)
                .order_by(Camera.id)
            ).all(),
            dtype=np.int64,
        )
    if ids.size == 0:
        return 0
    rng = np.random.default_rng(seed)
    start = now - HISTORY
    t_start, t_now = health_intake.us(start), health_intake.us(now)
    hour = 3_600_000_000
    # 1. Every camera is first heard three days ago.
    _send(engine, ids, np.full(ids.size, t_start), np.ones(ids.size, bool), now)
    # 2. Some had an outage in the past: said offline, back after ~2 h (exponential).
    past = ids[rng.random(ids.size) < PAST_OUTAGE_SHARE]
    off = rng.integers(t_start + hour, t_now - 26 * hour, past.size)
    length = np.clip(rng.exponential(2 * hour, past.size), 60_000_000, 24 * hour)
    back = off + length.astype(np.int64)
    pair_ids = np.repeat(past, 2)
    pair_at = np.column_stack([off, back]).ravel()
    pair_online = np.tile([False, True], past.size)
    _send(engine, pair_ids, pair_at, pair_online, now)
    # 3. Most report a minute ago; the rest went silent between 30 min and 30 h ago.
    down = rng.random(ids.size) < DOWN_NOW_SHARE
    last = np.where(
        down,
        t_now - rng.integers(hour // 2, 30 * hour, ids.size),
        t_now - 60_000_000,
    )
    _send(engine, ids, last, np.ones(ids.size, bool), now)
    with session_scope(engine) as session:
        report = health.check(session, now=now, actor=Principal.system("demo"))
    return len(report.went_silent)


def _send(
    engine: Engine,
    ids: health_intake.I64,
    at_us: health_intake.I64,
    online: health_intake.B,
    now: dt.datetime,
) -> None:
    """Heartbeats straight into the intake (already valid), in chunks of whole cameras."""
    n = ids.size
    nan = np.full(n, np.nan)
    fps = np.where(online, 25.0, np.nan)
    beats = health_intake.Heartbeats(
        np.arange(n, dtype=np.int64), ids, at_us.astype(np.int64), online, fps, nan
    )
    system = Principal.system("demo")
    for begin in range(0, n, _CHUNK):
        end = min(n, begin + _CHUNK)
        # Keep a camera's reports together so none arrives "late" in the next chunk.
        while end < n and ids[end] == ids[end - 1]:
            end += 1
        with session_scope(engine) as session:
            health_intake.ingest(session, beats.take(np.arange(begin, end)), actor=system, now=now)
