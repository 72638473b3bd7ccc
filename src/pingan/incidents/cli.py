"""``pingan import incidents``: placeholder until the importer lands."""

from __future__ import annotations

import typer


def register_import(import_app: typer.Typer) -> None:
    @import_app.command("incidents")
    def import_incidents(path: str = typer.Argument(...)) -> None:
        """Load incidents from CSV, GeoJSON or GeoPackage."""
        raise typer.Exit(2)
