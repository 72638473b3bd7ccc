"""Retention: the purge removes exactly what is past each rule's period, and never the audit log."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import Engine, func, select

from pingan import schedules
from pingan.cases.categories import ensure_categories
from pingan.cases.models import Case
from pingan.cases.schemas import CaseIn
from pingan.cases.service import create_case
from pingan.cases.workflows.grid_event import DEFAULT_CATEGORIES
from pingan.dispatch.responder_models import Responder, ResponderPosition, TrailPoint
from pingan.governance.tips_models import Tip, TipMessage
from pingan.kit import audit, jobs
from pingan.kit.db import session_scope
from pingan.ops import retention
from pingan.org.models import AuthToken, User
from pingan.settings import get_settings
from tests.citykit import TestCity, grid_centre, unit
from tests.ops.conftest import SYSTEM

NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def _responders(engine: Engine, city: TestCity) -> dict[str, int]:
    """One responder seen 2 h ago and one seen 30 h ago, each with a short trail."""
    ids = {}
    with session_scope(engine) as session:
        for label, age in (("fresh", 2 * HOUR), ("stale", 30 * HOUR)):
            r = Responder(
                display_name=f"unit {label}", kind="police_unit", tier=1, org_unit_id=city.id("W1")
            )
            session.add(r)
            session.flush()
            lon, lat = grid_centre("W1")
            session.add(
                ResponderPosition(responder_id=r.id, at=NOW - age, lon=lon, lat=lat, x=0, y=0)
            )
            for k in range(3):
                when = NOW - age - k * HOUR
                session.add(TrailPoint(responder_id=r.id, at=when, lon=lon, lat=lat))
            ids[label] = r.id
    return ids


def _case(engine: Engine, *, name: str, closed_days_ago: float | None) -> int:
    lon, lat = grid_centre("W2")
    with session_scope(engine) as session:
        ensure_categories(session)
        case, _dups = create_case(
            session,
            case_in=CaseIn(
                category=DEFAULT_CATEGORIES[0][0], title="Broken lamp", lon=lon, lat=lat,
                reporter_name=name, reporter_phone="13800000000", reporter_email="a@example.org",
            ),
            actor=SYSTEM,
        )  # fmt: skip
        if closed_days_ago is not None:
            case.is_open, case.closed_at = False, NOW - closed_days_ago * DAY
        return case.id


def _tip(engine: Engine, *, closed_days_ago: float | None) -> int:
    with session_scope(engine) as session:
        ensure_categories(session)
        grid = unit(session, "W1")
        category = session.scalar(select(Case.category_id).limit(1))
        case = Case(
            number=f"T-{uuid.uuid4().hex[:8]}", case_type="tip", state="closed",
            category_id=category,
            title="Tip", unit_id=grid.id, unit_path=grid.path, public_token=uuid.uuid4().hex,
            is_open=closed_days_ago is None,
            closed_at=None if closed_days_ago is None else NOW - closed_days_ago * DAY,
        )  # fmt: skip
        session.add(case)
        session.flush()
        session.add(Tip(case_id=case.id, channel="web", content="I saw it", place="gate 3",
                        pin_hash="x"))  # fmt: skip
        session.flush()
        session.add(TipMessage(case_id=case.id, at=NOW - 400 * DAY, sender="tipster", body="hi"))
        return case.id


def test_each_rule_removes_only_what_is_past_its_period(engine: Engine, city: TestCity) -> None:
    # The case and tip seeds need a category row to exist first.
    _case(engine, name="seed", closed_days_ago=None)
    responders = _responders(engine, city)
    old_case = _case(engine, name="Li Lei", closed_days_ago=800)
    recent_case = _case(engine, name="Han Meimei", closed_days_ago=10)
    open_case = _case(engine, name="Wang Fang", closed_days_ago=None)
    old_tip = _tip(engine, closed_days_ago=400)
    new_tip = _tip(engine, closed_days_ago=30)
    open_tip = _tip(engine, closed_days_ago=None)
    with session_scope(engine) as session:
        user = session.scalar(select(User).limit(1)) or User(username="u1")
        session.add(user)
        session.flush()
        for label, expires in (("old", NOW - 40 * DAY), ("live", NOW + DAY)):
            session.add(AuthToken(user_id=user.id, token_hash=label * 8, expires_at=expires))
        audit_before = session.scalar(select(func.count(audit.AuditEntry.id)))

    settings = get_settings().model_copy(
        update={
            "retention_positions_hours": 24,
            "retention_closed_tips_days": 365,
            "retention_closed_case_personal_days": 730,
            "retention_sessions_days": 30,
        }
    )
    removed = retention.purge(engine, now=NOW, settings=settings)

    with session_scope(engine) as session:
        positions = set(session.scalars(select(ResponderPosition.responder_id)))
        assert positions == {responders["fresh"]}
        trail = session.scalars(select(TrailPoint.responder_id)).all()
        assert sorted(trail) == [responders["fresh"]] * 3
        people = {
            c.id: (c.reporter_name, c.reporter_phone, c.reporter_email)
            for c in session.scalars(select(Case).where(Case.case_type != "tip"))
        }
        assert people[old_case] == (None, None, None)
        assert people[recent_case][0] == "Han Meimei"
        assert people[open_case][0] == "Wang Fang"
        tips = {t.case_id: (t.content, t.place) for t in session.scalars(select(Tip))}
        assert tips[old_tip] == ("", "")
        assert tips[new_tip] == tips[open_tip] == ("I saw it", "gate 3")
        messages = {m.case_id for m in session.scalars(select(TipMessage))}
        assert messages == {new_tip, open_tip}
        tokens = session.scalars(select(AuthToken.token_hash)).all()
        assert "old" * 8 not in tokens and "live" * 8 in tokens
        # The audit log only grows: one entry records the purge, and the chain holds.
        entries = session.scalar(select(func.count(audit.AuditEntry.id)))
        assert entries == (audit_before or 0) + 1
        last = session.scalar(select(audit.AuditEntry).order_by(audit.AuditEntry.id.desc()))
        assert last is not None and last.action == retention.PURGE_KIND
        assert audit.verify_chain(session).ok
    assert removed == {
        "responder_positions": 1 + 3,
        "closed_tips": 1 + 1,  # one message, one tip's content
        "closed_case_personal": 1,
        "sessions": 1,
    }
    # A second run finds nothing more to do.
    again = retention.purge(engine, now=NOW, settings=settings)
    assert set(again.values()) == {0}


def test_purge_is_a_scheduled_job(engine: Engine, city: TestCity) -> None:
    schedules.install()
    assert retention.PURGE_KIND in jobs._schedules
    with session_scope(engine) as session:
        job = jobs.submit(session, kind=retention.PURGE_KIND, params={}, created_by="test")
        job_id = job.id
    assert jobs.run_pending(engine) >= 1
    with session_scope(engine) as session:
        done = jobs.get(session, job_id)
        assert done.status == jobs.JobStatus.SUCCEEDED, done.error
        assert set(done.result_dict()["removed"]) == {r.name for r in retention.RULES}  # type: ignore[index]


@pytest.mark.parametrize("hours", [0.5, 48.0])
def test_positions_window_follows_the_setting(engine: Engine, city: TestCity, hours: float) -> None:
    responders = _responders(engine, city)
    settings = get_settings().model_copy(update={"retention_positions_hours": hours})
    retention.purge(engine, now=NOW, settings=settings)
    with session_scope(engine) as session:
        kept = set(session.scalars(select(ResponderPosition.responder_id)))
    expected = set() if hours < 2 else {responders["fresh"], responders["stale"]}
    assert kept == expected
