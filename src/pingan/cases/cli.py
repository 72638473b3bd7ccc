"""``pingan cases ...``: list, show, categories, holidays, escalation runs."""

from __future__ import annotations

import datetime as dt

import typer
from rich.table import Table

from pingan.cases import escalation, service
from pingan.cases.categories import ensure_categories, list_categories, set_holiday
from pingan.kit.cli import cli_session, console, operator_name
from pingan.kit.db import get_engine
from pingan.org.principal import Principal

cases_app = typer.Typer(
    help="Case workflows: grid events and their SLA clocks.", no_args_is_help=True
)


def _operator() -> Principal:
    return Principal.system(f"cli:{operator_name()}")


@cases_app.command("list")
def list_cmd(
    inbox: str = typer.Option("all", help="all | overdue | due_today | flagged"),
    state: str | None = typer.Option(None),
    q: str | None = typer.Option(None, help="Search text"),
    limit: int = typer.Option(50),
) -> None:
    """List cases."""
    with cli_session() as session:
        found = service.list_cases(
            session, actor=_operator(), inbox=inbox, state=state, q=q, limit=limit
        )
        table = Table("number", "state", "title", "unit", "department", "flag")
        for c in found:
            table.add_row(
                c.number, c.state, c.title, str(c.unit_id), c.department,
                "!" if c.supervision_flag else "",
            )  # fmt: skip
        console.print(table)


@cases_app.command("show")
def show(number: str) -> None:
    """Show one case and its timeline."""
    with cli_session() as session:
        case = service.get_case_by_number(session, number, actor=_operator())
        console.print(f"[bold]{case.number}[/bold] {case.title} — {case.state}")
        for event in service.timeline(session, case.id):
            moved = f"{event.from_state} -> {event.to_state}" if event.to_state else ""
            console.print(f"  {event.at:%Y-%m-%d %H:%M} {event.actor} {event.kind} {moved}")


@cases_app.command("run-escalations")
def run_escalations() -> None:
    """Apply every due escalation once (safe to run from cron at any interval)."""
    count = escalation.run_escalations(get_engine())
    console.print(f"{count} escalations applied")


@cases_app.command("seed-categories")
def seed_categories() -> None:
    """Create the default grid-event categories that are missing."""
    with cli_session() as session:
        added = ensure_categories(session)
        console.print(f"{added} categories added; {len(list_categories(session))} active")


@cases_app.command("holiday")
def holiday(
    day: str = typer.Argument(..., help="YYYY-MM-DD"),
    name: str = typer.Option("", help="Name of the holiday"),
    workday: bool = typer.Option(False, help="A make-up working day on a weekend"),
) -> None:
    """Add a holiday (or make-up working day) to the city calendar."""
    with cli_session() as session:
        set_holiday(session, dt.date.fromisoformat(day), name, is_workday=workday)
        console.print(f"{day}: {'working day' if workday else 'holiday'}")
