"""``pingan dispatch command ...`` and ``pingan dispatch patrols``: command mode at the CLI."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from pingan.dispatch.cli import dispatch_app
from pingan.dispatch.command_models import CommandKind, LogKind
from pingan.kit.cli import cli_session, console, err_console, operator_name
from pingan.kit.errors import ValidationFailed
from pingan.org.principal import Principal

command_app = typer.Typer(
    help="Command mode for major events and emergencies.", no_args_is_help=True
)
dispatch_app.add_typer(command_app, name="command")


def _actor() -> Principal:
    return Principal.system(f"cli:{operator_name()}")


@command_app.command("activate")
def activate_command(
    name: str = typer.Argument(..., help="What the command is for"),
    unit: str = typer.Option(..., help="Code of the city or district unit in command"),
    kind: CommandKind = typer.Option(CommandKind.EVENT, help="event or emergency"),
    tiers: str = typer.Option("1,2", help="Tiers called up, e.g. 1,2,3"),
    posts: int = typer.Option(0, min=0, max=200, help="Standby posts to pre-position"),
    site_kind: str | None = typer.Option(None, help="Key sites of the event (kind)"),
) -> None:
    """Activate a command; prints its id."""
    from pingan.dispatch import commands

    try:
        tier_list = [int(t) for t in tiers.split(",") if t.strip()]
    except ValueError:
        raise typer.BadParameter(
            "tiers are numbers separated by commas", param_hint="--tiers"
        ) from None
    with cli_session() as session:
        command = commands.activate(
            session, actor=_actor(), name=name, kind=kind, unit_code=unit, tiers=tier_list,
            posts=posts, site_kind=site_kind,
        )  # fmt: skip
        console.print(f"command {command.id} active for {unit}: tiers {command.tiers}")


@command_app.command("log")
def log_command(
    command_id: int = typer.Argument(...),
    text: str | None = typer.Argument(None, help="Add this entry; without it, show the log"),
    kind: LogKind = typer.Option(LogKind.NOTE, help="decision, order, report or note"),
) -> None:
    """Show the shared command log, or add an entry to it."""
    from pingan.dispatch import commands

    with cli_session() as session:
        if text is not None:
            entry = commands.add_log(
                session, command_id=command_id, actor=_actor(), kind=kind, text=text
            )
            console.print(f"entry {entry.id} logged")
            return
        entries = commands.log_entries(session, command_id=command_id, actor=_actor())
        table = Table("at (UTC)", "kind", "who", "entry")
        for e in entries:
            table.add_row(f"{e.at:%Y-%m-%d %H:%M:%S}", e.kind, escape(e.actor), escape(e.text))
        console.print(table)


@command_app.command("board")
def board_command(command_id: int = typer.Argument(...)) -> None:
    """The situation board of a command."""
    from pingan.dispatch import commands

    with cli_session() as session:
        board = commands.board(session, command_id=command_id, actor=_actor())
        command = board["command"]
        console.print(
            f"[bold]{escape(command.name)}[/] ({command.kind}, {command.status}), "
            f"{board['elapsed_s'] / 60:.0f} min since activation"
        )
        console.print(f"incidents: {board['incidents_by_status'] or 'none'}")
        console.print(f"assignments: {board['assignments_by_status'] or 'none'}")
        console.print(f"available by tier: {board['available_by_tier'] or 'none'}")
        for e in board["latest_log"][:10]:
            console.print(f"  {e.at:%H:%M:%S} {e.kind:<8} {escape(e.text)}")


@command_app.command("deactivate")
def deactivate_command(
    command_id: int = typer.Argument(...),
    note: str = typer.Option("", help="The closing decision, for the log"),
) -> None:
    """Close a command and print its after-action summary."""
    from pingan.dispatch import commands

    with cli_session() as session:
        command = commands.deactivate(session, command_id=command_id, actor=_actor(), note=note)
        table = Table("measure", "value")
        for key, value in (command.summary or {}).items():
            table.add_row(key, escape(str(value)))
        console.print(table)


@dispatch_app.command("patrols")
def patrols_command(
    responders: str = typer.Option(..., help="Responder ids, e.g. 12,15"),
    unit: str | None = typer.Option(None, help="Org unit code of the area"),
    place_id: int | None = typer.Option(None, help="Key area id instead of an org unit"),
    shift_hours: float = typer.Option(4.0, min=0.2, max=24.0),
    dwell_min: float = typer.Option(10.0, min=0.0, max=60.0, help="Minutes at each hotspot"),
    days: int = typer.Option(28, min=1, max=365, help="Hotspots of the last so many days"),
) -> None:
    """Patrol routes that cover the area's hotspots within a shift."""
    from pingan.dispatch.patrols import plan_patrols
    from pingan.org.service import get_unit_by_code

    try:
        ids = [int(r) for r in responders.split(",") if r.strip()]
    except ValueError:
        raise typer.BadParameter("ids separated by commas", param_hint="--responders") from None
    with cli_session() as session:
        unit_id = get_unit_by_code(session, unit).id if unit else None
        plan = plan_patrols(
            session, actor=_actor(), responder_ids=ids, org_unit_id=unit_id, place_id=place_id,
            days=days, shift_s=shift_hours * 3600, dwell_s=dwell_min * 60,
        )  # fmt: skip
    console.print(
        f"{plan.covered} of {plan.hotspots} hot cells covered "
        f"({100 * plan.prize_share:.0f} % of their z-score)"
    )
    table = Table("responder", "stops", "tour min", "first stops (lon, lat)")
    for r in plan.routes:
        first = "; ".join(f"{s.lon:.4f},{s.lat:.4f}" for s in r.stops[:3])
        table.add_row(escape(r.name), str(len(r.stops)), f"{r.seconds / 60:.0f}", first)
    console.print(table)


