"""``pingan sim``: the synthetic city."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from pingan.kit.cli import console, err_console
from pingan.kit.errors import PinganError
from pingan.sim.scales import SCALES

if TYPE_CHECKING:
    from pingan.sim.city import CitySummary

sim_app = typer.Typer(help="The synthetic city.", no_args_is_help=True)


@sim_app.command("city")
def city(
    scale: str = typer.Option(
        "demo", help=f"City size: {', '.join(SCALES)} (full is 14,000 km² and 10M incidents)"
    ),
    seed: int = typer.Option(7, help="Seed: the same seed gives the same city"),
    lon: float = typer.Option(120.15, help="Longitude of the city centre"),
    lat: float = typer.Option(30.28, help="Latitude of the city centre"),
    start: str | None = typer.Option(
        None, help="First day of incidents (local date); default: the DAYS ending yesterday"
    ),
    days: int = typer.Option(365, help="Days of incidents"),
) -> None:
    """Generate the synthetic city into the database at PINGAN_DATABASE_URL (must hold no city)."""
    from pingan.cli_ops import upgrade_and_seed
    from pingan.kit.db import get_engine
    from pingan.sim.city import build_city, recent_start

    try:
        first_day = recent_start(days) if start is None else dt.date.fromisoformat(start)
    except ValueError:
        err_console.print(f"[red]error (start):[/red] {start!r} is not a date (YYYY-MM-DD)")
        raise typer.Exit(1) from None
    upgrade_and_seed()
    try:
        summary = build_city(
            get_engine(),
            scale=scale,
            seed=seed,
            centre=(lon, lat),
            start=first_day,
            days=days,
            progress=True,
        )
    except PinganError as exc:
        field = f" ({escape(exc.field)})" if exc.field else ""
        err_console.print(f"[red]error{field}:[/red] {escape(exc.detail)}")
        raise typer.Exit(1) from None
    table = Table(title="Synthetic city", show_header=False)
    for name, value in _summary_rows(summary):
        table.add_row(name, value)
    console.print(table)


def _summary_rows(summary: CitySummary) -> Iterator[tuple[str, str]]:
    """Rows for a printed summary."""
    yield "scale / seed", f"{summary.scale} / {summary.seed}"
    yield "CRS", summary.crs
    yield "area", f"{summary.area_km2:,.0f} km²"
    yield "population", f"{summary.population:,} ({summary.households:,} households)"
    for level, n in summary.units.items():
        yield f"{level} units", f"{n:,}"
    yield (
        "roads",
        f"{summary.road_nodes:,} nodes, {summary.road_edges:,} edges, {summary.road_km:,.0f} km",
    )
    yield "key sites", f"{summary.places:,}"
    yield "residential compounds", f"{summary.compounds:,}"
    yield (
        "planted clusters",
        f"{summary.planted_clusters} "
        + ", ".join(f"{k}: {v:,} events" for k, v in summary.planted_events.items()),
    )
    yield (
        "incidents",
        f"{summary.incidents:,} from {summary.starts_at:%Y-%m-%d} "
        f"over {summary.days} days ({summary.rejected:,} rejected)",
    )
    yield "time", f"{summary.seconds:,.1f} s"
