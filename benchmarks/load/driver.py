"""Runs the mix with Locust as a library, headless, for a fixed time; writes its figures as JSON.

A process of its own because Locust patches the standard library for gevent
on import; the orchestrator (``run.py``) stays a plain Python process.

    python -m benchmarks.load.driver PLAN.json RESULT.json --users 100 --rate 1000 --seconds 600
"""

from __future__ import annotations

# Locust must patch sockets before anything else imports them.
import locust  # noqa: F401  isort: skip

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]
from benchmarks.load.city import Plan
from benchmarks.load.mix import client_class
from benchmarks.load.weights import WEIGHTS
from locust.env import Environment
from locust.stats import RequestStats, StatsEntry

COVER_LIMIT_S = 120.0


def _every_kind_answered(stats: RequestStats) -> bool:
    answered = {e.name for e in stats.entries.values() if e.num_requests}
    return set(WEIGHTS) <= answered


def entry_doc(entry: StatsEntry, seconds: float) -> dict[str, Any]:
    return {
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "per_s": entry.num_requests / seconds if seconds > 0 else 0.0,
        "p50_ms": entry.get_response_time_percentile(0.5) if entry.num_requests else None,
        "p95_ms": entry.get_response_time_percentile(0.95) if entry.num_requests else None,
        "p99_ms": entry.get_response_time_percentile(0.99) if entry.num_requests else None,
        "max_ms": entry.max_response_time if entry.num_requests else None,
    }


def summarise(stats: RequestStats, seconds: float) -> dict[str, Any]:
    kinds = {name: entry_doc(stats.get(name, method), seconds) for name, method in stats.entries}
    errors = Counter[str]()
    for error in stats.errors.values():
        errors[f"{error.name}: {error.error}"] += error.occurrences
    return {
        "seconds": seconds,
        "kinds": kinds,
        "total": entry_doc(stats.total, seconds),
        "errors": [{"what": what, "count": n} for what, n in errors.most_common(20)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("plan", type=Path)
    parser.add_argument("result", type=Path)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="requests/s over all users")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument(
        "--cover-every-kind",
        action="store_true",
        help=f"after --seconds, go on (at most {COVER_LIMIT_S:g} s) until every kind answered",
    )
    parser.add_argument("--ramp-seconds", type=float, default=5.0, help="0: measure from the start")
    args = parser.parse_args()

    plan = Plan.from_json(json.loads(args.plan.read_text()))
    client = client_class(plan, users=args.users, rate=args.rate)
    env = Environment(user_classes=[client])
    runner = env.create_local_runner()
    runner.start(args.users, spawn_rate=max(1.0, args.users / max(args.ramp_seconds, 0.1)))
    if args.ramp_seconds > 0:
        # Figures are taken over the steady part only: from the moment every user runs.
        gevent.sleep(args.ramp_seconds)
        while runner.user_count < args.users:
            gevent.sleep(0.1)
        env.stats.reset_all()
    started = time.monotonic()
    gevent.sleep(args.seconds)
    if args.cover_every_kind:
        # On a slow machine a rare kind may not have answered yet: wait for it, within a bound.
        deadline = time.monotonic() + COVER_LIMIT_S
        while time.monotonic() < deadline and not _every_kind_answered(env.stats):
            gevent.sleep(0.2)
    elapsed = time.monotonic() - started
    doc = summarise(env.stats, elapsed)
    doc["users"] = args.users
    doc["target_rate"] = args.rate
    doc["weights"] = WEIGHTS
    runner.quit()
    args.result.write_text(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
