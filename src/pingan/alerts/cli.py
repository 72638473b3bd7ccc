"""``pingan alerts run|list``: the daily early-warning run and the alert list."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.table import Table

from pingan.alerts import service
from pingan.alerts.detect import DailyParams, run_daily
from pingan.alerts.federation_cli import federation_app
from pingan.alerts.runs import params_from
from pingan.alerts.webhooks_cli import webhooks_app
from pingan.kit.cli import cli_session, console, err_console, operator_name
from pingan.org.principal import Principal
from pingan.settings import get_settings

DEFAULT_WORKERS = DailyParams.workers  # every core (the result is the same for any number)

alerts_app = typer.Typer(help="Early-warning alerts: daily runs and the alert list.")
alerts_app.add_typer(webhooks_app, name="webhooks")  # issue 4
alerts_app.add_typer(federation_app, name="federation")  # issue 4


@alerts_app.command("run")
def run(
    day: Annotated[
        str | None, typer.Option(help="Analysis day, YYYY-MM-DD (default yesterday)")
    ] = None,
    incident_type: Annotated[
        list[str] | None, typer.Option("--type", help="Incident type code (repeatable)")
    ] = None,
    replications: Annotated[int, typer.Option(help="Monte Carlo replications")] = 999,
    seed: Annotated[int, typer.Option(help="Random seed")] = 0,
    lookback_days: Annotated[int, typer.Option(help="Days of history")] = 60,
    max_window_days: Annotated[int, typer.Option(help="Longest cluster window")] = 7,
    workers: Annotated[int, typer.Option(help="Threads for the replications")] = DEFAULT_WORKERS,
    methods: Annotated[
        str, typer.Option(help="Comma-separated: scan, ears_c1, ears_c2, ears_c3, cusum, glm")
    ] = "scan,ears_c3",
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler for the scan's replications, tcp://host:port "
            "(default: PINGAN_DASK_SCHEDULER; unset: local threads)"
        ),
    ] = None,
    end_hour: Annotated[
        int, typer.Option(help="Days are the 24 h spans ending at this hour of --day (1..24)")
    ] = 24,
) -> None:
    """Run the scan and EARS C3 for one day and create or merge alerts."""
    params = params_from(
        {
            "day": day,
            "incident_types": incident_type or [],
            "replications": replications,
            "seed": seed,
            "lookback_days": lookback_days,
            "max_window_days": max_window_days,
            "workers": workers,
            "methods": methods,
            "end_hour": end_hour,
        }
    )
    address = (scheduler if scheduler is not None else get_settings().dask_scheduler).strip()
    try:
        with cli_session() as session:
            result = run_daily(
                session, params, actor=Principal.system(operator_name()), scheduler=address or None
            )
    except (RuntimeError, ValueError) as exc:
        if not address:
            raise
        # A bad or unreachable scheduler: say so instead of a traceback (nothing was stored).
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(
        f"{result['day']}: {result['incidents']} incidents, "
        f"{result['created']} new alerts, {result['merged']} merged"
    )


@alerts_app.command("list")
def list_(
    status: Annotated[
        str | None, typer.Option(help="new, acknowledged, resolved, dismissed")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Windows ending on or after, YYYY-MM-DD")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many")] = 50,
) -> None:
    """Alerts, newest window first."""
    since_day = dt.date.fromisoformat(since) if since else None
    with cli_session() as session:
        found = service.list_alerts(
            session, actor=Principal.system(operator_name()), status=status, since=since_day,
            limit=limit,
        )  # fmt: skip
        table = Table("id", "status", "method", "org unit", "window", "obs", "exp", "p", "signals")
        for a in found:
            table.add_row(
                str(a.id), a.status, a.method, str(a.org_unit_id),
                f"{a.window_start}..{a.window_end}", str(a.observed), f"{a.expected:.2f}",
                "" if a.p_value is None else f"{a.p_value:.3g}", str(a.signal_count),
            )  # fmt: skip
    console.print(table)


@alerts_app.command("watch")
def watch_command() -> None:
    """Check the incidents stored since the last check against the key-site watch rules."""
    from pingan.alerts.watch import run_watch
    from pingan.kit.db import get_engine

    report = run_watch(get_engine())
    console.print(
        f"{report.incidents} new incidents, {report.signals} signals, "
        f"{report.alerts_opened} new alerts"
    )


@alerts_app.command("watch-rules")
def watch_rules_command() -> None:
    """The key-site watch rules."""
    from rich.markup import escape

    from pingan.alerts.watch import list_rules

    with cli_session() as session:
        rules = list_rules(session, actor=Principal.system("cli"))
        table = Table("id", "name", "kind", "types", "sites", "radius m", "active")
        for r in rules:
            sites = f"site {r.place_id}" if r.place_id else f"level <= {r.max_level}"
            types = ",".join(r.incident_types) or "all"
            active = "yes" if r.active else "no"
            radius = f"{r.radius_m:.0f}"
            table.add_row(str(r.id), escape(r.name), r.kind, types, sites, radius, active)
        console.print(table)
