"""``pingan mediation ...``: categories, ledger, statistics, show."""

from __future__ import annotations

import datetime as dt

import typer
from rich.table import Table

from pingan.cases.calendar import load_calendar
from pingan.governance import mediation_service as service
from pingan.governance.mediation_stats import ledger, mediation_stats
from pingan.kit.cli import cli_session, console, operator_name
from pingan.org.levels import Level
from pingan.org.principal import Principal

mediation_app = typer.Typer(help="Dispute mediation: ledgers and statistics.", no_args_is_help=True)


def _operator() -> Principal:
    return Principal.system(f"cli:{operator_name()}")


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def _days(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


@mediation_app.command("seed-categories")
def seed_categories() -> None:
    """Create the dispute categories that are missing."""
    with cli_session() as session:
        console.print(f"{service.ensure_categories(session)} mediation categories added")


@mediation_app.command("ledger")
def ledger_cmd(
    level: Level | None = typer.Option(None, help="Responsible level"),
    unit_id: int | None = typer.Option(None, help="Only disputes held under this org unit"),
) -> None:
    """Open disputes with the responsible person and deadline."""
    with cli_session() as session:
        table = Table(title="Open disputes")
        table.add_column("number", no_wrap=True)
        for name in ("category", "level", "unit", "channel", "risk", "handler", "deadline"):
            table.add_column(name)
        zone = load_calendar(session).zone  # shown in the city's time
        for r in ledger(session, actor=_operator(), level=level, unit_id=unit_id):
            deadline = (
                "-" if r.deadline is None else f"{r.deadline.astimezone(zone):%Y-%m-%d %H:%M}"
            )
            table.add_row(
                r.number, r.category, r.level, r.unit_name, r.channel or "-", r.risk_level,
                r.handler or "-", f"[red]{deadline}[/red]" if r.overdue else deadline,
            )  # fmt: skip
        console.print(table)


@mediation_app.command("stats")
def stats_cmd(
    start: str = typer.Option(..., help="First day, YYYY-MM-DD"),
    end: str = typer.Option(..., help="Day after the last, YYYY-MM-DD"),
    area_level: Level = typer.Option(Level.DISTRICT, help="Areas to group by"),
) -> None:
    """Mediated, success rate and days to resolution, by category and area, and the trend."""
    with cli_session() as session:
        try:
            first, stop = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        except ValueError as exc:
            raise typer.BadParameter(f"dates are YYYY-MM-DD: {exc}") from None
        s = mediation_stats(session, actor=_operator(), start=first, end=stop,
                            area_level=area_level)  # fmt: skip
        console.print(
            f"{s.start} .. {s.end}: {s.registered} registered, {s.total.concluded} concluded, "
            f"{s.total.mediated} mediated, success {_pct(s.total.success_rate)}, "
            f"median {_days(s.total.median_days)} days"
        )
        for title, groups in (("By category", s.by_category), ("By area", s.by_area)):
            table = Table("group", "mediated", "agreed", "partial", "failed", "withdrawn",
                          "success", "mean days", "median days", title=title)  # fmt: skip
            for g in groups:
                table.add_row(
                    g.name, str(g.mediated), str(g.agreed), str(g.partial), str(g.failed),
                    str(g.withdrawn), _pct(g.success_rate), _days(g.mean_days),
                    _days(g.median_days),
                )  # fmt: skip
            console.print(table)
        trend = Table("month", "registered", "concluded", "agreed", title="Trend")
        for p in s.trend:
            trend.add_row(p.month, str(p.registered), str(p.concluded), str(p.agreed))
        console.print(trend)


@mediation_app.command("show")
def show(number: str) -> None:
    """One dispute: state, channel history, outcome."""
    with cli_session() as session:
        case, dispute = service.get(session, number, actor=_operator())
        console.print(f"[bold]{case.number}[/bold] {case.title} — {case.state}")
        console.print(f"  level {dispute.level}, risk {dispute.risk_level}, scale {dispute.scale}")
        for m in service.channel_history(session, dispute):
            console.print(f"  {m.at:%Y-%m-%d} {m.from_channel or 'intake'} -> {m.to_channel}")
        if dispute.outcome:
            console.print(f"  outcome: {dispute.outcome} {dispute.terms}")
