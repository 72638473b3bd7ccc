"""``pingan import roads``: placeholder until the importer lands."""

from __future__ import annotations

import typer


def register_import(import_app: typer.Typer) -> None:
    @import_app.command("roads")
    def import_roads(path: str = typer.Argument(...)) -> None:
        """Load a road network from an OpenStreetMap .osm.pbf file."""
        raise typer.Exit(2)
