"""Migration 0018 moves the old compound register into cases, on both backends.

The database is built at head, taken back to 0017 (the register with its own
status columns), filled the way the register used to be filled, and brought
to head again.
"""

from __future__ import annotations

import datetime as dt

from alembic import command
from sqlalchemy import Engine, text

from pingan.cases.clocks import clocks_of
from pingan.cases.service import timeline
from pingan.governance import compounds_service as service
from pingan.governance.compounds_totals import totals
from pingan.kit.db import session_scope
from pingan.kit.migrate import alembic_config, upgrade
from pingan.org.principal import Principal
from tests.citykit import TestCity
from tests.governance.test_compounds import staff

SYSTEM = Principal.system("test")
__all__ = ["staff"]  # the compound fixture, used below by name

OLD_ROWS = [
    # compound, status, started_on, completed_on, residents, steps done (day of Sep 2026)
    ("C1", "completed", dt.date(2026, 9, 1), dt.date(2026, 9, 4), 800, (1, 2, 3, 4)),
    ("C2", "in_progress", dt.date(2026, 9, 3), None, 300, (3, 5)),
    ("C3", "planned", None, None, 500, ()),
]


def _fill_old_register(engine: Engine) -> None:
    created = dt.datetime(2026, 8, 20, 2, tzinfo=dt.UTC)
    with engine.begin() as conn:
        for code, status, started, completed, residents, days in OLD_ROWS:
            compound_id, grid_id = conn.execute(
                text("SELECT id, grid_id FROM residential_compounds WHERE code = :c"), {"c": code}
            ).one()
            if grid_id is None:  # C2: placed by position, in W2
                grid_id = conn.scalar(text("SELECT id FROM org_units WHERE code = 'W2'"))
            path = conn.scalar(text("SELECT path FROM org_units WHERE id = :g"), {"g": grid_id})
            remediation_id = conn.execute(
                text(
                    "INSERT INTO compound_remediations (compound_id, grid_path, "
                    "no_property_management, no_responsible_department, no_self_governance, "
                    "residents, status, started_on, completed_on, created_at, updated_at) "
                    "VALUES (:c, :p, true, false, true, :r, :s, :st, :co, :t, :t) RETURNING id"
                ),
                {"c": compound_id, "p": path, "r": residents, "s": status, "st": started,
                 "co": completed, "t": created},
            ).scalar_one()  # fmt: skip
            for day, step in zip(days, service.STEPS, strict=False):
                conn.execute(
                    text(
                        "INSERT INTO compound_remediation_steps (remediation_id, step, done_on, "
                        "note, recorded_by) VALUES (:r, :s, :d, '街道验收', 'cli:admin')"
                    ),
                    {"r": remediation_id, "s": step, "d": dt.date(2026, 9, day)},
                )


def test_the_old_register_becomes_cases(
    engine: Engine, db_url: str, staff: dict[str, int], city: TestCity
) -> None:
    engine.dispose()
    command.downgrade(alembic_config(db_url), "0017")
    _fill_old_register(engine)
    upgrade(db_url)
    engine.dispose()
    with session_scope(engine) as s:
        c1, c2, c3 = (service.get(s, code, actor=SYSTEM) for code in ("C1", "C2", "C3"))
        assert [p.case.state for p in (c1, c2, c3)] == ["remediated", "in_progress", "registered"]
        assert [p.status for p in (c1, c2, c3)] == ["completed", "in_progress", "planned"]
        assert all(p.case.number.startswith("XQ-2026-") for p in (c1, c2, c3))
        assert c1.case.unit_id == city.id("SW") and c2.case.grid_id == city.id("W2")
        assert not c1.case.is_open and c1.case.closed_at is not None
        assert [x.step for x in service.steps(s, c1.case)] == list(service.STEPS)
        assert [x.done_on.day for x in service.steps(s, c2.case)] == [3, 5]
        # Open projects have the clock of their state running.
        assert [(k.name, k.status) for k in clocks_of(s, c2.case.id)] == [("remediate", "running")]
        assert [(k.name, k.status) for k in clocks_of(s, c3.case.id)] == [("survey", "running")]
        assert [e.kind for e in timeline(s, c1.case.id)] == ["created", "transition"]
        by_area = {t.unit_id: t for t in totals(s, actor=SYSTEM)}
        west = by_area[city.id("DW")]
        assert (west.compounds, west.remediated, west.residents_benefiting) == (2, 1, 800)
        east = by_area[city.id("DE")]
        assert (east.compounds, east.planned) == (1, 1)
    # The migrated cases run on: C2 goes on to its remaining steps.
    with session_scope(engine) as s:
        fields = {"step": "gatekeeping", "done_on": "2026-09-08", "evidence": "x"}
        project = service.take(
            s, number=c2.case.number, transition="record_step", fields=fields, actor=SYSTEM
        )
        assert len(service.steps(s, project.case)) == 3

    # Down again: the register gets its statuses back, steps kept; up again: the same cases.
    engine.dispose()
    command.downgrade(alembic_config(db_url), "0017")
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.code, r.status, r.started_on, r.completed_on, "
                "(SELECT COUNT(*) FROM compound_remediation_steps s WHERE s.remediation_id = r.id) "
                "FROM compound_remediations r JOIN residential_compounds c ON c.id = r.compound_id "
                "ORDER BY c.code"
            )
        ).all()
        assert [(r[0], r[1], str(r[2]), str(r[3]), r[4]) for r in rows] == [
            ("C1", "completed", "2026-09-01", "2026-09-04", 4),
            ("C2", "in_progress", "2026-09-03", "None", 3),
            ("C3", "planned", "None", "None", 0),
        ]
        assert conn.scalar(text("SELECT COUNT(*) FROM cases")) == 0
    upgrade(db_url)
    engine.dispose()
    with session_scope(engine) as s:
        states = [service.get(s, code, actor=SYSTEM).case.state for code in ("C1", "C2", "C3")]
        assert states == ["remediated", "in_progress", "registered"]
        assert len(service.steps(s, service.get(s, "C2", actor=SYSTEM).case)) == 3
