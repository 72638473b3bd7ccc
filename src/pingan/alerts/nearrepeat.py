"""Near-repeat risk signals: after an incident, its surroundings are flagged for some days.

The Knox test runs over the lookback period. When pairs closer than
``metres`` and ``days`` apart are significantly more common than chance
(``p <= max_p`` and observed/expected > 1), each incident of the analysis day
flags its grid for the next ``days`` days. Incidents in the same grid on the
same day merge into one alert (``service.record_signal``).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

from pingan.alerts.service import Signal
from pingan.analytics.nearrepeat import knox_test

METHOD = "nearrepeat.knox"


def near_repeat_signals(
    *,
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    day_idx: npt.NDArray[np.int64],
    grid: npt.NDArray[np.int64],
    analysis_index: int,
    day: dt.date,
    metres: float,
    days: int,
    max_p: float,
    permutations: int,
    seed: int,
    incident_types: tuple[str, ...],
) -> list[Signal]:
    """One signal per grid with an incident on the analysis day, if near repeats are significant."""
    today = day_idx == analysis_index
    if not today.any() or x.size < 3:
        return []
    knox = knox_test(
        x, y, day_idx.astype(np.float64),
        spatial_edges=[0.0, metres], temporal_edges=[0.0, days + 1.0],
        permutations=permutations, seed=seed,
    )  # fmt: skip
    ratio = float(knox.ratio[0, 0])
    p_value = float(knox.p_value[0, 0])
    if not (p_value <= max_p and ratio > 1.0):
        return []
    out = []
    for gid in np.unique(grid[today]):
        out.append(
            Signal(
                method=METHOD,
                org_unit_id=int(gid),
                grid_ids=(int(gid),),
                window_start=day,
                window_end=day + dt.timedelta(days=days),
                statistic=ratio,
                observed=int(knox.observed[0, 0]),
                expected=float(knox.expected[0, 0]),
                p_value=p_value,
                incident_types=incident_types,
                extra={
                    "band_metres": metres,
                    "band_days": days,
                    "incidents_today": int(np.sum(grid[today] == gid)),
                },
            )
        )
    return out
