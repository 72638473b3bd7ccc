"""Query parameters of OGC API - Features: bbox, datetime, limit, offset.

The standard asks for 400 on a malformed or unknown parameter, so they are
parsed here rather than by FastAPI (which answers 422).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pingan.kit.errors import PinganError

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
COMMON_PARAMS = frozenset({"f", "limit", "offset", "bbox", "bbox-crs", "datetime"})
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


class BadParameter(PinganError):
    status = 400
    slug = "bad-parameter"
    title = "Invalid query parameter"


@dataclass(frozen=True)
class Interval:
    """A closed time interval; an open end is None."""

    start: dt.datetime | None
    end: dt.datetime | None

    def contains(self, value: dt.datetime) -> bool:
        return (self.start is None or value >= self.start) and (
            self.end is None or value <= self.end
        )

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        return (self.start is None or end >= self.start) and (self.end is None or start <= self.end)


@dataclass(frozen=True)
class Query:
    limit: int | None = DEFAULT_LIMIT  # None: everything (exports)
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    interval: Interval | None = None
    extra: Mapping[str, str] | None = None

    def option(self, name: str) -> str | None:
        return None if self.extra is None else self.extra.get(name)


def parse_query(params: Mapping[str, str], *, allowed_extra: Iterable[str] = ()) -> Query:
    extra_names = frozenset(allowed_extra)
    unknown = sorted(set(params) - COMMON_PARAMS - extra_names)
    if unknown:
        raise BadParameter(f"unknown query parameter {unknown[0]!r}", field=unknown[0])
    fmt = params.get("f")
    if fmt is not None and fmt not in ("json", "geojson"):
        raise BadParameter(f"format {fmt!r} is not offered; use f=json", field="f")
    crs = params.get("bbox-crs")
    if crs is not None and crs != CRS84:
        raise BadParameter(f"bbox-crs must be {CRS84}", field="bbox-crs")
    return Query(
        limit=_limit(params.get("limit")),
        offset=_int(params.get("offset"), "offset", 0, minimum=0),
        bbox=None if params.get("bbox") is None else parse_bbox(params["bbox"]),
        interval=None if params.get("datetime") is None else parse_interval(params["datetime"]),
        extra={k: v for k, v in params.items() if k in extra_names},
    )


def _limit(raw: str | None) -> int:
    # Larger requests are clamped, as the standard allows, so clients page.
    return min(_int(raw, "limit", DEFAULT_LIMIT, minimum=1), MAX_LIMIT)


def _int(raw: str | None, name: str, default: int, *, minimum: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(f"{name} must be an integer, got {raw!r}", field=name) from None
    if value < minimum:
        raise BadParameter(f"{name} must be at least {minimum}", field=name)
    return value


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    """``minlon,minlat,maxlon,maxlat`` (or the 6-number form with heights, which are ignored)."""
    parts = raw.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise BadParameter(f"bbox must be 4 numbers, got {raw!r}", field="bbox") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise BadParameter(f"bbox must be 4 numbers, got {raw!r}", field="bbox")
    west, south, east, north = numbers
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise BadParameter("bbox is outside lon/lat ranges or south > north", field="bbox")
    if west > east:
        raise BadParameter("bbox crossing the antimeridian is not supported", field="bbox")
    return west, south, east, north


def parse_interval(raw: str) -> Interval:
    """An RFC 3339 instant, or ``start/end`` where either end may be ``..`` or empty."""
    if "/" not in raw:
        return Interval(_instant(raw), _instant(raw, end_of_day=True))
    start_raw, _, end_raw = raw.partition("/")
    start = None if start_raw in ("", "..") else _instant(start_raw)
    end = None if end_raw in ("", "..") else _instant(end_raw, end_of_day=True)
    if start is not None and end is not None and start > end:
        raise BadParameter("datetime interval ends before it starts", field="datetime")
    return Interval(start, end)


def _instant(raw: str, *, end_of_day: bool = False) -> dt.datetime:
    text = raw.strip()
    try:
        if len(text) == 10:  # a date stands for its whole day in UTC
            start = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), dt.UTC)
            return start + dt.timedelta(days=1, microseconds=-1) if end_of_day else start
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadParameter(f"datetime {raw!r} is not RFC 3339", field="datetime") from None
    if value.tzinfo is None:
        raise BadParameter("datetime needs a time zone (e.g. Z)", field="datetime")
    return value.astimezone(dt.UTC)
