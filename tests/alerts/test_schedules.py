"""Early-warning schedules: parsed and checked at startup, hourly runs once an hour, per type."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from pingan import schedules
from pingan.alerts import run_schedules, runs
from pingan.alerts.models import Alert
from pingan.alerts.run_schedules import ScheduleConfigError, parse_schedules
from pingan.incidents.models import Incident
from pingan.incidents.service import city_zone
from pingan.kit import jobs
from pingan.kit.db import session_scope
from pingan.settings import get_settings
from tests.alerts.conftest import DAY, LOOKBACK
from tests.citykit import TestCity

HOURLY_AND_DAILY = (
    '[{"name": "burglary-hourly", "incident_types": ["burglary"], "every": "hourly"},'
    ' {"name": "all-daily", "every": "daily", "replications": 99}]'
)


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set PINGAN_ALERTS_SCHEDULES, with a scheduler holding only what the test installs."""
    monkeypatch.setattr(jobs, "_schedules", {})

    def configure(text: str) -> None:
        monkeypatch.setenv("PINGAN_ALERTS_SCHEDULES", text)
        get_settings.cache_clear()

    yield configure
    monkeypatch.delenv("PINGAN_ALERTS_SCHEDULES", raising=False)
    get_settings.cache_clear()


def test_default_is_one_daily_run_over_all_types() -> None:
    for empty in (None, "", "  "):
        (only,) = parse_schedules(empty)
        assert (only.name, only.every, only.incident_types) == ("alerts.daily", "daily", ())


