"""Figures of a load run and the verdict against the goals of issue 11."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from benchmarks.load.server import MemorySamples


@dataclass(frozen=True)
class Goals:
    per_s: float = 1000.0
    p99_ms: float = 200.0
    minutes: float = 10.0
    soak_minutes: float = 30.0
    sse: int = 500
    # "Memory flat": the total RSS of the workers grows less than this per 10 minutes.
    flat_mb_per_10min: float = 5.0


def rss_slope_mb_per_10min(samples: MemorySamples) -> float | None:
    """Least-squares slope of total RSS after a warm-up (the first fifth, at most 5 minutes)."""
    if len(samples.rows) < 3:
        return None
    t = np.array([r[0] for r in samples.rows])
    mb = np.array([r[1] for r in samples.rows])
    warm = min(300.0, 0.2 * float(t[-1]))
    keep = t >= warm
    if keep.sum() < 3:
        return None
    slope_per_s = np.polyfit(t[keep], mb[keep], 1)[0]
    return float(slope_per_s * 600.0)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def render(
    *,
    load: dict[str, Any],
    sse: dict[str, Any] | None,
    memory: MemorySamples,
    goals: Goals,
    soak: bool,
    minutes: float,
    workers: int,
) -> tuple[list[str], dict[str, bool]]:
    """Report lines and {goal: passed}."""
    lines = [
        f"{'kind':16} {'weight':>6} {'requests':>9} {'per s':>8} {'errors':>7} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}"
    ]
    weights = load.get("weights", {})
    kinds = load["kinds"]
    for name in sorted(kinds, key=lambda k: -kinds[k]["requests"]):
        k = kinds[name]
        lines.append(
            f"{name:16} {weights.get(name, ''):>6} {k['requests']:9,} {k['per_s']:8,.1f} "
            f"{k['failures']:7,} {_ms(k['p50_ms']):>7} {_ms(k['p95_ms']):>7} "
            f"{_ms(k['p99_ms']):>7} {_ms(k['max_ms']):>7}"
        )
    total = load["total"]
    lines.append(
        f"{'all':16} {'100':>6} {total['requests']:9,} {total['per_s']:8,.1f} "
        f"{total['failures']:7,} {_ms(total['p50_ms']):>7} {_ms(total['p95_ms']):>7} "
        f"{_ms(total['p99_ms']):>7} {_ms(total['max_ms']):>7}"
    )
    for error in load["errors"]:
        lines.append(f"  error x{error['count']}: {error['what'][:160]}")
    missing = [k for k in weights if k not in kinds or kinds[k]["requests"] == 0]
    if missing:
        lines.append(f"  kinds never exercised: {', '.join(missing)}")

    if sse is not None:
        lines.append(
            f"alert streams: {sse['target']} wanted, held {sse['held_at_stop']} at the end, "
            f"least {sse['min_open_after_ramp']} and most {sse['max_open']} during the run "
            f"(all open after {sse['ramp_s'] if sse['ramp_s'] is None else round(sse['ramp_s'], 1)}"
            f" s); {sse['keepalives']:,} keep-alives and {sse['alert_events']:,} alert events "
            f"received; {sse['disconnects']} disconnects, {sse['refused']} refused"
        )
        for error in sse["errors"][:3]:
            lines.append(f"  stream error: {error}")

    rows = memory.rows
    slope = rss_slope_mb_per_10min(memory)
    if rows:
        mb = [r[1] for r in rows]
        lines.append(
            f"server RSS (all workers, MB, every {memory.every_s:g} s, {len(rows)} samples): "
            f"first {mb[0]:,.0f}, last {mb[-1]:,.0f}, max {max(mb):,.0f}; "
            f"per worker last {', '.join(f'{x:,.0f}' for x in rows[-1][2])}; "
            f"slope {'-' if slope is None else f'{slope:+.1f}'} MB per 10 min"
        )

    restarts = max(0, len(memory.pids) - workers)
    if restarts:
        lines.append(f"server workers restarted {restarts} time(s) during the run")

    verdict: dict[str, bool] = {}
    if soak:
        verdict[f"memory flat (< {goals.flat_mb_per_10min:g} MB per 10 min)"] = (
            slope is not None and slope < goals.flat_mb_per_10min
        )
    else:
        verdict[f">= {goals.per_s:,.0f} requests/s"] = total["per_s"] >= goals.per_s
        verdict[f"p99 < {goals.p99_ms:g} ms"] = (
            total["p99_ms"] is not None and total["p99_ms"] < goals.p99_ms
        )
        verdict[f"{goals.sse} alert streams held"] = bool(
            sse is not None
            and sse["target"] >= goals.sse
            and (sse["min_open_after_ramp"] or 0) >= goals.sse
            and sse["disconnects"] == 0
        )
    verdict["zero errors"] = (
        total["failures"] == 0 and total["requests"] > 0 and not missing and not restarts
    )
    wanted = goals.soak_minutes if soak else goals.minutes
    verdict[f"ran {wanted:g} minutes"] = minutes >= wanted
    for goal, ok in verdict.items():
        lines.append(f"{'PASS' if ok else 'FAIL'}  {goal}")
    return lines, verdict
