"""``pingan petitions ...``: the open-matter ledger, one matter, statistics, the calendar."""

from __future__ import annotations

import datetime as dt

import typer
from rich.progress import Progress
from rich.table import Table

from pingan.cases.calendar import load_calendar
from pingan.cases.clocks import clocks_of
from pingan.governance import letters, petitions, petitions_stats
from pingan.governance.petitions_calendar import load_mainland_holidays
from pingan.governance.petitions_steps import close_lapsed
from pingan.kit.cli import cli_session, console, operator_name
from pingan.kit.db import utcnow
from pingan.org.principal import Principal

petitions_app = typer.Typer(
    help="Complaints and petitions (letters and visits) with statutory clocks.",
    no_args_is_help=True,
)


def _operator() -> Principal:
    return Principal.system(f"cli:{operator_name()}")


@petitions_app.command("seed-categories")
def seed_categories() -> None:
    """Create the default petition categories that are missing."""
    with cli_session() as session:
        console.print(f"{petitions.ensure_petition_categories(session)} categories added")


@petitions_app.command("load-holidays")
def load_holidays(years: list[int] = typer.Argument(..., help="e.g. 2025 2026")) -> None:
    """Fill the city calendar with the mainland's official holidays and make-up days."""
    with cli_session() as session, Progress(console=console) as progress:
        task = progress.add_task("holidays", total=len(years))
        for year in years:
            off, makeup = load_mainland_holidays(session, year)
            progress.advance(task)
            console.print(f"{year}: {off} holidays, {makeup} make-up working days")


@petitions_app.command("ledger")
def ledger(
    overdue: bool = typer.Option(False, help="Only matters past a statutory deadline"),
    limit: int = typer.Option(200),
) -> None:
    """Open matters with their unit, leader and the next statutory deadline."""
    with cli_session() as session:
        zone = load_calendar(session).zone
        now = utcnow()
        found = petitions.list_petitions(
            session, actor=_operator(), is_open=True, overdue=overdue, limit=limit
        )
        table = Table()
        table.add_column("number", no_wrap=True)
        for heading in ("state", "channel", "unit", "leader", "next deadline", "clock"):
            table.add_column(heading)
        for case, petition in found:
            running = [c for c in clocks_of(session, case.id) if c.status == "running" and c.due_at]
            nxt = min(running, key=lambda c: c.due_at or now, default=None)
            due = (
                "" if nxt is None or nxt.due_at is None else str(letters.last_day(nxt.due_at, zone))
            )
            late = nxt is not None and nxt.due_at is not None and nxt.due_at <= now
            table.add_row(
                case.number, case.state, petition.channel, str(case.unit_id),
                str(petition.leader_user_id or ""), f"[red]{due}[/red]" if late else due,
                nxt.name if nxt else "",
            )  # fmt: skip
        console.print(table)


@petitions_app.command("show")
def show(number: str) -> None:
    """One matter: its clocks and the letters sent (the access is audited)."""
    with cli_session() as session:
        case, petition = petitions.get_petition(session, number, actor=_operator())
        zone = load_calendar(session).zone
        console.print(f"[bold]{case.number}[/bold] {case.state} ({petition.channel})")
        console.print(petition.matter)
        for c in clocks_of(session, case.id):
            last = letters.last_day(c.due_at, zone) if c.due_at else ""
            console.print(f"  clock {c.name:<16} {c.status:<8} last day {last}")
        for x in letters.letters_of(session, case.id):
            console.print(
                f"  letter {x.kind:<13} {x.issued_at.astimezone(zone):%Y-%m-%d} {x.dates}"
            )


@petitions_app.command("stats")
def stats(
    since: str | None = typer.Option(None, help="YYYY-MM-DD (received on or after)"),
) -> None:
    """Counts by channel and category; on-time rate within statutory deadlines by unit."""
    start = dt.datetime.fromisoformat(since).replace(tzinfo=dt.UTC) if since else None
    with cli_session() as session:
        result = petitions_stats.statistics(session, actor=_operator(), since=start)
        console.print(f"total {result['total']}, mean rating {result['mean_rating']}")
        for key in ("by_channel", "by_category", "by_state"):
            console.print(f"{key}: {result[key]}")
        table = Table("unit", "decided", "on time", "late", "overdue open", "on-time rate")
        for row in result["on_time_by_unit"]:
            rate = row["on_time_rate"]
            table.add_row(
                f"{row['unit_id']} {row['unit']}", str(row["decided"]), str(row["on_time"]),
                str(row["late"]), str(row["overdue_open"]),
                "" if rate is None else f"{rate:.1%}",
            )  # fmt: skip
        console.print(table)


@petitions_app.command("close-lapsed")
def close_lapsed_cmd() -> None:
    """Close replied matters whose review (or re-review) window has lapsed unused."""
    with cli_session() as session:
        closed = close_lapsed(session)
        console.print(f"{len(closed)} matters closed")
