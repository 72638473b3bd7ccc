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
    from pingan.alerts.evaluation_cli import eval_app  # issue 4
    from pingan.cameras import health_cli  # noqa: F401  (adds `cameras health`)
    from pingan.cameras.cli import cameras_app
    from pingan.cases.cli import cases_app
    from pingan.dispatch import command_cli  # noqa: F401  (adds `dispatch command`)
    from pingan.dispatch.cli import dispatch_app
    from pingan.dispatch.cli import register_import as register_roads_import
    from pingan.governance.assessments_cli import assessments_app
    from pingan.governance.compounds_cli import compounds_app
    from pingan.governance.mediation_cli import mediation_app
    from pingan.governance.outreach_cli import outreach_app
    from pingan.governance.petitions_cli import petitions_app
    from pingan.governance.tips_cli import tips_app
    from pingan.incidents.analysis.cli import analyze_app
    from pingan.incidents.cli import register_import as register_incidents_import
    from pingan.incidents.taxonomy_cli import taxonomy_app
    from pingan.org import workforce_cli  # noqa: F401  (adds `users workforce`)
    from pingan.org.cli import audit_app, users_app
    from pingan.org.cli import register_import as register_boundaries_import
    from pingan.reports.cli import kpi_command, report_app
    from pingan.sim.cli import sim_app

    cli_ops.register(app)
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
    app.add_typer(sim_app, name="sim")
    app.add_typer(analyze_app, name="analyze")
    app.add_typer(taxonomy_app, name="taxonomy")
    app.add_typer(dispatch_app, name="dispatch")
    app.add_typer(cases_app, name="cases")
    app.add_typer(mediation_app, name="mediation")  # issue 8
    app.add_typer(assessments_app, name="assessments")
    app.add_typer(compounds_app, name="compounds")
    app.add_typer(outreach_app, name="outreach")
    app.add_typer(petitions_app, name="petitions")  # issue 8: petitions, tips
    app.add_typer(tips_app, name="tips")
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(eval_app, name="eval")  # issue 4: evaluation harness
    app.add_typer(cameras_app, name="cameras")
    app.add_typer(report_app, name="report")  # issue 9: briefings, safety index, campaigns
    app.command("kpi")(kpi_command)
    register_incidents_import(import_app)
    register_boundaries_import(import_app)
    register_roads_import(import_app)
    app.add_typer(import_app, name="import")


_register()
