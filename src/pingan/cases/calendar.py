"""The city's working-time calendar, for SLA clocks.

Working time is 09:00-17:00 on working days in the city's zone. A working
day is Monday to Friday, except a listed holiday; a listed make-up working
day (调休) on a weekend counts as working. Clocks count either working
seconds or plain calendar seconds, depending on their basis.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pingan.cases.models import CaseHoliday
from pingan.settings import get_settings

DAY_START = dt.time(9, 0)
DAY_END = dt.time(17, 0)
WORKDAY_S = 8 * 3600
_MAX_DAYS = 3660  # a deadline ten years out is a configuration error, not a loop


class Basis(StrEnum):
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"
    # Statutory periods (信访工作条例 and the like): whole days counted from the
    # day after the start, ending at midnight; a last day that is not a working
    # day moves to the next working day.
    STATUTORY_DAYS = "statutory_days"


@dataclass(frozen=True)
class WorkCalendar:
    zone: ZoneInfo
    # date -> True for a make-up working day, False for a holiday
    overrides: dict[dt.date, bool] = field(default_factory=dict)

    def is_working_day(self, day: dt.date) -> bool:
        return self.overrides.get(day, day.weekday() < 5)

    def _window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        start = dt.datetime.combine(day, DAY_START, self.zone)
        return start, dt.datetime.combine(day, DAY_END, self.zone)

    def working_seconds(self, a: dt.datetime, b: dt.datetime) -> int:
        """Working seconds between two instants (0 if ``b`` is not after ``a``)."""
        if b <= a:
            return 0
        total = 0.0
        day = a.astimezone(self.zone).date()
        last = b.astimezone(self.zone).date()
        while day <= last:
            if self.is_working_day(day):
                lo, hi = self._window(day)
                overlap = (min(hi, b) - max(lo, a)).total_seconds()
                total += max(0.0, overlap)
            day += dt.timedelta(days=1)
        return int(total)

    def add_working(self, start: dt.datetime, seconds: int) -> dt.datetime:
        """The instant when ``seconds`` of working time have passed since ``start``."""
        left = float(seconds)
        day = start.astimezone(self.zone).date()
        for _ in range(_MAX_DAYS):
            if self.is_working_day(day):
                lo, hi = self._window(day)
                begin = max(lo, start)
                available = (hi - begin).total_seconds()
                if available > 0:
                    if left <= available:
                        return (begin + dt.timedelta(seconds=left)).astimezone(dt.UTC)
                    left -= available
            day += dt.timedelta(days=1)
        raise ValueError("deadline is more than ten years away")

    def extended(self, basis: str, due: dt.datetime, amount: int) -> dt.datetime:
        """A deadline ``due`` moved later by ``amount`` units of its basis."""
        if basis == Basis.STATUTORY_DAYS:
            return self.statutory_end(due - dt.timedelta(seconds=1), amount)
        if basis == Basis.WORKING_DAYS:
            return self.end_of_nth_working_day(due, amount)
        if basis == Basis.WORKING_HOURS:
            return self.add_working(due, amount * 3600)
        return due + dt.timedelta(days=amount)

    def end_of_nth_working_day(self, start: dt.datetime, n: int) -> dt.datetime:
        """Close of business on the n-th working day after the start's date."""
        day = start.astimezone(self.zone).date()
        counted = 0
        for _ in range(_MAX_DAYS):
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
                if counted >= n:
                    return self._window(day)[1].astimezone(dt.UTC)
        raise ValueError("deadline is more than ten years away")

    def statutory_end(self, start: dt.datetime, days: int) -> dt.datetime:
        """Midnight ending the ``days``-th day after the start's date (next working day if off)."""
        day = start.astimezone(self.zone).date() + dt.timedelta(days=days)
        for _ in range(_MAX_DAYS):
            if self.is_working_day(day):
                end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), self.zone)
                return end.astimezone(dt.UTC)
            day += dt.timedelta(days=1)
        raise ValueError("deadline is more than ten years away")

    # --- by basis -------------------------------------------------------------

    def counted(self, basis: str, a: dt.datetime, b: dt.datetime) -> int:
        if basis in (Basis.CALENDAR_DAYS, Basis.STATUTORY_DAYS):
            return max(0, int((b - a).total_seconds()))
        return self.working_seconds(a, b)

    def advance(self, basis: str, start: dt.datetime, seconds: int) -> dt.datetime:
        if basis in (Basis.CALENDAR_DAYS, Basis.STATUTORY_DAYS):
            return start + dt.timedelta(seconds=seconds)
        return self.add_working(start, seconds)

    def initial(self, basis: str, start: dt.datetime, amount: int) -> tuple[int, dt.datetime]:
        """(budget in counted seconds, due instant) of a clock started at ``start``."""
        if basis == Basis.WORKING_HOURS:
            total = amount * 3600
            return total, self.add_working(start, total)
        if basis == Basis.WORKING_DAYS:
            due = self.end_of_nth_working_day(start, amount)
            return self.working_seconds(start, due), due
        if basis == Basis.CALENDAR_DAYS:
            total = amount * 86400
            return total, start + dt.timedelta(seconds=total)
        if basis == Basis.STATUTORY_DAYS:
            due = self.statutory_end(start, amount)
            return int((due - start).total_seconds()), due
        raise ValueError(f"unknown clock basis {basis!r}")


def load_calendar(session: Session) -> WorkCalendar:
    rows = session.execute(select(CaseHoliday.day, CaseHoliday.is_workday)).all()
    zone = ZoneInfo(get_settings().city_timezone)
    return WorkCalendar(zone, {day: bool(is_workday) for day, is_workday in rows})
