"""Incident rows for the intake tests."""

from __future__ import annotations

from tests.citykit import grid_centre


def incident_row(grid: str, ext: str | None, **over: object) -> dict[str, object]:
    """A bicycle theft reported by call at ``grid``'s centre; ``over`` replaces fields."""
    lon, lat = grid_centre(grid)
    row: dict[str, object] = {
        "type": "theft.bicycle",
        "occurred_at": "2026-03-01T08:30:00+08:00",
        "lon": lon,
        "lat": lat,
        "source": "call",
        "external_id": ext,
    }
    row.update(over)
    return row
