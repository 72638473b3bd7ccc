"""The grid-event workflow end to end at the service layer, with a controlled clock."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select

from pingan.cases import actions, service
from pingan.cases.clocks import clocks_of
from pingan.cases.models import Case
from pingan.cases.schemas import CaseIn
from pingan.kit.audit import AuditEntry, verify_chain
from pingan.kit.db import session_scope
from pingan.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from pingan.org.models import OrgUnit
from tests.cases.conftest import principal
from tests.citykit import grid_centre

# Monday 2026-11-30 10:00 in Asia/Shanghai
MONDAY_10 = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)


def report(engine: Engine, who: str = "w1_worker", grid: str = "W1", **extra: object) -> int:
    lon, lat = grid_centre(grid)
    fields: dict[str, object] = {
        "category": "manhole_cover",
        "title": "Manhole cover missing",
        "description": "cover gone outside no. 5",
        "lon": lon,
        "lat": lat,
    }
    fields.update(extra)
    with session_scope(engine) as s:
        case, _ = service.create_case(
            s, case_in=CaseIn.model_validate(fields), actor=principal(engine, who), now=MONDAY_10
        )
        return case.id


def step(
    engine: Engine, case_id: int, who: str, name: str, at: dt.datetime, **fields: object
) -> str:
    with session_scope(engine) as s:
        actor = principal(engine, who)
        case = service.get_case(s, case_id, actor=actor)
        actions.transition(s, case=case, name=name, fields=dict(fields), actor=actor, now=at)
        return case.state


def test_grid_event_runs_end_to_end(engine: Engine, people: dict[str, int]) -> None:
    case_id = report(engine)
    hour = dt.timedelta(hours=1)
    assert step(engine, case_id, "west_officer", "accept", MONDAY_10 + hour) == "accepted"
    assert step(engine, case_id, "west_officer", "dispatch", MONDAY_10 + 2 * hour) == "dispatched"
    assert step(engine, case_id, "west_officer", "start", MONDAY_10 + 3 * hour) == "handling"
    assert (
        step(engine, case_id, "west_officer", "feedback", MONDAY_10 + 4 * hour, result="replaced")
        == "feedback"
    )
    assert step(engine, case_id, "w1_worker", "verify", MONDAY_10 + 5 * hour) == "verified"
    assert step(engine, case_id, "west_officer", "evaluate", MONDAY_10 + 6 * hour, rating=5) == (
        "evaluated"
    )
    with session_scope(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None
        assert case.number == f"GE-2026-{1:06d}"
        assert not case.is_open and case.rating == 5
        # manhole covers are handled at the subdistrict, by the municipal department
        unit = s.get(OrgUnit, case.unit_id)
        assert unit is not None and unit.code == "SW" and case.department == "municipal"
        kinds = [e.kind for e in service.timeline(s, case_id)]
        assert kinds.count("transition") == 6 and kinds[0] == "created"
        assert all(c.status == "stopped" for c in clocks_of(s, case_id))
        actions_logged = set(s.scalars(select(AuditEntry.action)))
        assert {"case.created", "case.transition", "case.clock"} <= actions_logged
        assert verify_chain(s).ok


def test_transition_not_allowed_from_state_is_conflict(
    engine: Engine, people: dict[str, int]
) -> None:
    case_id = report(engine)
    with pytest.raises(Conflict, match="not allowed from state 'reported'"):
        step(engine, case_id, "west_officer", "verify", MONDAY_10)
    with pytest.raises(Conflict, match="no transition"):
        step(engine, case_id, "west_officer", "fly", MONDAY_10)


def test_required_fields_are_checked(engine: Engine, people: dict[str, int]) -> None:
    case_id = report(engine)
    with pytest.raises(ValidationFailed) as err:
        step(engine, case_id, "west_officer", "cancel", MONDAY_10)
    assert err.value.field == "fields.reason"
    with pytest.raises(ValidationFailed):
        step(engine, case_id, "west_officer", "cancel", MONDAY_10, reason="bored")


def test_scope_hides_and_forbids(engine: Engine, people: dict[str, int]) -> None:
    case_id = report(engine)
    with session_scope(engine) as s:
        with pytest.raises(NotFound):
            service.get_case(s, case_id, actor=principal(engine, "east_officer"))
        with pytest.raises(NotFound):
            service.get_case(s, case_id, actor=principal(engine, "w2_worker"))
        assert service.list_cases(s, actor=principal(engine, "east_officer")) == []
        assert len(service.list_cases(s, actor=principal(engine, "west_officer"))) == 1
    # a grid worker sees the case in their grid but may not accept it
    with pytest.raises(Forbidden):
        step(engine, case_id, "w1_worker", "accept", MONDAY_10)
    # nor may anyone report into a grid outside their scope
    with pytest.raises(Forbidden):
        report(engine, who="w2_worker", grid="W1")


def test_unknown_category_is_rejected_with_field(engine: Engine, people: dict[str, int]) -> None:
    with pytest.raises(ValidationFailed) as err:
        report(engine, category="unicorn")
    assert err.value.field == "category"


def test_duplicate_within_50m_is_suggested(engine: Engine, people: dict[str, int]) -> None:
    first = report(engine)
    lon, lat = grid_centre("W1")
    with session_scope(engine) as s:
        near = CaseIn(category="manhole_cover", title="again", lon=lon + 0.0003, lat=lat)  # ~29 m
        far = CaseIn(category="manhole_cover", title="far", lon=lon + 0.002, lat=lat)  # ~190 m
        other = CaseIn(category="street_light", title="light", lon=lon, lat=lat)
        actor = principal(engine, "w1_worker")
        _, dups = service.create_case(s, case_in=near, actor=actor, now=MONDAY_10)
        assert [d.id for d in dups] == [first]
        assert service.create_case(s, case_in=far, actor=actor, now=MONDAY_10)[1] == []
        assert service.create_case(s, case_in=other, actor=actor, now=MONDAY_10)[1] == []


def test_idempotency_key_files_once(engine: Engine, people: dict[str, int]) -> None:
    a = report(engine, idempotency_key="phone-1-0001")
    b = report(engine, idempotency_key="phone-1-0001")
    assert a == b
    with session_scope(engine) as s:
        assert len(list(s.scalars(select(Case)))) == 1


def test_transfer_keeps_history(engine: Engine, people: dict[str, int], city: object) -> None:
    case_id = report(engine)
    with session_scope(engine) as s:
        actor = principal(engine, "chief")
        case = service.get_case(s, case_id, actor=actor)
        target = s.scalar(select(OrgUnit).where(OrgUnit.code == "DW"))
        assert target is not None
        actions.assign(s, case=case, actor=actor, unit_id=target.id, department="traffic")
        actions.assign(s, case=case, actor=actor, handler_id=people["west_officer"])
        with pytest.raises(ValidationFailed):  # not a handler of this unit
            actions.assign(s, case=case, actor=actor, handler_id=people["w1_worker"])
    with session_scope(engine) as s:
        events = [e for e in service.timeline(s, case_id) if e.kind in ("transfer", "assignment")]
        assert [e.kind for e in events] == ["transfer", "assignment"]
        assert '"to": "traffic"' in events[0].detail
        mine = service.list_cases(s, actor=principal(engine, "west_officer"), inbox="mine")
        assert [c.id for c in mine] == [case_id]


def test_demo_seeding_files_open_and_closed_cases(engine: Engine, people: dict[str, int]) -> None:
    from pingan.cases.demo import seed_demo_cases
    from pingan.cases.escalation import run_escalations

    assert seed_demo_cases(engine, seed=3, count=25, now=MONDAY_10) == 25
    assert seed_demo_cases(engine, seed=3, count=25, now=MONDAY_10) == 0  # once only
    with session_scope(engine) as s:
        cases = list(s.scalars(select(Case)))
        assert len(cases) == 25
        assert any(c.is_open for c in cases) and any(not c.is_open for c in cases)
        assert verify_chain(s).ok
    assert run_escalations(engine, now=MONDAY_10) > 0


def test_cancel_as_duplicate_links_the_original(engine: Engine, people: dict[str, int]) -> None:
    first, second = report(engine), report(engine)
    with session_scope(engine) as s:
        number = service.get_case(s, first, actor=principal(engine, "chief")).number
    with pytest.raises(ValidationFailed) as err:
        step(engine, second, "west_officer", "cancel", MONDAY_10, reason="duplicate")
    assert err.value.field == "fields.duplicate_of"
    step(
        engine, second, "west_officer", "cancel", MONDAY_10, reason="duplicate", duplicate_of=number
    )
    with session_scope(engine) as s:
        case = s.get(Case, second)
        assert case is not None and case.state == "cancelled" and case.duplicate_of_id == first
        assert not case.is_open
        assert all(c.status == "stopped" for c in clocks_of(s, second))


def test_case_numbers_follow_the_city_calendar_year(engine: Engine, people: dict[str, int]) -> None:
    lon, lat = grid_centre("W1")
    new_year_local = dt.datetime(2026, 12, 31, 20, 0, tzinfo=dt.UTC)  # 04:00 on 1 Jan in Shanghai
    with session_scope(engine) as s:
        actor = principal(engine, "w1_worker")
        numbers = [
            service.create_case(
                s, case_in=CaseIn(category="hazard", title=t, lon=lon, lat=lat), actor=actor, now=at
            )[0].number
            for t, at in (("a", MONDAY_10), ("b", MONDAY_10), ("c", new_year_local))
        ]
    assert numbers == ["GE-2026-000001", "GE-2026-000002", "GE-2027-000001"]
