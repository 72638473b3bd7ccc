"""Petitions and tips take their case number as late as they can.

On SQLite the number is an ``UPDATE case_counters ... RETURNING`` whose row stays
locked until COMMIT: every filing of the same type waits for whoever holds it. On
PostgreSQL it is an upsert committed on its own, and a filing that failed after it
would leave its number unused. Either way the slow and refusable parts of filing
(the argon2 hash of the query code or PIN, the look-alike search, the accused-unit
check) must run before it, and the case row is inserted right after.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from pingan.cases.models import Case
from pingan.governance import petitions, tips
from pingan.governance.petitions_schemas import PetitionIn
from pingan.governance.tips_schemas import TipIn
from pingan.kit.db import session_scope
from pingan.kit.errors import ValidationFailed
from pingan.org.principal import Principal
from tests.citykit import TestCity

SYSTEM = Principal.system("test")
HASHED = "-- argon2 hash --"


@pytest.fixture
def trail(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The SQL statements run, in order, with a marker where a password hash was computed."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    for module in (petitions, tips):
        real = module.hash_password

        def spy(secret: str, real: Any = real) -> str:
            seen.append(HASHED)
            return str(real(secret))

        monkeypatch.setattr(module, "hash_password", spy)
    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


def _numbered_at(seen: list[str]) -> int:
    """Where the number was issued: the last bump (the first use of a year creates the row)."""
    taken = ("UPDATE case_counters", "INSERT INTO case_counters")
    return max(i for i, s in enumerate(seen) if s.startswith(taken))


def _petition(city: TestCity, **over: Any) -> PetitionIn:
    base: dict[str, Any] = {
        "channel": "visit", "category": "petition.housing", "unit_id": city.id("C"),
        "matter": "小区电梯停运三个月，物业不予维修。", "requests": "尽快修复电梯",
        "place": "幸福小区3号楼", "petitioner_name": "张三", "petitioner_phone": "138 0000 1111",
    }  # fmt: skip
    return PetitionIn.model_validate({**base, **over})


def test_a_petition_is_numbered_after_its_hash_and_searches(
    engine: Engine, city: TestCity, trail: list[str]
) -> None:
    with session_scope(engine) as s:
        petitions.ensure_petition_categories(s)
    trail.clear()
    with session_scope(engine) as s:
        case, *_ = petitions.create_petition(s, petition_in=_petition(city), actor=SYSTEM)
        number = case.number
    at = _numbered_at(trail)
    assert HASHED in trail[:at]
    assert any("FROM petitions" in s for s in trail[:at])  # the look-alike search
    assert not any(s.startswith("SELECT") and "FROM petitions" in s for s in trail[at:])
    assert trail[at + 1].startswith("INSERT INTO cases")
    assert number.endswith("-000001")


def test_a_refused_petition_leaves_no_gap(engine: Engine, city: TestCity) -> None:
    with session_scope(engine) as s:
        petitions.ensure_petition_categories(s)
    with session_scope(engine) as s:
        first, *_ = petitions.create_petition(s, petition_in=_petition(city), actor=SYSTEM)
        first_number = first.number
    # Registered at the very unit it accuses: refused before a number is taken.
    with pytest.raises(ValidationFailed), session_scope(engine) as s:
        petitions.create_petition(
            s, petition_in=_petition(city, accused_unit_id=city.id("C")), actor=SYSTEM
        )
    with session_scope(engine) as s:
        second, *_ = petitions.create_petition(
            s, petition_in=_petition(city, matter="路灯损坏两周无人修理。"), actor=SYSTEM
        )
        numbers = [first_number, second.number]
        stored = list(s.scalars(select(Case.number).where(Case.case_type == "petition")))
    assert [int(n[-6:]) for n in numbers] == [1, 2]
    assert sorted(stored) == numbers


def test_a_tip_is_numbered_after_its_pin_hash(
    engine: Engine, city: TestCity, trail: list[str]
) -> None:
    with session_scope(engine) as s:
        tips.ensure_tip_categories(s)
    trail.clear()
    with session_scope(engine) as s:
        tips.create_tip(
            s, tip_in=TipIn(category="tip.drugs", content="Dealing at night", pin="lantern-4412")
        )
    at = _numbered_at(trail)
    assert HASHED in trail[:at]
    assert trail[at + 1].startswith("INSERT INTO cases")
