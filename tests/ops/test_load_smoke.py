"""The load harness of issue 11, run for ten seconds: every kind of request works, none fails.

``benchmarks/load/run.py`` against the test database (the tiny synthetic
city, a real uvicorn server, the Locust driver, alert streams held open),
with a handful of client seats. It asserts behaviour only, never timings: the
speed goals are for the full run on a quiet machine (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from benchmarks.load.weights import INCIDENTS_PER_BATCH, WEIGHTS, deck
from sqlalchemy import func, select

from pingan.cases.models import Case
from pingan.incidents.models import Incident
from pingan.kit.db import engine_for, session_scope
from tests.ops.procs import ROOT

STREAMS = 5


def test_the_deck_keeps_the_shares_and_spreads_each_kind() -> None:
    order = deck(WEIGHTS)
    assert Counter(order) == Counter(WEIGHTS)
    assert deck({"a": 3, "b": 1}) == ["a", "a", "b", "a"]  # smooth, by hand
    # Spread evenly: any stretch of a round holds each kind close to its share.
    for kind, weight in WEIGHTS.items():
        for start in range(len(order)):
            window = (order * 2)[start : start + 50]
            assert abs(window.count(kind) - weight / 2) <= 1, (kind, start)


def test_the_mix_runs_clean_against_a_real_server(
    db_url: str, backend: str, tmp_path: Path
) -> None:
    out = tmp_path / "load.json"
    # SQLite is the embedded single-writer backend: one seat (requests in turn) there;
    # concurrent writers are what the PostgreSQL run is for.
    seats = 10 if backend == "postgres" else 1
    command = [
        sys.executable,
        str(ROOT / "benchmarks/load/run.py"),
        "--database-url",
        db_url,
        "--scale",
        "tiny",
        "--days",
        "28",
        "--workers",
        "1",
        "--minutes",
        "0.17",
        "--ramp-seconds",
        "0",
        "--users",
        str(seats),
        "--rate",
        str(5 * seats),
        "--sse",
        str(STREAMS),
        "--rss-every",
        "1",
        "--cover-every-kind",
        "--json",
        str(out),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    # Exit 1 means goals not met, which a ten-second run never meets; the figures must exist.
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    doc = json.loads(out.read_text())
    load, sse = doc["load"], doc["sse"]

    assert load["total"]["failures"] == 0, load["errors"]
    assert load["total"]["requests"] > 0
    unexercised = [k for k in WEIGHTS if load["kinds"].get(k, {}).get("requests", 0) == 0]
    assert not unexercised, f"request kinds never sent: {unexercised}"

    assert sse["target"] == STREAMS
    assert sse["held_at_stop"] == STREAMS
    assert sse["refused"] == 0 and sse["disconnects"] == 0, sse["errors"]
    assert doc["rss"], "the server's memory was never sampled"

    # The writes landed: every batch's incidents and every filed case are stored.
    with session_scope(engine_for(db_url)) as session:
        stored = session.scalar(
            select(func.count(Incident.id)).where(Incident.external_id.like("load-%"))
        )
        filed = session.scalar(select(func.count(Case.id)).where(Case.title.like("%(load test)%")))
    assert stored >= load["kinds"]["incident_batch"]["requests"] * INCIDENTS_PER_BATCH
    creates = load["kinds"]["case_create"]["requests"] + load["kinds"]["open311_post"]["requests"]
    assert filed is not None and filed >= creates
    engine_for(db_url).dispose()
