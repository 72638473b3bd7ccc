"""Case text search: substrings in Chinese and English, kept current on edits, index-backed."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text, update

from pingan.cases.models import Case
from pingan.cases.schemas import CaseIn
from pingan.cases.service import create_case, list_cases
from pingan.kit.db import session_scope
from pingan.org.principal import Principal
from tests.cases.conftest import login
from tests.citykit import grid_centre

SYSTEM = Principal.system("test")
LON, LAT = grid_centre("W1")


def _file(engine: Engine, title: str, description: str = "", address: str = "") -> str:
    with session_scope(engine) as s:
        case, _ = create_case(
            s, case_in=CaseIn(category="street_light", title=title, description=description,
                              address=address, lon=LON, lat=LAT),
            actor=SYSTEM,
        )  # fmt: skip
        return case.number


def _found(engine: Engine, q: str) -> list[str]:
    with session_scope(engine) as s:
        return sorted(c.title for c in list_cases(s, actor=SYSTEM, q=q, limit=100))


def test_substrings_in_any_field(engine: Engine, people: dict[str, int]) -> None:
    number = _file(engine, "学校门口路灯不亮", "Lamp post 17 dark since Monday", "解放路12号")
    _file(engine, "Street light flickering", "near the 100% recycled bins", "Harbour Rd")
    _file(engine, "井盖缺失", "", "人民路")
    assert _found(engine, "路灯不亮") == ["学校门口路灯不亮"]  # 4 characters: the index
    assert _found(engine, "路灯") == ["学校门口路灯不亮"]  # 2 characters: a scan
    assert _found(engine, "LAMP POST") == ["学校门口路灯不亮"]  # any case
    assert _found(engine, "harbour") == ["Street light flickering"]
    assert _found(engine, number) == ["学校门口路灯不亮"]
    assert _found(engine, "100%") == ["Street light flickering"]  # % is literal
    assert _found(engine, "%") == ["Street light flickering"]
    assert _found(engine, '"quoted"') == []
    assert _found(engine, "路") == ["井盖缺失", "学校门口路灯不亮"]  # one character, two fields


def test_edits_are_searchable_at_once(engine: Engine, people: dict[str, int]) -> None:
    _file(engine, "Abandoned bicycle")
    with session_scope(engine) as s:
        s.execute(update(Case).values(title="Abandoned scooter"))
    assert _found(engine, "scooter") == ["Abandoned scooter"]
    assert _found(engine, "bicycle") == []


def test_the_index_exists(engine: Engine) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            query = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_cases_search_trgm'"
            found = conn.execute(text(query)).scalar()
            assert found is not None and "gin_trgm_ops" in found
        else:
            plan = conn.execute(
                text("EXPLAIN QUERY PLAN SELECT rowid FROM cases_fts WHERE cases_fts MATCH 'abc'")
            ).all()
            assert any("VIRTUAL TABLE INDEX" in str(row) for row in plan)


def test_search_over_http(client: TestClient, people: dict[str, int], engine: Engine) -> None:
    _file(engine, "消防通道被杂物堵塞")
    found = client.get("/api/v1/cases", params={"q": "通道被杂"}, headers=login(client, "chief"))
    assert found.status_code == 200
    assert [c["title"] for c in found.json()["items"]] == ["消防通道被杂物堵塞"]