def test_schedules_are_parsed() -> None:
    hourly, daily = parse_schedules(HOURLY_AND_DAILY)
    assert (hourly.name, hourly.every, hourly.incident_types) == (
        "burglary-hourly",
        "hourly",
        ("burglary",),
    )
    assert daily.params == {"replications": 99} and daily.incident_types == ()
    assert hourly.job_params == {
        "incident_types": ["burglary"],
        "every": "hourly",
        "schedule": "burglary-hourly",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"name": "a", "every": "daily"', "not valid JSON (line 1, column 32"),
        ('{"name": "a"}', "non-empty JSON list"),
        ("[]", "non-empty JSON list"),
        ('[{"name": "a", "every": "weekly"}]', "every must be 'hourly' or 'daily'"),
        ('[{"every": "daily"}]', "name must be"),
        ('[{"name": "a b"}]', "name must be"),
        ('[{"name": "a"}, {"name": "a", "every": "hourly"}]', "'a' is used twice"),
        ('[{"name": "a", "incident_types": "burglary"}]', "incident_types must be a list"),
        ('[{"name": "a", "windows": 3}]', "unknown parameter 'windows'"),
        ('[{"name": "a", "replications": 5}]', "replications must be 9..9999"),
        ('[{"name": "a", "day": "2026-01-01"}]', "'day' is set by the schedule"),
        ('[{"name": "a", "methods": "scan,magic"}]', "unknown method 'magic'"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(ScheduleConfigError, match="PINGAN_ALERTS_SCHEDULES") as err:
        parse_schedules(text)
    assert message in str(err.value)


def test_startup_refuses_bad_json_and_unknown_incident_types(
    engine: Engine, city: TestCity, configured: Any
) -> None:
    configured("[{oops")
    with pytest.raises(ScheduleConfigError, match="not valid JSON"):
        schedules.install(engine)
    configured('[{"name": "x", "incident_types": ["burglary", "burgalry"], "every": "hourly"}]')
    with pytest.raises(ScheduleConfigError, match="unknown incident type 'burgalry'"):
        schedules.install(engine)
    configured(HOURLY_AND_DAILY)
    schedules.install(engine)
    assert {"burglary-hourly", "all-daily"} <= set(jobs._schedules)
    assert runs.KIND not in jobs._schedules  # the default daily run is replaced


def test_hourly_schedule_enqueues_once_an_hour(engine: Engine, configured: Any) -> None:
    configured(HOURLY_AND_DAILY)
    runs.install_schedules()
    start = dt.datetime(2026, 4, 1, 0, 0, 5, tzinfo=dt.UTC)

    def queued(at: dt.datetime) -> list[tuple[str, dict[str, Any]]]:
        ids = jobs.enqueue_due(engine, now=at)
        with session_scope(engine) as session:
            return sorted(
                (j.params_dict()["schedule"], j.params_dict())
                for j in (jobs.get(session, i) for i in ids)
            )

    first = queued(start)
    assert [name for name, _ in first] == ["all-daily", "burglary-hourly"]
    assert first[1][1]["incident_types"] == ["burglary"] and first[1][1]["every"] == "hourly"
    assert first[0][1]["replications"] == 99
    assert queued(start + dt.timedelta(minutes=20)) == []
    assert queued(start + dt.timedelta(minutes=59, seconds=54)) == []
    hour_later = queued(start + dt.timedelta(hours=1))
    assert [name for name, _ in hour_later] == ["burglary-hourly"]
    assert queued(start + dt.timedelta(hours=1, minutes=30)) == []
    # Hours 00:00 to the next day's 00:00 inclusive: 25 hourly runs and 2 daily ones.
    total = len(first) + len(hour_later)
    for h in range(2, 25):
        total += len(queued(start + dt.timedelta(hours=h, seconds=1)))
    assert total == 25 + 2


def test_hourly_window_ends_at_the_top_of_the_hour() -> None:
    zone = city_zone()
    at = dt.datetime.combine(dt.date(2026, 4, 1), dt.time(15, 20), zone)
    assert run_schedules.hourly_day(at) == (dt.date(2026, 4, 1), 15)
    # At local midnight the spans are the calendar days: the daily run's window.
    midnight = dt.datetime.combine(dt.date(2026, 4, 1), dt.time(0, 10), zone)
    assert run_schedules.hourly_day(midnight) == (dt.date(2026, 3, 31), 24)


def _run_scheduled(
    engine: Engine, name: str, at: dt.datetime, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    (found,) = [s for s in jobs._schedules.values() if s.name == name]
    monkeypatch.setattr(runs, "_clock", lambda: at)
    with session_scope(engine) as session:
        job_id = jobs.submit(
            session, kind=found.kind, params=dict(found.params), created_by="system:scheduler"
        ).id
    jobs.run_pending(engine)
    with session_scope(engine) as session:
        job = jobs.get(session, job_id)
        assert job.status == "succeeded", job.error
        result = job.result_dict()
    assert result is not None
    return result


def _count(engine: Engine, since: dt.datetime, until: dt.datetime) -> int:
    with session_scope(engine) as session:
        return int(
            session.scalar(
                select(func.count(Incident.id)).where(
                    Incident.occurred_at >= since, Incident.occurred_at < until
                )
            )
            or 0
        )


def test_hourly_job_runs_for_its_types_over_spans_ending_at_the_hour(
    engine: Engine, outbreak: dict[str, int], configured: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured(
        '[{"name": "burglary-hourly", "incident_types": ["burglary"], "every": "hourly",'
        '  "replications": 99, "seed": 1},'
        ' {"name": "theft-hourly", "incident_types": ["theft"], "every": "hourly",'
        '  "replications": 99, "seed": 1}]'
    )
    runs.install_schedules(engine)
    zone = city_zone()
    at = dt.datetime.combine(DAY, dt.time(14, 40), zone)  # the spans end at 14:00
    burglary = _run_scheduled(engine, "burglary-hourly", at, monkeypatch)
    assert burglary["incidents"] == 0 and burglary["signals"] == []  # all incidents are thefts
    theft = _run_scheduled(engine, "theft-hourly", at, monkeypatch)
    top = at.replace(minute=0)
    assert (theft["day"], theft["end_hour"]) == (DAY.isoformat(), 14)
    assert theft["incidents"] == _count(engine, top - dt.timedelta(days=LOOKBACK), top)
    calendar_end = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(), zone)
    # The afternoon of the analysis day is not in yet: fewer than the calendar days hold.
    assert theft["incidents"] < _count(
        engine, calendar_end - dt.timedelta(days=LOOKBACK), calendar_end
    )

    def scan_alerts() -> list[Alert]:
        with session_scope(engine) as session:
            found = session.scalars(
                select(Alert).where(Alert.method == "scan.space_time_permutation")
            ).all()
            session.expunge_all()
            return list(found)

    (alert,) = scan_alerts()
    assert alert.types_list() == ["theft"] and alert.window_end == DAY
    # Later hours see the same cluster: it merges into the open alert, no new one.
    for hours in (13, 14):
        again = _run_scheduled(engine, "theft-hourly", at + dt.timedelta(hours=hours), monkeypatch)
        assert (again["day"], again["end_hour"]) == (
            (DAY + dt.timedelta(days=1)).isoformat(),
            hours - 10,
        )
        scan = [s for s in again["signals"] if s["method"] == "scan.space_time_permutation"]
        assert scan and not any(s["new"] for s in scan)
    (alert,) = scan_alerts()
    assert alert.signal_count == 3 and alert.window_end == DAY + dt.timedelta(days=1)


def test_job_and_cli_send_the_replications_to_a_dask_scheduler(
    engine: Engine, outbreak: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    distributed = pytest.importorskip("distributed")
    from typer.testing import CliRunner

    from pingan.cli import app

    runner = CliRunner()
    day = ["alerts", "run", "--day", DAY.isoformat(), "--replications", "99"]
    bad = runner.invoke(app, [*day, "--scheduler", "nowhere"])
    assert bad.exit_code == 1 and "bad Dask scheduler address 'nowhere'" in bad.output
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        address = cluster.scheduler_address
        # The job worker takes the scheduler from the setting.
        monkeypatch.setenv("PINGAN_DASK_SCHEDULER", address)
        get_settings.cache_clear()
        params = {"day": DAY.isoformat(), "replications": 99, "methods": "scan"}
        with session_scope(engine) as session:
            job_id = jobs.submit(session, kind=runs.KIND, params=params, created_by="t").id
        jobs.run_pending(engine)
        with session_scope(engine) as session:
            job = jobs.get(session, job_id)
            assert job.status == "succeeded", job.error
            assert job.result_dict()["created"] == 1  # type: ignore[index]
        prefixes = cluster.scheduler.task_prefixes  # Dask names tasks after the function
        blocks = next(p for name, p in prefixes.items() if "replicate_block" in name)
        assert blocks.state_counts["memory"] == 4  # 99 replications: 4 blocks of up to 32
        # The CLI takes it from --scheduler (here the same cluster).
        monkeypatch.delenv("PINGAN_DASK_SCHEDULER")
        get_settings.cache_clear()
        ran = runner.invoke(app, [*day, "--methods", "scan", "--scheduler", address])
        assert ran.exit_code == 0, ran.output
        assert "505 incidents, 0 new alerts, 1 merged" in ran.output
        assert blocks.state_counts["memory"] == 8
