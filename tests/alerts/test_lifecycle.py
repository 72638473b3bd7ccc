"""Alert lifecycle: create, merge repeated signals, transitions, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.alerts.models import AlertStatus
from pingan.alerts.service import Signal, get_alert, list_alerts, record_signal, transition
from pingan.kit.audit import AuditEntry
from pingan.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from pingan.org.models import OrgUnit
from pingan.org.principal import Grant, Principal
from tests.citykit import TestCity

SYSTEM = Principal.system("test")
D = dt.date(2026, 3, 20)


def _signal(city: TestCity, start: dt.date, end: dt.date, stat: float = 5.0) -> Signal:
    return Signal(
        method="scan.space_time_permutation",
        org_unit_id=city.id("W2"),
        grid_ids=(city.id("W2"),),
        window_start=start,
        window_end=end,
        statistic=stat,
        observed=12,
        expected=3.5,
        p_value=0.001,
        recurrence_days=1000.0,
        incident_types=("theft.bicycle",),
    )


def _audit_actions(session: Session, alert_id: int) -> list[str]:
    session.commit()  # audit entries join the chain as their transaction commits
    rows = session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "alert", AuditEntry.object_id == str(alert_id))
        .order_by(AuditEntry.id)
    )
    return list(rows)


def test_repeated_signal_merges_into_open_alert(session: Session, city: TestCity) -> None:
    first, created = record_signal(
        session, signal=_signal(city, D, D + dt.timedelta(days=2)), actor=SYSTEM
    )
    assert created and first.status == AlertStatus.NEW
    # The next day the same area signals again with an overlapping window.
    again, created_again = record_signal(
        session, signal=_signal(city, D + dt.timedelta(days=1), D + dt.timedelta(days=3), 7.5),
        actor=SYSTEM,
    )  # fmt: skip
    assert not created_again and again.id == first.id
    assert again.signal_count == 2 and again.statistic == 7.5
    assert (again.window_start, again.window_end) == (D, D + dt.timedelta(days=3))
    # A window far away is a new alert.
    later, created_later = record_signal(
        session, signal=_signal(city, D + dt.timedelta(days=10), D + dt.timedelta(days=11)),
        actor=SYSTEM,
    )  # fmt: skip
    assert created_later and later.id != first.id
    assert _audit_actions(session, first.id) == ["alert.create", "alert.merge"]


def test_closed_alert_is_not_reopened_by_a_signal(session: Session, city: TestCity) -> None:
    alert, _ = record_signal(session, signal=_signal(city, D, D), actor=SYSTEM)
    transition(session, alert_id=alert.id, to=AlertStatus.RESOLVED, actor=SYSTEM)
    fresh, created = record_signal(
        session, signal=_signal(city, D, D + dt.timedelta(days=1)), actor=SYSTEM
    )
    assert created and fresh.id != alert.id


def test_lifecycle_transitions_and_audit(session: Session, city: TestCity) -> None:
    alert, _ = record_signal(session, signal=_signal(city, D, D), actor=SYSTEM)
    transition(session, alert_id=alert.id, to=AlertStatus.ACKNOWLEDGED, actor=SYSTEM)
    with pytest.raises(ValidationFailed):
        transition(session, alert_id=alert.id, to=AlertStatus.DISMISSED, actor=SYSTEM, reason=" ")
    transition(
        session, alert_id=alert.id, to=AlertStatus.DISMISSED, actor=SYSTEM, reason="known event"
    )
    assert alert.status == AlertStatus.DISMISSED and alert.reason == "known event"
    with pytest.raises(Conflict):
        transition(session, alert_id=alert.id, to=AlertStatus.RESOLVED, actor=SYSTEM)
    assert _audit_actions(session, alert.id) == [
        "alert.create",
        "alert.acknowledged",
        "alert.dismissed",
    ]


def _reader(session: Session, city: TestCity, code: str) -> Principal:
    unit = session.get(OrgUnit, city.id(code))
    assert unit is not None
    grant = Grant(unit.id, unit.level, unit.path, "analyst", frozenset({"incidents:read"}))
    return Principal(user_id=99, username=f"reader_{code}", grants=(grant,))


def test_scope_hides_alerts_of_other_units(session: Session, city: TestCity) -> None:
    alert, _ = record_signal(session, signal=_signal(city, D, D), actor=SYSTEM)
    east, west = _reader(session, city, "DE"), _reader(session, city, "DW")
    with pytest.raises(NotFound):
        get_alert(session, alert.id, actor=east)
    assert list_alerts(session, actor=east) == []
    assert get_alert(session, alert.id, actor=west).id == alert.id
    assert [a.id for a in list_alerts(session, actor=west)] == [alert.id]
    # A reader in scope who may not handle alerts gets 403, not 404.
    with pytest.raises(Forbidden):
        transition(session, alert_id=alert.id, to=AlertStatus.ACKNOWLEDGED, actor=west)
