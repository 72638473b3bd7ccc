"""Reporting periods in the city's calendar (Asia/Shanghai, UTC+8)."""

from __future__ import annotations

import datetime as dt

import pytest

from pingan.kit.errors import ValidationFailed
from pingan.reports.periods import briefing_period, last_24h, parse_period

UTC = dt.UTC


def test_month_previous_and_last_year() -> None:
    october = parse_period("2026-10")
    assert october.start == dt.datetime(2026, 9, 30, 16, tzinfo=UTC)  # local midnight
    assert october.end == dt.datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert october.days == 31
    previous = october.previous()
    assert (previous.label, previous.days) == ("2026-09", 30)
    assert previous.end == october.start
    assert october.last_year().label == "2025-10"
    assert parse_period("2026-01").previous().label == "2025-12"


def test_week_and_day() -> None:
    week = parse_period("2026-W48")
    assert week.start == dt.datetime(2026, 11, 22, 16, tzinfo=UTC)  # Monday 23 Nov, local
    assert week.days == 7
    assert week.previous().end == week.start
    assert week.last_year().label == "2025-W48"
    # 2026 has an ISO week 53; 2025 does not: compared with week 52.
    assert parse_period("2026-W53").last_year().label == "2025-W52"
    day = parse_period("2026-11-28")
    assert day.days == 1
    assert day.last_year().label == "2025-11-28"
    assert parse_period("2028-02-29").last_year().label == "2027-02-28"


def test_briefing_periods_and_last_24h() -> None:
    assert briefing_period("weekly", dt.date(2026, 11, 25)).label == "2026-W48"
    assert briefing_period("monthly", dt.date(2026, 11, 25)).label == "2026-11"
    assert briefing_period("daily", dt.date(2026, 11, 25)).label == "2026-11-25"
    sensitive = briefing_period("daily", dt.date(2026, 11, 25), sensitive=True)
    assert sensitive.start == dt.datetime(2026, 11, 25, 0, tzinfo=UTC)  # 08:00 Beijing
    assert sensitive.end == dt.datetime(2026, 11, 26, 0, tzinfo=UTC)
    assert sensitive.previous().end == sensitive.start
    end = dt.datetime(2026, 11, 29, 0, tzinfo=UTC)
    window = last_24h(end)
    assert window.end - window.start == dt.timedelta(hours=24)


@pytest.mark.parametrize("text", ["2026-13", "2026-W60", "yesterday", "2026-02-30", ""])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_period(text)
    assert err.value.field == "period"
