"""``pingan compounds ...``: remediation projects (cases) and totals by area."""

from __future__ import annotations

import typer
from rich.table import Table

from pingan.cases.calendar import load_calendar
from pingan.cases.clocks import clocks_of
from pingan.cases.service import timeline
from pingan.cases.workflows.compound_remediation import WORKFLOW
from pingan.governance import compounds_service as service
from pingan.governance import compounds_totals
from pingan.governance.letters import last_day
from pingan.kit.cli import cli_session, console, operator_name
from pingan.org.levels import Level
from pingan.org.principal import Principal

compounds_app = typer.Typer(
    help='Compound remediation: the three "no"s, projects as cases, totals.',
    no_args_is_help=True,
)


def _operator() -> Principal:
    return Principal.system(f"cli:{operator_name()}")


@compounds_app.command("list")
def list_cmd(
    status: str | None = typer.Option(
        None, help="planned | in_progress | completed | cancelled, or a case state"
    ),
) -> None:
    """Remediation projects with their flags, case state and progress."""
    with cli_session() as session:
        table = Table("compound", "case", "state", "no PM", "no dept", "no self-gov",
                      "residents", "status", "steps", title="Compound remediation")  # fmt: skip
        for p, n in service.list_projects(session, actor=_operator(), status=status):
            r = p.record
            table.add_row(
                p.compound.code, p.case.number, p.case.state,
                "x" if r.no_property_management else "",
                "x" if r.no_responsible_department else "",
                "x" if r.no_self_governance else "", str(r.residents), p.status,
                f"{n}/{len(service.STEPS)}",
            )  # fmt: skip
        console.print(table)


@compounds_app.command("show")
def show(ref: str = typer.Argument(..., help="Case number (XQ-...) or compound code")) -> None:
    """One project: its clocks, steps and timeline."""
    with cli_session() as session:
        actor = _operator()
        if ref.upper().startswith(f"{WORKFLOW.number_prefix}-"):
            project = service.get_by_number(session, ref, actor=actor)
        else:
            project = service.get(session, ref, actor=actor)
        zone = load_calendar(session).zone
        case = project.case
        console.print(f"[bold]{case.number}[/bold] {project.compound.code} {case.state}")
        for c in clocks_of(session, case.id):
            due = last_day(c.due_at, zone) if c.due_at else ""
            console.print(f"  clock {c.name:<11} {c.status:<8} last day {due}")
        for s in service.steps(session, case):
            console.print(f"  step  {s.step:<16} {s.done_on} {s.note}")
        for e in timeline(session, case.id):
            moved = f"{e.from_state or ''} -> {e.to_state}" if e.to_state else ""
            console.print(f"  {e.at.astimezone(zone):%Y-%m-%d %H:%M} {e.kind:<10} {moved}")


@compounds_app.command("totals")
def totals(area_level: Level = typer.Option(Level.DISTRICT, help="Areas to group by")) -> None:
    """Compounds remediated and residents benefiting, by area."""
    with cli_session() as session:
        table = Table("area", "projects", "planned", "in progress", "remediated", "cancelled",
                      "residents benefiting", title="Totals by area")  # fmt: skip
        for t in compounds_totals.totals(session, actor=_operator(), area_level=area_level):
            table.add_row(t.name, str(t.compounds), str(t.planned), str(t.in_progress),
                          str(t.remediated), str(t.cancelled),
                          str(t.residents_benefiting))  # fmt: skip
        console.print(table)
