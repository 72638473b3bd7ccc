"""Reporting periods in the city's calendar, and the periods they are compared with.

A period is a half-open window ``[start, end)`` of local calendar time,
stored as aware UTC. A day, an ISO week or a month is named the way people
say it ("2026-11-28", "2026-W48", "2026-11"); the previous period has the same
length and ends where this one starts; "the same period last year" is the
same month, the same ISO week, or the same date one year earlier.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from pingan.incidents.service import city_zone
from pingan.kit.errors import ValidationFailed

Kind = Literal["day", "week", "month", "last24h"]
_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_DAY = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")


@dataclass(frozen=True)
class Period:
    kind: Kind
    label: str
    start: dt.datetime  # aware UTC
    end: dt.datetime  # aware UTC, exclusive

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86_400

    def previous(self) -> Period:
        if self.kind == "month":
            local = self.start.astimezone(city_zone())
            year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
            return month_period(year, month)
        length = self.end - self.start
        return Period(self.kind, f"{self.label} (previous)", self.start - length, self.start)

    def last_year(self) -> Period:
        zone = city_zone()
        local = self.start.astimezone(zone)
        if self.kind == "month":
            return month_period(local.year - 1, local.month)
        if self.kind == "week":
            iso = local.date().isocalendar()
            # ISO week 53 exists only in some years: fall back to week 52.
            week = min(iso.week, dt.date(iso.year - 1, 12, 28).isocalendar().week)
            return week_period(iso.year - 1, week)
        if self.kind == "day":
            day = local.date()
            try:
                return day_period(day.replace(year=day.year - 1))
            except ValueError:  # 29 February
                return day_period(day.replace(year=day.year - 1, day=28))
        shift = dt.timedelta(days=364)  # same weekday, a year back
        return Period(self.kind, f"{self.label} (last year)", self.start - shift, self.end - shift)

    def local_start(self) -> dt.datetime:
        return self.start.astimezone(city_zone())

    def local_end(self) -> dt.datetime:
        return self.end.astimezone(city_zone())


def _local(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=city_zone()).astimezone(dt.UTC)


def day_period(day: dt.date) -> Period:
    return Period("day", day.isoformat(), _local(day), _local(day + dt.timedelta(days=1)))


def week_period(year: int, week: int) -> Period:
    try:
        monday = dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValidationFailed(f"{year} has no ISO week {week}", field="period") from None
    return Period(
        "week", f"{year}-W{week:02d}", _local(monday), _local(monday + dt.timedelta(days=7))
    )


def month_period(year: int, month: int) -> Period:
    if not 1 <= month <= 12:
        raise ValidationFailed(f"no month {month}", field="period")
    first = dt.date(year, month, 1)
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return Period("month", f"{year}-{month:02d}", _local(first), _local(following))


def last_24h(end: dt.datetime) -> Period:
    """The sensitive-period window: the 24 hours up to ``end``."""
    end = end.astimezone(dt.UTC)
    label = end.astimezone(city_zone()).strftime("%Y-%m-%d %H:%M")
    return Period("last24h", f"24 h to {label}", end - dt.timedelta(hours=24), end)


def parse_period(text: str) -> Period:
    """ "2026-11-28" (a day), "2026-W48" (an ISO week) or "2026-11" (a month)."""
    value = text.strip()
    if m := _WEEK.match(value):
        return week_period(int(m.group(1)), int(m.group(2)))
    if m := _MONTH.match(value):
        return month_period(int(m.group(1)), int(m.group(2)))
    if _DAY.match(value):
        try:
            return day_period(dt.date.fromisoformat(_pad(value)))
        except ValueError:
            pass
    raise ValidationFailed(
        f"cannot read period {text!r}: use 2026-11-28 (day), 2026-W48 (week) or 2026-11 (month)",
        field="period",
    )


def _pad(value: str) -> str:
    year, month, day = value.split("-")
    return f"{year}-{int(month):02d}-{int(day):02d}"


BriefingKind = Literal["daily", "weekly", "monthly"]


# A sensitive-period daily briefing is read in the morning: its 24 hours end at this hour.
MORNING_HOUR = 8


def briefing_period(kind: BriefingKind, day: dt.date, *, sensitive: bool = False) -> Period:
    """The period a briefing of ``kind`` dated ``day`` covers: the day, its week, its month.

    A sensitive-period daily covers the last 24 hours before the next morning's
    meeting: ``day`` 08:00 to the following day 08:00, city time.
    """
    if kind == "daily" and sensitive:
        morning = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(MORNING_HOUR))
        return last_24h(morning.replace(tzinfo=city_zone()))
    if kind == "daily":
        return day_period(day)
    if kind == "weekly":
        iso = day.isocalendar()
        return week_period(iso.year, iso.week)
    return month_period(day.year, day.month)
