"""``pingan outreach ...``: import the register from CSV, counts by area and date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.table import Table

from pingan.governance import outreach_service as service
from pingan.kit.cli import cli_session, console, err_console, operator_name
from pingan.org.levels import Level
from pingan.org.principal import Principal

outreach_app = typer.Typer(help="Legal outreach: register and counts.", no_args_is_help=True)


def _operator() -> Principal:
    return Principal.system(f"cli:{operator_name()}")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from None


@outreach_app.command("import")
def import_cmd(path: Path = typer.Argument(..., exists=True, dir_okay=False)) -> None:
    """Import activities from CSV: kind,title,held_on,unit,attendance[,hours,organiser,note]."""
    with cli_session() as session:
        report = service.import_csv(session, text=path.read_text("utf-8-sig"), actor=_operator())
        for line, reason in report.rejected:
            err_console.print(f"{path}:{line}: {reason}")
        console.print(f"{report.added} activities added, {len(report.rejected)} rejected")
    if report.rejected:
        raise typer.Exit(1)


@outreach_app.command("counts")
def counts(
    start: str = typer.Option(..., help="First day, YYYY-MM-DD"),
    end: str = typer.Option(..., help="Day after the last, YYYY-MM-DD"),
    area_level: Level = typer.Option(Level.DISTRICT),
    by: str = typer.Option("month", help="day | month | all"),
) -> None:
    """Activities, attendance and lawyers' hours by area, period and kind."""
    if by not in ("day", "month", "all"):
        raise typer.BadParameter("by is day, month or all")
    with cli_session() as session:
        rows = service.counts(
            session, actor=_operator(), start=_date(start), end=_date(end),
            area_level=area_level, by=by,  # type: ignore[arg-type]
        )  # fmt: skip
        table = Table("area", "period", "kind", "activities", "attendance", "hours")
        for r in rows:
            table.add_row(r.area, r.period, r.kind, str(r.activities), str(r.attendance),
                          f"{r.hours:g}")  # fmt: skip
        console.print(table)
