"""KPIs against the hand-counted incidents, alerts and cases of the test city."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy.stats import binomtest
from sqlalchemy import Engine, select, update

from pingan.alerts import service as alerts
from pingan.alerts.models import AlertStatus
from pingan.cases import service as cases
from pingan.cases.categories import ensure_categories
from pingan.cases.models import Case, CaseClock
from pingan.cases.schemas import CaseIn
from pingan.incidents.service import city_zone
from pingan.kit.db import session_scope, utcnow
from pingan.kit.errors import NotFound, ValidationFailed
from pingan.org import users
from pingan.org.principal import Principal
from pingan.reports.kpis import compute_kpis, unit_for
from pingan.reports.kpis.registry import NOT_PERMITTED
from pingan.reports.periods import last_24h, parse_period
from tests.citykit import TestCity, grid_centre, unit
from tests.reports.conftest import SYSTEM, Planted

OCTOBER = parse_period("2026-10")


def _kpis(engine: Engine, code: str, actor: Principal = SYSTEM, period=OCTOBER):  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        values = compute_kpis(
            session, actor=actor, unit=unit_for(session, code, actor), period=period
        )
    return {v.code: v for _, v in values}


def test_incident_counts_and_changes(engine: Engine, planted: Planted) -> None:
    city = _kpis(engine, "C")
    total = city["incidents.total"]
    assert total.value == 12 + 2 + 1 + 3
    assert total.records == planted.october("W1", "W2", "E1", "E2")
    previous, last_year = total.breakdown
    assert (previous["baseline"], last_year["baseline"]) == (4 + 6, 3 + 2)
    assert previous["p_value"] == pytest.approx(binomtest(18, 28, 31 / 61).pvalue, abs=1e-4)
    assert last_year["significant"] is True
    by_type = {r["type"]: r for r in city["incidents.by_type"].breakdown}
    assert by_type["theft"]["count"] == 12
    assert by_type["theft"]["previous"]["baseline"] == 4
    assert by_type["theft"]["previous"]["p_value"] == pytest.approx(
        binomtest(12, 16, 31 / 61).pvalue, abs=1e-4
    )
    assert by_type["burglary"]["previous"]["direction"] == "down"
    assert by_type["robbery"]["count"] == 1
    west = _kpis(engine, "DW")
    assert west["incidents.total"].value == 13
    assert west["incidents.total"].records == planted.october("W1", "W2")
    assert _kpis(engine, "W2")["incidents.total"].value == 1
    # Records begin on 1 October 2025: earlier periods are not compared against a false zero.
    first_month = _kpis(engine, "C", period=parse_period("2025-10"))["incidents.total"]
    assert first_month.value == 5
    assert [b["direction"] for b in first_month.breakdown] == ["no_data", "no_data"]
    assert first_month.breakdown[0]["p_value"] is None
    _check_unknown_kpi(engine)


def test_scope_limits_what_is_counted(engine: Engine, planted: Planted) -> None:
    with session_scope(engine) as session:
        user = users.create_user(session, username="ea", password=None, is_service=True,
                                 actor=SYSTEM)  # fmt: skip
        users.grant_role(session, user=user, role_name="analyst", unit=unit(session, "DE"),
                         actor=SYSTEM)  # fmt: skip
        analyst = users.principal_for(session, user, via="session")
    east = _kpis(engine, "DE", analyst)
    assert east["incidents.total"].value == 2 + 3
    assert east["incidents.total"].records == planted.october("E1", "E2")
    with session_scope(engine) as session, pytest.raises(NotFound):
        unit_for(session, "DW", analyst)
    # Analysts read cases and dispatch in their unit, so those figures are shown.
    assert east["cases.backlog"].available
    assert east["dispatch.response_within_target"].available
    # A grid worker reads incidents but not dispatch: that figure says so, it is not zero.
    with session_scope(engine) as session:
        user = users.create_user(session, username="gw", password=None, is_service=True,
                                 actor=SYSTEM)  # fmt: skip
        users.grant_role(session, user=user, role_name="grid_worker", unit=unit(session, "W1"),
                         actor=SYSTEM)  # fmt: skip
        worker = users.principal_for(session, user, via="session")
    grid = _kpis(engine, "W1", worker)
    assert grid["incidents.total"].value == 12
    response = grid["dispatch.response_within_target"]
    assert (response.available, response.value, response.note) == (False, None, NOT_PERMITTED)


def _check_unknown_kpi(engine: Engine) -> None:
    with session_scope(engine) as session, pytest.raises(ValidationFailed) as err:
        compute_kpis(session, actor=SYSTEM, unit=unit(session, "C"), period=OCTOBER,
                     codes=["no.such"])  # fmt: skip
    assert err.value.field == "codes"


def _check_alert_lifecycle_and_time_to_acknowledge(engine: Engine, city: TestCity) -> None:
    now = utcnow()
    ids = []
    with session_scope(engine) as session:
        for code, hours_ago in (("W1", 3.0), ("W2", 1.0), ("E1", 0.5)):
            signal = alerts.Signal(
                method="ears.c3", org_unit_id=city.id(code), grid_ids=(city.id(code),),
                window_start=now.date(), window_end=now.date(), statistic=4.0, observed=6,
                expected=1.5,
            )  # fmt: skip
            alert, created = alerts.record_signal(session, signal=signal, actor=SYSTEM)
            assert created
            alert.created_at = now - dt.timedelta(hours=hours_ago)
            ids.append(alert.id)
        session.flush()
        for alert_id in ids[:2]:
            alerts.transition(session, alert_id=alert_id, to=AlertStatus.ACKNOWLEDGED,
                              actor=SYSTEM)  # fmt: skip
        alerts.transition(session, alert_id=ids[0], to=AlertStatus.RESOLVED, actor=SYSTEM)
    window = last_24h(utcnow() + dt.timedelta(minutes=1))
    city_kpis = _kpis(engine, "C", period=window)
    assert city_kpis["alerts.raised"].records == sorted(ids)
    assert city_kpis["alerts.acknowledged"].records == sorted(ids[:2])
    assert city_kpis["alerts.resolved"].records == [ids[0]]
    # Acknowledged about 3 h and 1 h after creation: median 2 h.
    assert city_kpis["alerts.time_to_acknowledge_h"].value == pytest.approx(2.0, abs=0.05)
    assert city_kpis["alerts.open"].records == sorted(ids[1:])
    west = _kpis(engine, "DW", period=window)
    assert west["alerts.raised"].value == 2
    assert west["alerts.open"].records == [ids[1]]


def test_alerts_and_cases(engine: Engine, city: TestCity) -> None:
    _check_alert_lifecycle_and_time_to_acknowledge(engine, city)
    _check_case_backlog_age_on_time_and_overdue(engine, city)


def _check_case_backlog_age_on_time_and_overdue(engine: Engine, city: TestCity) -> None:
    zone = city_zone()
    created = {
        "W1": dt.datetime(2026, 10, 5, 10, tzinfo=zone),
        "W2": dt.datetime(2026, 10, 20, 10, tzinfo=zone),
        "E1": dt.datetime(2026, 10, 25, 10, tzinfo=zone),
    }
    ids = {}
    with session_scope(engine) as session:
        ensure_categories(session)
        for code, when in created.items():
            lon, lat = grid_centre(code)
            case, _ = cases.create_case(
                session, case_in=CaseIn(category="manhole_cover", title=f"cover {code}",
                                        lon=lon, lat=lat), actor=SYSTEM, now=when,
            )  # fmt: skip
            ids[code] = case.id
        # Two handling clocks that stopped in October: one with time left, one late.
        for code, remaining in (("W1", 600), ("W2", -60)):
            session.add(
                CaseClock(
                    case_id=ids[code], name="handle", basis="working_hours", total_s=14_400,
                    remaining_s=remaining, started_at=created[code],
                    stopped_at=created[code] + dt.timedelta(hours=5), status="stopped",
                )
            )  # fmt: skip
        # A case closed before the period ends is not in the backlog.
        session.execute(
            update(Case)
            .where(Case.id == ids["E1"])
            .values(is_open=False, closed_at=dt.datetime(2026, 10, 28, tzinfo=zone))
        )
    city_kpis = _kpis(engine, "C")
    assert city_kpis["cases.backlog"].records == sorted([ids["W1"], ids["W2"]])
    end = OCTOBER.end
    ages = [(end - created[c]).total_seconds() / 86_400 for c in ("W1", "W2")]
    assert city_kpis["cases.backlog_age_days"].value == pytest.approx(np.median(ages), abs=0.01)
    assert city_kpis["cases.on_time_rate"].value == 0.5
    assert city_kpis["cases.on_time_rate"].records == sorted([ids["W1"], ids["W2"]])
    west = _kpis(engine, "DW")
    assert west["cases.backlog"].value == 2
    east = _kpis(engine, "DE")
    assert east["cases.backlog"].value == 0
    assert east["cases.on_time_rate"].value is None
    # Overdue: open cases whose running clock was due before the period's end.
    with session_scope(engine) as session:
        due = session.execute(
            select(CaseClock.case_id).where(
                CaseClock.status == "running", CaseClock.due_at < end,
                CaseClock.case_id.in_([ids["W1"], ids["W2"]]),
            )
        ).scalars().all()  # fmt: skip
    assert sorted(set(due)) == city_kpis["cases.overdue"].records
    assert len(city_kpis["cases.overdue"].records) >= 1


def test_a_running_period_is_compared_to_date() -> None:
    from pingan.reports.kpis.incidents import windows
    from pingan.reports.kpis.registry import KpiContext

    now = utcnow()
    local = now.astimezone(city_zone())
    month = parse_period(f"{local.year}-{local.month:02d}")
    ctx = KpiContext(session=None, actor=SYSTEM, unit=None, period=month)  # type: ignore[arg-type]
    current, previous, last_year = windows(ctx)
    assert current.start == month.start and current.end <= utcnow()
    elapsed = current.end - current.start
    assert previous.start == month.previous().start
    assert previous.end - previous.start == elapsed
    assert last_year.start == month.last_year().start
    assert last_year.end - last_year.start == elapsed
    # A finished period is compared whole.
    assert windows(KpiContext(session=None, actor=SYSTEM, unit=None, period=OCTOBER))[1].days == 30  # type: ignore[arg-type]
