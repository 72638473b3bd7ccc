"""``pingan import incidents``: load incidents from CSV, GeoJSON or GeoPackage."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pingan.incidents.importers import (
    DEFAULT_BATCH_SIZE,
    ImportSummary,
    import_incidents,
    write_rejected_csv,
)
from pingan.incidents.models import Source
from pingan.kit.cli import console, err_console, operator_name
from pingan.kit.errors import PinganError
from pingan.org.principal import Principal

SHOWN_REJECTS = 20


def register_import(import_app: typer.Typer) -> None:
    import_app.command("incidents")(import_incidents_command)


def import_incidents_command(
    path: Path = typer.Argument(..., help="A .csv, .geojson/.json or .gpkg file"),
    source: Source = typer.Option(
        Source.IMPORT, "--source", help="Source for rows that do not name their own"
    ),
    layer: str | None = typer.Option(None, "--layer", help="GeoPackage layer to read"),
    batch_size: int = typer.Option(
        DEFAULT_BATCH_SIZE, "--batch-size", min=1, help="Rows per transaction"
    ),
    errors: Path | None = typer.Option(
        None, "--errors", help="Write every rejected row, with its reason, to this CSV file"
    ),
) -> None:
    """Load incidents from CSV, GeoJSON or GeoPackage.

    Columns (CSV header or feature properties): type, occurred_at, lon, lat
    (required; in GeoJSON and GeoPackage the Point geometry gives lon/lat),
    and optionally reported_at, severity, source, status, external_id,
    summary. Aliases: longitude/lng/long, latitude, incident_type. Times
    without a UTC offset are read in the city's time zone.

    Bad rows are reported by CSV line (header = line 1), GeoJSON feature
    index (from 0) or GeoPackage fid, and the rest is stored. Re-importing a
    file is safe: rows with a stored (source, external_id) count as duplicates.
    """
    actor = Principal.system(f"cli:{operator_name()}")
    try:
        with _progress_bar() as bar:
            task = bar.add_task(f"importing {path.name}", total=None)
            summary = import_incidents(
                path,
                default_source=source.value,
                layer=layer,
                batch_size=batch_size,
                actor=actor,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except PinganError as exc:
        field = f" [{exc.field}]" if exc.field else ""
        err_console.print(f"[red]error{escape(field)}:[/red] {escape(exc.detail)}")
        raise typer.Exit(1) from None
    _print_summary(summary)
    if errors is not None:
        write_rejected_csv(summary, errors)
        console.print(f"wrote {len(summary.rejected)} rejected rows to {errors}")


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


def _print_summary(summary: ImportSummary) -> None:
    counts = Table("accepted", "duplicates", "rejected", title=f"{summary.path.name}")
    counts.add_row(str(summary.accepted), str(summary.duplicates), str(len(summary.rejected)))
    console.print(counts)
    if summary.ignored_columns:
        console.print(f"ignored columns: {escape(', '.join(summary.ignored_columns))}")
    if not summary.rejected:
        return
    shown = summary.rejected[:SHOWN_REJECTS]
    table = Table(
        summary.unit,
        "field",
        "reason",
        title=f"rejected rows ({len(shown)} of {len(summary.rejected)} shown)",
    )
    for bad in shown:
        table.add_row(str(bad.number), escape(bad.field or ""), escape(bad.reason))
    console.print(table)
