"""SLA clocks on the city calendar, and escalation exactly once under a controlled clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from pingan.cases import service
from pingan.cases.calendar import WorkCalendar
from pingan.cases.categories import set_holiday
from pingan.cases.clocks import clocks_of
from pingan.cases.escalation import run_escalations
from pingan.cases.models import Case, CaseEscalation
from pingan.kit.db import session_scope
from pingan.org.models import OrgUnit
from tests.cases.conftest import principal
from tests.cases.test_flow import MONDAY_10, report, step

SH = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)  # type: ignore[misc]


def test_working_days_skip_weekends_and_holidays() -> None:
    # Thursday 2026-12-31 is a holiday; Friday 2027-01-01 too; Sunday 01-03 a make-up workday.
    cal = WorkCalendar(
        SH,
        {
            dt.date(2026, 12, 31): False,
            dt.date(2027, 1, 1): False,
            dt.date(2027, 1, 3): True,
        },
    )
    start = local(2026, 12, 30, 15, 0)  # Wednesday afternoon
    assert cal.end_of_nth_working_day(start, 1) == local(2027, 1, 3, 17, 0)
    assert cal.end_of_nth_working_day(start, 2) == local(2027, 1, 4, 17, 0)
    # 4 working hours from Wednesday 15:00: 2 that day, 2 on the make-up Sunday
    assert cal.add_working(start, 4 * 3600) == local(2027, 1, 3, 11, 0)
    assert cal.working_seconds(start, local(2027, 1, 3, 11, 0)) == 4 * 3600
    # Calendar days ignore the calendar
    total, due = cal.initial("calendar_days", start, 1)
    assert total == 86400 and due == start + dt.timedelta(days=1)


def test_holiday_in_the_database_moves_the_deadline(engine: Engine, people: dict[str, int]) -> None:
    with session_scope(engine) as s:
        set_holiday(s, dt.date(2026, 12, 1), "test holiday")  # Tuesday
    case_id = report(engine, category="illegal_dumping")  # 1 working day, at the subdistrict
    step(engine, case_id, "west_officer", "accept", MONDAY_10)
    step(engine, case_id, "west_officer", "dispatch", MONDAY_10)
    with session_scope(engine) as s:
        handle = next(c for c in clocks_of(s, case_id) if c.name == "handle")
        # Monday + 1 working day, Tuesday being a holiday: Wednesday 17:00
        assert handle.due_at == local(2026, 12, 2, 17, 0)


def test_pause_and_resume_keep_the_remaining_time(engine: Engine, people: dict[str, int]) -> None:
    case_id = report(engine)  # manhole cover: 4 working hours to handle
    step(engine, case_id, "west_officer", "accept", MONDAY_10)
    step(engine, case_id, "west_officer", "dispatch", MONDAY_10)
    step(engine, case_id, "west_officer", "start", MONDAY_10)
    # 1 working hour used, then suspended overnight
    step(engine, case_id, "west_officer", "suspend", local(2026, 11, 30, 11, 0), reason="parts")
    with session_scope(engine) as s:
        handle = next(c for c in clocks_of(s, case_id) if c.name == "handle")
        assert handle.status == "paused" and handle.remaining_s == 3 * 3600
    # paused past its original deadline (14:00): a paused clock does not escalate
    assert run_escalations(engine, now=local(2026, 11, 30, 20, 0)) == 0
    step(engine, case_id, "west_officer", "resume", local(2026, 12, 1, 9, 0))
    with session_scope(engine) as s:
        handle = next(c for c in clocks_of(s, case_id) if c.name == "handle")
        assert handle.status == "running"
        assert handle.due_at == local(2026, 12, 1, 12, 0)


def test_escalation_applies_exactly_once(engine: Engine, people: dict[str, int]) -> None:
    case_id = report(engine)
    step(engine, case_id, "west_officer", "accept", MONDAY_10)
    step(engine, case_id, "west_officer", "dispatch", MONDAY_10)  # due 14:00 local, warn 13:12
    assert run_escalations(engine, now=local(2026, 11, 30, 12, 0)) == 0
    assert run_escalations(engine, now=local(2026, 11, 30, 13, 30)) == 1  # near
    assert run_escalations(engine, now=local(2026, 11, 30, 13, 30)) == 0
    # a "restart" long after the deadline: the breach is caught, once
    later = local(2026, 12, 7, 9, 0)
    assert run_escalations(engine, now=later) == 1
    assert run_escalations(engine, now=later) == 0
    assert run_escalations(engine, now=later + dt.timedelta(days=30)) == 0
    with session_scope(engine) as s:
        rules = list(s.scalars(select(CaseEscalation.rule).order_by(CaseEscalation.id)))
        assert rules == ["handle-near", "handle-breach"]
        case = s.get(Case, case_id)
        assert case is not None and case.supervision_flag
        # reassigned up the tree: subdistrict -> district
        unit = s.get(OrgUnit, case.unit_id)
        assert unit is not None and unit.code == "DW"
        escalations = [e for e in service.timeline(s, case_id) if e.kind == "escalation"]
        assert len(escalations) == 2
        overdue = service.list_cases(
            s, actor=principal(engine, "chief"), inbox="overdue", now=later
        )
        assert [c.id for c in overdue] == [case_id]
        flagged = service.list_cases(s, actor=principal(engine, "chief"), inbox="flagged")
        assert [c.id for c in flagged] == [case_id]


def test_a_breach_found_late_still_fires_every_rule(engine: Engine, people: dict[str, int]) -> None:
    case_id = report(engine)
    # never accepted: the accept clock (2 working hours) breaches at 12:00 local
    assert run_escalations(engine, now=local(2026, 12, 10, 9, 0)) == 1
    with session_scope(engine) as s:
        assert list(s.scalars(select(CaseEscalation.rule))) == ["accept-breach"]
    # accepting stops the clock: nothing more from it
    step(engine, case_id, "west_officer", "accept", local(2026, 12, 10, 9, 5))
    assert run_escalations(engine, now=local(2026, 12, 20, 9, 0)) == 0


def test_due_today_inbox(engine: Engine, people: dict[str, int]) -> None:
    case_id = report(engine)
    with session_scope(engine) as s:
        chief = principal(engine, "chief")
        today = service.list_cases(s, actor=chief, inbox="due_today", now=MONDAY_10)
        assert [c.id for c in today] == [case_id]  # accept clock due 12:00 local
        tomorrow = local(2026, 12, 1, 8, 0)
        assert service.list_cases(s, actor=chief, inbox="due_today", now=tomorrow) == []


def test_kpis_count_on_time_handling(engine: Engine, people: dict[str, int]) -> None:
    from pingan.cases.kpis import grid_kpis

    on_time, late = report(engine), report(engine)
    for case_id, done in ((on_time, local(2026, 11, 30, 11, 0)), (late, local(2026, 12, 2, 11, 0))):
        step(engine, case_id, "west_officer", "accept", MONDAY_10)
        step(engine, case_id, "west_officer", "dispatch", MONDAY_10)
        step(engine, case_id, "west_officer", "start", MONDAY_10)
        step(engine, case_id, "west_officer", "feedback", done, result="fixed")
    step(engine, on_time, "w1_worker", "verify", local(2026, 12, 2, 12, 0))
    with session_scope(engine) as s:
        rows = grid_kpis(s, actor=principal(engine, "west_officer"), group="worker")
        assert [(r.key, r.filed, r.verified, r.handled, r.on_time) for r in rows] == [
            (people["w1_worker"], 2, 1, 2, 1)
        ]
        assert rows[0].on_time_rate == 0.5
        assert grid_kpis(s, actor=principal(engine, "east_officer")) == []


def test_concurrent_runners_escalate_once(engine: Engine, people: dict[str, int]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    ids = [report(engine) for _ in range(4)]  # accept clocks breach at 12:00 local
    later = local(2026, 12, 1, 9, 0)
    with ThreadPoolExecutor(max_workers=3) as pool:
        counts = list(pool.map(lambda _: run_escalations(engine, now=later), range(3)))
    assert sum(counts) == len(ids)
    with session_scope(engine) as s:
        assert len(list(s.scalars(select(CaseEscalation.id)))) == len(ids)
