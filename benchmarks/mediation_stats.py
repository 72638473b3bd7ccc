"""Mediation statistics over N disputes, with pandas as the peer in the same run.

* ours: ``pingan.governance.mediation_stats.mediation_stats`` — one scoped
  query, then plain Python grouping (totals, by category, by district, trend);
* peer: ``pandas.read_sql`` of the same joined columns, then ``groupby`` for
  the same figures.

Both must agree (counts exactly, rates and days to 1e-9). Disputes are bulk
inserted into a fresh SQLite database (a 4-district city), deterministic by
seed; the figures are over a whole year. Prints median of 3 and the ratio.

    .venv/bin/python benchmarks/mediation_stats.py              # N = 50,000
    .venv/bin/python benchmarks/mediation_stats.py --n 200000
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from shapely import box
from sqlalchemy import Engine, insert, select

from pingan.bootstrap import seed_reference_data
from pingan.cases.models import Case, CaseCategory
from pingan.governance.mediation_models import Dispute
from pingan.governance.mediation_service import ensure_categories
from pingan.governance.mediation_stats import mediation_stats
from pingan.kit.db import engine_for, session_scope
from pingan.kit.migrate import upgrade
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal
from pingan.org.service import UnitSpec, add_units

SYSTEM = Principal.system("bench")
START, END = dt.date(2026, 1, 1), dt.date(2027, 1, 1)
OUTCOMES = ["agreed"] * 6 + ["partial", "referred", "withdrawn"] + [None] * 2


def build(engine: Engine, n: int, seed: int) -> None:
    rng = random.Random(seed)
    with session_scope(engine) as s:
        seed_reference_data(s)
        specs = [UnitSpec(Level.CITY, "C", "市", "City", box(0, 0, 4, 1))]
        for d in range(4):
            parent = "C"
            for level, prefix in (
                (Level.DISTRICT, "D"),
                (Level.SUBDISTRICT, "S"),
                (Level.COMMUNITY, "M"),
                (Level.GRID, "G"),
            ):
                code = f"{prefix}{d}"
                specs.append(
                    UnitSpec(level, code, code, code, box(d, 0, d + 1, 1), parent_code=parent)
                )
                parent = code  # fmt: skip
        add_units(s, specs, actor=SYSTEM)
        ensure_categories(s)
        categories = list(
            s.scalars(select(CaseCategory.id).where(CaseCategory.case_type == "mediation"))
        )
        grids = list(s.scalars(select(OrgUnit).where(OrgUnit.level == Level.GRID.value)))
        t0 = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
        cases, disputes = [], []
        for i in range(1, n + 1):
            grid = rng.choice(grids)
            created = t0 + dt.timedelta(seconds=rng.uniform(0, 390 * 86400))
            outcome = rng.choice(OUTCOMES)
            accepted = outcome != "withdrawn" or rng.random() < 0.5
            at = created + dt.timedelta(days=rng.uniform(0.5, 45)) if outcome else None
            cases.append({
                "id": i, "number": f"MD-B-{i:07d}", "case_type": "mediation",
                "state": outcome or "mediating", "is_open": outcome is None,
                "category_id": rng.choice(categories), "title": "t", "description": "",
                "address": "", "grid_id": grid.id, "grid_path": grid.path, "unit_id": grid.id,
                "unit_path": grid.path, "department": "mediation", "source": "bench",
                "public_token": f"tok{i}", "supervision_flag": False, "status_note": "",
                "created_at": created, "updated_at": at or created, "closed_at": at,
            })  # fmt: skip
            disputes.append({
                "case_id": i, "level": "grid", "source": "brought", "scale": "individual",
                "people_involved": 2, "risk_level": "low",
                "channel": "people" if accepted else None, "mediator_body": "",
                "outcome": outcome, "outcome_at": at, "terms": "", "follow_up_note": "",
            })  # fmt: skip
        s.execute(insert(Case), cases)
        s.execute(insert(Dispute), disputes)


def ours(engine: Engine) -> dict[str, tuple[int, int, float | None, float | None]]:
    with session_scope(engine) as s:
        stats = mediation_stats(s, actor=SYSTEM, start=START, end=END)
    return {g.key: (g.mediated, g.agreed, g.success_rate, g.median_days) for g in stats.by_category}


def peer(engine: Engine, zone: ZoneInfo) -> dict[str, tuple[int, int, float | None, float | None]]:
    lo = pd.Timestamp(dt.datetime.combine(START, dt.time(), zone)).tz_convert("UTC")
    hi = pd.Timestamp(dt.datetime.combine(END, dt.time(), zone)).tz_convert("UTC")
    query = (
        select(
            CaseCategory.code, Case.created_at, Dispute.channel, Dispute.outcome, Dispute.outcome_at
        )
        .join(Dispute, Dispute.case_id == Case.id)
        .join(CaseCategory, CaseCategory.id == Case.category_id)
    )
    with engine.connect() as conn:
        df = pd.read_sql(query, conn)
    for col in ("created_at", "outcome_at"):
        df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
    done = df[(df.outcome_at >= lo) & (df.outcome_at < hi)]
    mediated = done[done.outcome.isin(["agreed", "partial", "referred"]) & done.channel.notna()]
    days = (mediated.outcome_at - mediated.created_at).dt.total_seconds() / 86400
    out = {}
    for code in sorted(done.code.unique()):
        m = mediated[mediated.code == code]
        agreed = int((m.outcome == "agreed").sum())
        out[code] = (
            len(m), agreed, agreed / len(m) if len(m) else None,
            float(days[m.index].median()) if len(m) else None,
        )  # fmt: skip
    return out


def timed(fn: object, *args: object, repeat: int = 3) -> tuple[float, object]:
    runs, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn(*args)  # type: ignore[operator]
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        engine = engine_for(url)
        build(engine, args.n, args.seed)
        from pingan.cases.calendar import load_calendar

        with session_scope(engine) as s:
            zone = load_calendar(s).zone
        t_ours, r_ours = timed(ours, engine)
        t_peer, r_peer = timed(peer, engine, zone)
        assert isinstance(r_ours, dict) and isinstance(r_peer, dict)
        assert r_ours.keys() == r_peer.keys(), (r_ours.keys(), r_peer.keys())
        for key, a in r_ours.items():
            b = r_peer[key]
            assert a[:2] == b[:2], (key, a, b)
            for x, y in zip(a[2:], b[2:], strict=True):
                assert (x is None and y is None) or abs(x - y) < 1e-9, (key, a, b)  # type: ignore[operator]
        print(f"N = {args.n:,} disputes: pingan {t_ours:.3f} s, pandas {t_peer:.3f} s, "
              f"ratio pingan/pandas {t_ours / t_peer:.2f}; figures agree")  # fmt: skip
        engine.dispose()


if __name__ == "__main__":
    main()
