"""``pingan petitions ...``: the open-matter ledger, one matter, statistics, the calendar."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import typer
from rich.progress import Progress
from rich.table import Table

from pingan.cases.calendar import load_calendar
from pingan.cases.clocks import clocks_of
from pingan.governance import letters, petitions, petitions_import, petitions_stats
from pingan.governance.petitions_calendar import load_mainland_holidays
from pingan.governance.petitions_steps import close_lapsed
from pingan.kit.cli import cli_session, console, err_console, operator_name
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


@petitions_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A .csv or .jsonl file"),
    fmt: str | None = typer.Option(None, "--format", help="csv | jsonl (default: by name)"),
    codes: Path | None = typer.Option(
        None, help="Write each new matter's query code here (CSV), for the letters"
    ),
    batch: int = typer.Option(200, min=1, help="Rows per transaction"),
) -> None:
    """Register petitions from a file; bad rows are listed by line, the rest are kept.

    Rows are keyed by (channel, external_ref): running the same file again adds
    nothing. Exits 1 if any row failed.
    """
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        err_console.print(f"[red]error:[/red] {file} is not UTF-8 text ({exc.reason})")
        raise typer.Exit(1) from None
    with cli_session():  # a file-level error (format, unknown columns) ends here, cleanly
        kind = petitions_import.detect_format(file.name, fmt)
        records = list(petitions_import.read_records(text, kind))
    actor = _operator()
    report = petitions_import.ImportReport()
    with Progress(console=console) as progress:
        task = progress.add_task("petitions", total=len(records))
        # One transaction per batch: a long file keeps what it has done if interrupted.
        for start in range(0, len(records), batch):
            with cli_session() as session:
                done = petitions_import.import_records(
                    session, records[start : start + batch], actor=actor,
                    progress=lambda _row: progress.advance(task),
                )  # fmt: skip
            report.rows += done.rows
    console.print(
        f"{report.imported} imported, {report.existing} already imported, {report.failed} failed"
    )
    same = [r for r in report.rows if r.same_matter]
    for r in same:
        console.print(f"  line {r.line}: {r.number} may be the same matter as "
                      f"{', '.join(r.same_matter)}")  # fmt: skip
    if report.failed:
        table = Table("line", "external_ref", "field", "error", title="Rows not imported")
        for r in report.rows:
            if r.status == petitions_import.FAILED:
                table.add_row(str(r.line), r.external_ref or "", r.field or "", r.error or "")
        err_console.print(table)
    if codes is not None:
        with codes.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["number", "external_ref", "query_code"])
            for r in report.rows:
                if r.status == petitions_import.IMPORTED:
                    writer.writerow([r.number, r.external_ref, r.query_code])
    if report.failed:
        raise typer.Exit(1)
