"""``pingan import roads``: load a road network from an OpenStreetMap .osm.pbf file."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from pingan.dispatch.roads import import_roads
from pingan.kit.cli import cli_session, console, err_console, operator_name
from pingan.org.principal import Principal


def register_import(import_app: typer.Typer) -> None:
    import_app.command("roads")(import_roads_command)


def import_roads_command(
    path: Path = typer.Argument(..., help="An OpenStreetMap extract (.osm.pbf)"),
    replace: bool = typer.Option(
        False, "--replace", help="Delete roads loaded earlier from a file of the same name first"
    ),
) -> None:
    """Load the drivable road network from an OpenStreetMap .osm.pbf file.

    Needs pyrosm (pip install 'pingan[osm]'). Roads are tagged with the
    source osm:<file name>; loading the same file again needs --replace.
    Speeds come from maxspeed where it is a number, else the road class's
    default; lengths are geodesic. One transaction: all or nothing.
    """
    actor = Principal.system(f"cli:{operator_name()}")
    with (
        cli_session() as session,
        err_console.status(f"reading {escape(path.name)}") as status,
    ):
        result = import_roads(
            session,
            path,
            actor=actor,
            replace=replace,
            on_stage=lambda stage: status.update(escape(stage)),
        )
    console.print(f"loaded {escape(result.source)} (metric CRS {result.crs})")
    table = Table("nodes", "edges", "replaced edges", "dropped edges")
    table.add_row(
        str(result.nodes), str(result.edges), str(result.replaced_edges), str(result.dropped_edges)
    )
    console.print(table)
