"""``pingan import boundaries``: load one level of org polygons from GeoJSON or GeoPackage."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from pingan.kit.cli import cli_session, console, err_console, operator_name
from pingan.org.boundaries import BoundaryImportFailed
from pingan.org.boundaries import import_boundaries as load_boundaries
from pingan.org.levels import Level
from pingan.org.principal import Principal


def import_boundaries(
    path: Path = typer.Argument(..., help="A .geojson/.json or .gpkg file of polygons"),
    level: Level = typer.Option(..., "--level", help="The level every feature in the file is"),
    code_field: str = typer.Option("code", "--code-field", help="Property holding the unit code"),
    name_field: str = typer.Option(
        "name", "--name-field", help="Property holding the name (name_zh/name_en win if present)"
    ),
    parent_field: str = typer.Option(
        "parent_code", "--parent-field", help="Property holding the parent unit's code"
    ),
    layer: str | None = typer.Option(None, "--layer", help="GeoPackage layer to read"),
    repair: bool = typer.Option(
        True, "--repair/--no-repair", help="Repair invalid polygons with make_valid, or reject them"
    ),
) -> None:
    """Load org polygons from GeoJSON or GeoPackage into the org tree.

    Properties: code (required), name or name_zh/name_en, parent_code,
    population, households. Without a parent code a unit goes under the
    parent-level unit containing it. If no unit of the parent level exists
    at all, placeholder units (CITY, DISTRICT-IMPORTED, ...) covering the
    imported area are created; import upper levels first to avoid them.
    All or nothing: any bad feature is reported by number (GeoJSON feature
    index from 0, GeoPackage fid) and nothing is written.
    """
    actor = Principal.system(f"cli:{operator_name()}")
    with cli_session() as session:
        try:
            result = load_boundaries(
                session,
                path,
                level=level,
                actor=actor,
                layer=layer,
                code_field=code_field,
                name_field=name_field,
                parent_field=parent_field,
                repair=repair,
            )
        except BoundaryImportFailed as exc:
            table = Table(exc.unit, "reason", title="rejected features")
            for problem in exc.problems:
                table.add_row(str(problem.number), escape(problem.reason))
            err_console.print(table)
            raise
    for note in result.repaired:
        console.print(f"[yellow]{result.unit} {note.number}:[/yellow] {escape(note.reason)}")
    if result.placeholders:
        console.print(
            f"created placeholder units {', '.join(result.placeholders)} "
            "(no units of the upper levels existed)"
        )
    console.print(f"imported {len(result.created)} {level.value} units from {path.name}")