@dispatch_app.command("plans")
def plans_command(
    check: Path | None = typer.Option(
        None, exists=True, dir_okay=False, help="Check this JSON plan file instead of showing"
    ),
) -> None:
    """Show the response plans in force (PINGAN_DISPATCH_PLANS_FILE), or check a plan file."""
    from pingan.dispatch.plans import active_plans, parse_plans

    try:
        plan_set = (
            parse_plans(check.read_text(encoding="utf-8"), str(check)) if check else active_plans()
        )
    except ValidationFailed as exc:
        err_console.print(f"[red]error:[/red] {escape(exc.detail)}")
        raise typer.Exit(1) from None
    console.print(
        f"plans from {escape(plan_set.source)}; acknowledge within {plan_set.ack_seconds} s"
    )
    table = Table("type", "plan", "min severity", "slots")
    rows = [(code, p) for code, ps in sorted(plan_set.plans.items()) for p in ps]
    for code, plan in [*rows, ("(any other)", plan_set.default)]:
        slots = ", ".join(
            f"{s.count}x tier {s.tier}"
            + (f" {s.skill}" if s.skill else "")
            + (f" within {s.within_m:.0f} m" if s.within_m else "")
            for s in plan.slots
        )
        table.add_row(code, plan.name, str(plan.min_severity), slots)
    console.print(table)


@dispatch_app.command("roster")
def roster_command(
    csv_file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="CSV: responder_id, starts_at, ends_at[, kind]"
    ),
) -> None:
    """Load duty shifts from a CSV file (all or nothing; errors name their line)."""
    from pingan.dispatch.shifts import import_roster

    with cli_session() as session:
        report = import_roster(
            session, csv_file.read_text(encoding="utf-8"), actor=_actor(), source=csv_file.name
        )
        if report.errors:
            for error in report.errors[:50]:
                err_console.print(f"[red]error:[/red] {escape(error)}")
            session.rollback()
            raise typer.Exit(1)
    console.print(f"{report.added} shifts added")
