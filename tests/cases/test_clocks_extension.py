"""Reminders and escalation after a deadline is extended, under a controlled clock.

The escalation runner applies each rule once per clock budget: extending the
deadline grows the budget, so the reminder fires again before the new
deadline, and the breach comes at the new deadline, never at the old one.
Two case types show it: a petition's statutory handling period (days moved
off holidays on the mainland calendar) and a compound project's acceptance
period in working days with a holiday and a make-up working day.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from pingan.cases import clocks
from pingan.cases.calendar import load_calendar
from pingan.cases.categories import set_holiday
from pingan.cases.escalation import run_escalations
from pingan.cases.models import Case, CaseEscalation
from pingan.cases.service import timeline
from pingan.governance import petitions
from pingan.governance.petitions_calendar import load_mainland_holidays
from pingan.governance.petitions_steps import latest_clock, take
from pingan.kit.db import session_scope
from tests.citykit import TestCity, unit
from tests.governance.test_compounds import EVIDENCE, _register, _take, staff
from tests.governance.test_petitions import make_people, matter, who

SH = ZoneInfo("Asia/Shanghai")
__all__ = ["staff"]  # the compound fixture, used below by name


def local(y: int, m: int, d: int, h: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, minute, tzinfo=SH)


def _fired(engine: Engine, case_id: int) -> list[tuple[str, dt.datetime]]:
    """(rule, the deadline it was applied against), in the order applied."""
    with session_scope(engine) as s:
        return [
            (d["rule"], dt.datetime.fromisoformat(d["due_at"]))
            for d in (json.loads(e.detail) for e in timeline(s, case_id) if e.kind == "escalation")
        ]


def test_petition_extension_rearms_the_reminder_and_moves_the_breach(
    engine: Engine, city: TestCity
) -> None:
    make_people(engine)
    with session_scope(engine) as s:
        load_mainland_holidays(s, 2026)
        case, *_ = petitions.create_petition(
            s, petition_in=matter(s), actor=who(s, "office"), now=local(2026, 9, 16)
        )
        case_id, number = case.id, case.number
        take(s, case_ref=number, name="forward", fields={"unit_id": unit(s, "SW").id},
             actor=who(s, "office"), now=local(2026, 9, 29))  # fmt: skip
        take(s, case_ref=number, name="accept", fields={}, actor=who(s, "sw"),
             now=local(2026, 10, 12, 16))  # fmt: skip
    # Handling: 12 Oct 16:00 to midnight ending 11 Dec = 1448 h; the reminder at 80 %,
    # 1158.4 h in: 29 Nov 22:24.
    assert run_escalations(engine, now=local(2026, 11, 29, 22, 20)) == 0
    assert run_escalations(engine, now=local(2026, 11, 29, 22, 30)) == 1
    assert run_escalations(engine, now=local(2026, 11, 30)) == 0
    with session_scope(engine) as s:
        take(s, case_ref=number, name="extend", fields={"reason": "需鉴定", "days": 30},
             actor=who(s, "sw"), now=local(2026, 12, 1))  # fmt: skip
        handle = latest_clock(s, case_id, "handle")
        assert handle is not None
        # 11 Dec + 30 days is Sun 10 Jan: the deadline is midnight ending Mon 11 Jan.
        assert handle.due_at == local(2027, 1, 12, 0)
        # 2192 h in all; the reminder 1753.6 h after the start: 24 Dec 17:36.
        assert handle.warn_at == local(2026, 12, 24, 17, 36)
    # Not re-fired at once, and nothing at the old deadline.
    assert run_escalations(engine, now=local(2026, 12, 1, 11)) == 0
    assert run_escalations(engine, now=local(2026, 12, 12, 0, 1)) == 0
    with session_scope(engine) as s:
        found = s.get(Case, case_id)
        assert found is not None and not found.supervision_flag
    assert run_escalations(engine, now=local(2026, 12, 24, 17, 30)) == 0
    assert run_escalations(engine, now=local(2026, 12, 24, 17, 40)) == 1
    assert run_escalations(engine, now=local(2027, 1, 11, 23, 59)) == 0
    assert run_escalations(engine, now=local(2027, 1, 12, 0, 1)) == 1
    assert run_escalations(engine, now=local(2027, 2, 1)) == 0
    with session_scope(engine) as s:
        found = s.get(Case, case_id)
        assert found is not None and found.supervision_flag
    old_due, new_due = local(2026, 12, 12, 0), local(2027, 1, 12, 0)
    assert _fired(engine, case_id) == [
        ("handle-near", old_due), ("handle-near", new_due), ("handle-breach", new_due),
    ]  # fmt: skip


def test_working_days_extension_rearms_the_reminder(engine: Engine, staff: dict[str, int]) -> None:
    with session_scope(engine) as s:
        set_holiday(s, dt.date(2026, 12, 8), "test holiday")  # a Tuesday off
        set_holiday(s, dt.date(2026, 12, 12), "make-up day", is_workday=True)  # a Saturday on
    number = _register(engine, "C1", (True, True, True), 800, at=local(2026, 11, 2))
    _take(engine, number, "survey", local(2026, 11, 3), findings="x")
    for day, step in enumerate(("self_governance", "access_control", "gatekeeping"), start=10):
        _take(engine, number, "record_step", local(2026, 11, day), step=step,
              done_on=f"2026-11-{day}", evidence=EVIDENCE)  # fmt: skip
    # The fourth step, Mon 30 Nov 10:00, asks for acceptance: 15 working days.
    _take(engine, number, "record_step", local(2026, 11, 30), step="quasi_property",
          done_on="2026-11-30", evidence=EVIDENCE)  # fmt: skip
    with session_scope(engine) as s:
        case_id = int(s.scalar(select(Case.id).where(Case.number == number)) or 0)
        acceptance = latest_clock(s, case_id, "acceptance")
        assert acceptance is not None
        # Dec 1-4, 7, 9-11, Sat 12, 14-18, 21: the 15th working day is Mon 21 Dec.
        assert acceptance.due_at == local(2026, 12, 21, 17)
        # 127 working hours; the reminder 101.6 h in: 7 h on 30 Nov, 11 days, 6.6 h of 16 Dec.
        assert acceptance.total_s == 127 * 3600
        assert acceptance.warn_at == local(2026, 12, 16, 15, 36)
    assert run_escalations(engine, now=local(2026, 12, 16, 15, 30)) == 0
    assert run_escalations(engine, now=local(2026, 12, 16, 15, 40)) == 1
    with session_scope(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None
        # The engine's extension, as any case type's service calls it: 5 working days.
        clock = clocks.extend(
            s, case=case, name="acceptance", amount=5, cal=load_calendar(s), near_fraction=0.8
        )
        assert clock.due_at == local(2026, 12, 28, 17)
        assert clock.warn_at == local(2026, 12, 22, 15, 36)
    assert run_escalations(engine, now=local(2026, 12, 17)) == 0
    assert run_escalations(engine, now=local(2026, 12, 21, 17, 1)) == 0  # the old deadline
    assert run_escalations(engine, now=local(2026, 12, 22, 15, 40)) == 1
    assert run_escalations(engine, now=local(2026, 12, 28, 16, 59)) == 0
    assert run_escalations(engine, now=local(2026, 12, 28, 17, 1)) == 1
    with session_scope(engine) as s:
        markers = s.execute(
            select(CaseEscalation.rule, CaseEscalation.budget_s).order_by(CaseEscalation.id)
        ).all()
        assert [tuple(m) for m in markers] == [
            ("acceptance-near", 127 * 3600), ("acceptance-near", 167 * 3600),
            ("acceptance-breach", 167 * 3600),
        ]  # fmt: skip
        case = s.get(Case, case_id)
        # The acceptance breach moves the case up to the district.
        assert case is not None and case.unit_id == unit(s, "DW").id
