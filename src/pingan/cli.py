"""The ``pingan`` command: one Typer app; each domain adds its own sub-app."""

from __future__ import annotations

import typer

from pingan.kit.logging import configure_logging
from pingan.settings import get_settings

app = typer.Typer(
    name="pingan",
    help="Pingan (平安): public-safety operations and community governance for a city.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
import_app = typer.Typer(help="Load real data: incidents, boundaries, roads.", no_args_is_help=True)


@app.callback()
def main() -> None:
    settings = get_settings()
    configure_logging(json_logs=settings.log_json, level=settings.log_level)


def _register() -> None:
    from pingan import cli_ops
    from pingan.alerts.cli import alerts_app
    from pingan.cases.cli import cases_app
    from pingan.dispatch import command_cli  # noqa: F401  (adds `dispatch command`)
    from pingan.dispatch.cli import dispatch_app
    from pingan.dispatch.cli import register_import as register_roads_import
    from pingan.incidents.analysis.cli import analyze_app
    from pingan.incidents.cli import register_import as register_incidents_import
    from pingan.incidents.taxonomy_cli import taxonomy_app
    from pingan.org.cli import audit_app, users_app
    from pingan.org.cli import register_import as register_boundaries_import
    from pingan.sim.cli import sim_app

    cli_ops.register(app)
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
    app.add_typer(sim_app, name="sim")
    app.add_typer(analyze_app, name="analyze")
    app.add_typer(taxonomy_app, name="taxonomy")
    app.add_typer(dispatch_app, name="dispatch")
    app.add_typer(cases_app, name="cases")
    app.add_typer(alerts_app, name="alerts")
    register_incidents_import(import_app)
    register_boundaries_import(import_app)
    register_roads_import(import_app)
    app.add_typer(import_app, name="import")


_register()
