"""``pingan compounds ...``: remediation projects and totals by area."""

from __future__ import annotations

import typer
from rich.table import Table

from pingan.governance import compounds_service as service
from pingan.kit.cli import cli_session, console, operator_name
from pingan.org.levels import Level
from pingan.org.principal import Principal

compounds_app = typer.Typer(
    help='Compound remediation: the three "no"s, steps, totals.', no_args_is_help=True
)


def _operator() -> Principal:
    return Principal.system(f"cli:{operator_name()}")


@compounds_app.command("list")
def list_cmd(
    status: str | None = typer.Option(None, help="planned | in_progress | completed"),
) -> None:
    """Remediation projects with their flags and progress."""
    with cli_session() as session:
        table = Table("compound", "no PM", "no dept", "no self-gov", "residents", "status",
                      "steps", title="Compound remediation")  # fmt: skip
        for c, r, n in service.list_remediations(session, actor=_operator(), status=status):
            table.add_row(
                c.code, "x" if r.no_property_management else "", "x" if r.no_responsible_department
                else "", "x" if r.no_self_governance else "", str(r.residents), r.status,
                f"{n}/{len(service.STEPS)}",
            )  # fmt: skip
        console.print(table)


@compounds_app.command("totals")
def totals(area_level: Level = typer.Option(Level.DISTRICT, help="Areas to group by")) -> None:
    """Compounds remediated and residents benefiting, by area."""
    with cli_session() as session:
        table = Table("area", "projects", "planned", "in progress", "remediated",
                      "residents benefiting", title="Totals by area")  # fmt: skip
        for t in service.totals(session, actor=_operator(), area_level=area_level):
            table.add_row(t.name, str(t.compounds), str(t.planned), str(t.in_progress),
                          str(t.remediated), str(t.residents_benefiting))  # fmt: skip
        console.print(table)
