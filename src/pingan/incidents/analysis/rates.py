"""Rates per org unit: counts this period and the one before, per 10,000 residents.

The previous period has the same length and ends where the current one
starts. The change is tested with the exact conditional test for two Poisson
counts (``analytics.rates.compare_periods``); with ``fdr`` the units' p-values
are read as one family (Benjamini-Hochberg). Only units wholly within the
caller's scope are listed, so a unit's count is never a partial one.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from pingan.analytics.rates import compare_periods, rate_per
from pingan.analytics.significance import bh_adjusted
from pingan.incidents.analysis.geojson import clean
from pingan.incidents.analysis.locations import units_at
from pingan.incidents.analysis.params import RatesParams
from pingan.incidents.analysis.progress import Progress, silent
from pingan.incidents.analysis.selection import Selection, resolve, utc_window
from pingan.incidents.analysis.windows import end_of_today, iso
from pingan.incidents.cube import load_cube
from pingan.org.levels import Level
from pingan.org.models import OrgUnit
from pingan.org.principal import Principal
from pingan.org.service import grid_locator

PER = 10_000.0
IntArray = npt.NDArray[np.int64]
COLUMNS = (
    "unit_id", "code", "name_en", "name_zh", "level", "population",
    "current", "previous", "change", "percent_change",
    "rate_current", "rate_previous", "rate_ratio", "p_value", "q_value", "significant", "trend",
)  # fmt: skip


@dataclass(frozen=True)
class Periods:
    previous_since: dt.datetime
    since: dt.datetime
    until: dt.datetime


def periods(params: RatesParams) -> Periods:
    since, until = utc_window(params)
    length = dt.timedelta(days=params.period_days)
    if since is not None and until is not None:
        length = until - since
    elif since is not None:
        until = since + length
    else:
        until = until or end_of_today()
        since = until - length
    return Periods(since - length, since, until)


@dataclass(frozen=True)
class Prepared:
    periods: Periods
    selection: Selection
    units: list[OrgUnit]


def prepare(session: Session, params: RatesParams, *, actor: Principal) -> Prepared:
    window = periods(params)
    selection = resolve(
        session, params, actor=actor, since=window.previous_since, until=window.until
    )
    level = Level(params.level)
    units = units_at(session, level, actor=actor, paths=selection.unit_paths)
    return Prepared(window, selection, sorted(units, key=lambda u: u.code))


def rates(
    session: Session, params: RatesParams, *, actor: Principal, progress: Progress = silent
) -> dict[str, Any]:
    """Counts, rates and change per unit of the chosen level, as JSON-ready rows."""
    prepared = prepare(session, params, actor=actor)
    window, units = prepared.periods, prepared.units
    progress(0.2, "loading incidents")
    cube = load_cube(session, prepared.selection.cube_filter, actor=actor)
    progress(0.6, f"counting {len(cube):,} incidents in {len(units):,} units")
    position = _unit_positions(session, Level(params.level), [u.id for u in units])
    grid = cube.grid_id.astype(np.int64)
    known = grid < len(position)
    where = np.full(len(cube), -1, dtype=np.int64)
    where[known] = position[grid[known]]
    current_mask = cube.t >= window.since.timestamp()
    current = _count(where[current_mask], len(units))
    previous = _count(where[~current_mask], len(units))
    population = _populations(session, units, actor=actor)
    change = compare_periods(current, previous, alpha=params.alpha)
    q = bh_adjusted(change.p_value)
    significant = q <= params.alpha if params.fdr else change.significant
    rate_now = rate_per(current, population, per=PER)
    rate_before = rate_per(previous, population, per=PER)
    rows = []
    for i, unit in enumerate(units):
        trend = "none"
        if significant[i]:
            trend = "up" if current[i] > previous[i] else "down"
        rows.append(
            {
                "unit_id": unit.id,
                "code": unit.code,
                "name_en": unit.name_en,
                "name_zh": unit.name_zh,
                "level": unit.level,
                "population": clean(population[i]),
                "current": int(current[i]),
                "previous": int(previous[i]),
                "change": int(change.difference[i]),
                "percent_change": clean(change.percent_change[i], 4),
                "rate_current": clean(rate_now[i], 6),
                "rate_previous": clean(rate_before[i], 6),
                "rate_ratio": clean(change.ratio[i], 6),
                "p_value": clean(change.p_value[i], 6),
                "q_value": clean(q[i], 6),
                "significant": bool(significant[i]),
                "trend": trend,
            }
        )
    progress(1.0, "done")
    return {
        "level": params.level,
        "per": PER,
        "current": {"since": iso(window.since), "until": iso(window.until)},
        "previous": {"since": iso(window.previous_since), "until": iso(window.since)},
        "totals": {"current": int(current.sum()), "previous": int(previous.sum())},
        "rows": rows,
        "selection": prepared.selection.described,
    }


def _count(where: IntArray, n: int) -> IntArray:
    out: IntArray = np.bincount(where[where >= 0], minlength=n).astype(np.int64)
    return out


def _unit_positions(session: Session, level: Level, unit_ids: list[int]) -> IntArray:
    """Lookup from grid id to the position of its unit at ``level`` (-1 if not listed)."""
    locator = grid_locator(session)
    size = max([*locator.ancestors, *unit_ids, 0]) + 1
    index = {uid: i for i, uid in enumerate(unit_ids)}
    lookup = np.full(size, -1, dtype=np.int64)
    # ancestors: grid id -> (community, subdistrict, district, city)
    slot = {Level.COMMUNITY: 0, Level.SUBDISTRICT: 1, Level.DISTRICT: 2, Level.CITY: 3}
    for grid_id, chain in locator.ancestors.items():
        owner = grid_id if level == Level.GRID else chain[slot[level]]
        lookup[grid_id] = index.get(owner, -1)
    return lookup


def _populations(session: Session, units: list[OrgUnit], *, actor: Principal) -> npt.NDArray[Any]:
    """Each unit's population; where it is not recorded, the sum over its grids."""
    values = np.array([np.nan if u.population is None else u.population for u in units], float)
    missing = [i for i, u in enumerate(units) if u.population is None and u.level != Level.GRID]
    if missing:
        paths = tuple(units[i].path for i in missing)
        grids = units_at(session, Level.GRID, actor=actor, paths=paths)
        for i in missing:
            known = [g.population for g in grids if g.path.startswith(units[i].path)]
            if any(p is not None for p in known):
                values[i] = float(sum(p for p in known if p is not None))
    return values


def rows_csv(result: dict[str, Any]) -> str:
    """The rows as CSV with a header line (UTF-8 text; names in Chinese stay as they are)."""
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=list(COLUMNS), extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    for row in result["rows"]:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in COLUMNS})
    return out.getvalue()
