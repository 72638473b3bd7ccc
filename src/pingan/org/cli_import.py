"""``pingan import boundaries``: placeholder until the importer lands."""

from __future__ import annotations

import typer


def import_boundaries(path: str = typer.Argument(...)) -> None:
    """Load org polygons from GeoJSON or GeoPackage."""
    raise typer.Exit(2)
