"""Briefings: content from the KPIs, stored analysis runs behind the maps, versions, scheduling."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from sqlalchemy import Engine, func, select

from pingan.incidents.service import city_zone
from pingan.kit import jobs
from pingan.kit.db import session_scope
from pingan.kit.errors import Conflict, Forbidden, ValidationFailed
from pingan.org.principal import Principal
from pingan.reports import briefings
from pingan.reports.jobs import SCHEDULED, due_briefings, scheduled_job, set_sensitive_until
from pingan.reports.models import Briefing
from pingan.reports.periods import parse_period
from tests.citykit import TestCity
from tests.reports.conftest import SYSTEM, Planted

PNG = b"\x89PNG\r\n\x1a\n"


def _generate(engine: Engine, city: TestCity, kind: str = "monthly", code: str = "C") -> int:
    return briefings.generate(
        engine, kind=kind, unit_id=city.id(code), day=dt.date(2026, 10, 5),  # type: ignore[arg-type]
        actor=SYSTEM,
    )  # fmt: skip


def test_monthly_briefing_is_archived_with_its_runs(
    engine: Engine, city: TestCity, planted: Planted
) -> None:
    briefing_id = _generate(engine, city)
    october = parse_period("2026-10")
    with session_scope(engine) as session:
        b = briefings.get_briefing(session, briefing_id, actor=SYSTEM)
        assert (b.kind, b.version, b.status, b.period_label) == ("monthly", 1, "draft", "2026-10")
        assert b.period_start == october.start
        content = b.content_dict()
        runs = b.params_dict()["analysis_runs"]
        assert set(runs) == {"heat", "hotspots", "hotspots_previous"}
        # Each map's run is a stored job with the parameters that reproduce it.
        heat_job = jobs.get(session, runs["heat"])
        assert heat_job.kind == "analysis.heat" and heat_job.status == "succeeded"
        stored = heat_job.params_dict()["params"]
        assert stored["org_unit_id"] == city.id("C")
        assert dt.datetime.fromisoformat(stored["since"]) == october.start
        assert heat_job.result_dict()["n_events"] == 18  # type: ignore[index]
        hot_job = jobs.get(session, runs["hotspots_previous"])
        previous_since = dt.datetime.fromisoformat(hot_job.params_dict()["params"]["since"])
        assert previous_since == october.previous().start
        html = b.html
    figures = {k["code"]: k for k in content["key_figures"]}
    assert figures["incidents.total"]["value"] == 18
    assert figures["incidents.total"]["previous"]["baseline"] == 10
    assert figures["cameras.availability"]["available"] in (True, False)
    assert content["by_type"][0]["type"] == "theft" and content["by_type"][0]["count"] == 12
    assert [i["type_code"] for i in content["notable_incidents"]] == ["robbery"]
    for name in ("by_type", "heat", "hotspots"):
        assert base64.b64decode(content["images"][name]).startswith(PNG)
    assert "月度治安简报" in html and "测试市" in html
    assert f"#{runs['heat']}" in html
    # Regenerating makes a new version of the same briefing.
    assert (
        briefings.generate(
            engine, kind="monthly", unit_id=city.id("C"), day=dt.date(2026, 10, 30), actor=SYSTEM
        )
        != briefing_id
    )
    with session_scope(engine) as session:
        versions = session.scalars(select(Briefing.version).order_by(Briefing.version)).all()
    assert versions == [1, 2]
    _check_comments_then_publish_then_frozen(engine, city)


def _check_comments_then_publish_then_frozen(engine: Engine, city: TestCity) -> None:
    briefing_id = _generate(engine, city, kind="weekly", code="DW")
    with session_scope(engine) as session:
        briefings.add_comment(
            session, briefing_id, body="盗窃上升，建议加强W1巡逻。", section="general", actor=SYSTEM
        )
        with pytest.raises(ValidationFailed):
            briefings.add_comment(session, briefing_id, body="  ", section="general", actor=SYSTEM)
    with session_scope(engine) as session:
        b = briefings.publish(session, briefing_id, actor=SYSTEM)
        assert b.status == "published" and b.published_by == "system:test"
        assert "建议加强W1巡逻" in b.html
        assert b.content_dict()["status"] == "published"
    with session_scope(engine) as session:
        with pytest.raises(Conflict):
            briefings.add_comment(session, briefing_id, body="late", section="x", actor=SYSTEM)
        with pytest.raises(Conflict):
            briefings.publish(session, briefing_id, actor=SYSTEM)


def test_unit_outside_scope_or_role_is_refused(engine: Engine, city: TestCity) -> None:
    _check_scope_of_the_archive(engine, city)
    from pingan.org import users
    from tests.citykit import unit

    with session_scope(engine) as session:
        user = users.create_user(session, username="w", password=None, is_service=True,
                                 actor=SYSTEM)  # fmt: skip
        users.grant_role(session, user=user, role_name="grid_worker", unit=unit(session, "W1"),
                         actor=SYSTEM)  # fmt: skip
        worker = users.principal_for(session, user, via="session")
    with pytest.raises(Forbidden):
        briefings.generate(engine, kind="daily", unit_id=city.id("W1"), day=dt.date(2026, 10, 5),
                           actor=worker)  # fmt: skip
    with pytest.raises(ValidationFailed):
        briefings.generate(engine, kind="yearly", unit_id=city.id("C"),  # type: ignore[arg-type]
                           day=dt.date(2026, 10, 5), actor=SYSTEM)  # fmt: skip


def _check_due_briefings(engine: Engine) -> None:
    with session_scope(engine) as session:
        # Monday 1 June 2026: the week and the month just ended; no sensitive period.
        assert due_briefings(session, dt.date(2026, 6, 1)) == [
            ("weekly", dt.date(2026, 5, 31)), ("monthly", dt.date(2026, 5, 31)),
        ]  # fmt: skip
        assert due_briefings(session, dt.date(2026, 6, 3)) == []
        set_sensitive_until(session, dt.date(2026, 6, 10), actor=SYSTEM)
        assert due_briefings(session, dt.date(2026, 6, 3)) == [("daily", dt.date(2026, 6, 2))]
        assert due_briefings(session, dt.date(2026, 6, 12)) == []


def test_scheduler_makes_the_daily_briefings_once(engine: Engine, city: TestCity) -> None:
    from pingan import schedules

    _check_demo_seeding(engine)
    _check_due_briefings(engine)
    with session_scope(engine) as session:
        set_sensitive_until(session, None, actor=SYSTEM)

    schedules.install()
    now = dt.datetime(2026, 6, 3, 0, 0, 5, tzinfo=dt.UTC)
    queued = jobs.enqueue_due(engine, now=now)
    with session_scope(engine) as session:
        kinds = session.scalars(select(jobs.Job.kind).where(jobs.Job.id.in_(queued))).all()
        set_sensitive_until(session, dt.date(2026, 6, 10), actor=SYSTEM)
    assert SCHEDULED in kinds
    first = scheduled_job(engine, {"today": "2026-06-03"}, lambda f, m="": None)
    assert first["due"] == ["daily"]
    with session_scope(engine) as session:
        made = session.scalars(select(Briefing).where(Briefing.id.in_(first["briefing_ids"])))
        rows = sorted((b.kind, b.org_unit_id, b.period_label, b.sensitive) for b in made)
    # The 24 hours before the morning meeting of 3 June (08:00 Beijing = 00:00 UTC).
    assert rows == sorted(
        ("daily", city.id(code), "24 h to 2026-06-03 08:00", True) for code in ("C", "DW", "DE")
    )
    again = scheduled_job(engine, {"today": "2026-06-03"}, lambda f, m="": None)
    assert again["briefing_ids"] == []
    with session_scope(engine) as session:
        assert session.scalar(select(func.count(Briefing.id))) == 3
    assert city_zone().key == "Asia/Shanghai"


def _check_scope_of_the_archive(engine: Engine, city: TestCity) -> None:
    east = briefings.generate(
        engine, kind="daily", unit_id=city.id("DE"), day=dt.date(2026, 10, 5), actor=SYSTEM
    )
    from pingan.org import users
    from tests.citykit import unit

    with session_scope(engine) as session:
        user = users.create_user(session, username="wa", password=None, is_service=True,
                                 actor=SYSTEM)  # fmt: skip
        users.grant_role(session, user=user, role_name="analyst", unit=unit(session, "DW"),
                         actor=SYSTEM)  # fmt: skip
        west: Principal = users.principal_for(session, user, via="session")
        assert briefings.list_briefings(session, actor=west) == []
        assert [b.id for b in briefings.list_briefings(session, actor=SYSTEM)] == [east]
        from pingan.kit.errors import NotFound

        with pytest.raises(NotFound):
            briefings.get_briefing(session, east, actor=west)


def _check_demo_seeding(engine: Engine) -> None:
    from pingan.reports.demo import seed_demo_reports
    from pingan.reports.jobs import BRIEFING

    assert seed_demo_reports(engine) == 2
    assert seed_demo_reports(engine) == 0
    with session_scope(engine) as session:
        queued = session.scalars(select(jobs.Job).where(jobs.Job.kind == BRIEFING)).all()
        kinds = sorted(j.params_dict()["kind"] for j in queued)
    assert kinds == ["monthly", "weekly"]
