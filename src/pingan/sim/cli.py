"""``pingan sim``: placeholder until the generator lands."""

from __future__ import annotations

import typer

sim_app = typer.Typer(help="The synthetic city.", no_args_is_help=True)
