"""The mainland's official holidays and make-up working days, for the statutory clocks.

The city calendar (``case_holidays``) lists exceptions to Monday-Friday; this
fills it from ``chinese_calendar``, which carries the State Council's yearly
holiday notices. Only days that differ from the weekday rule are written.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar  # type: ignore[import-untyped]
from sqlalchemy.orm import Session

from pingan.cases.categories import set_holiday
from pingan.kit.errors import ValidationFailed


def load_mainland_holidays(session: Session, year: int) -> tuple[int, int]:
    """Write the year's holidays and make-up working days; returns (holidays, make-up days)."""
    day, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        raise ValidationFailed(
            f"the installed chinese-calendar has no official holidays for {year}", field="year"
        ) from None
    holidays = makeups = 0
    while day <= end:
        working = chinese_calendar.is_workday(day)
        weekday = day.weekday() < 5
        if working != weekday:
            _on_holiday, name = chinese_calendar.get_holiday_detail(day)
            set_holiday(session, day, str(name or ""), is_workday=working)
            holidays += not working
            makeups += working
        day += dt.timedelta(days=1)
    return holidays, makeups
