"""``pingan tips ...``: tips by state, statistics, rewards and the reward ledger."""

from __future__ import annotations

import typer
from rich.table import Table

from pingan.governance import tips, tips_rewards
from pingan.kit.cli import cli_session, console, operator_name
from pingan.org.principal import Principal

tips_app = typer.Typer(help="Anonymous tips, triage, referral and rewards.", no_args_is_help=True)


def _operator() -> Principal:
    return Principal.system(f"cli:{operator_name()}")


@tips_app.command("seed-categories")
def seed_categories() -> None:
    """Create the default tip categories that are missing."""
    with cli_session() as session:
        console.print(f"{tips.ensure_tip_categories(session)} categories added")


@tips_app.command("list")
def list_cmd(
    state: str | None = typer.Option(None),
    open_only: bool = typer.Option(False, "--open", help="Only open tips"),
    limit: int = typer.Option(100),
) -> None:
    """Tips with their triage level and outcome (no content: use the API for that)."""
    with cli_session() as session:
        found = tips.list_tips(
            session, actor=_operator(), state=state, is_open=True if open_only else None,
            limit=limit,
        )  # fmt: skip
        table = Table()
        table.add_column("number", no_wrap=True)
        for heading in ("state", "level", "outcome", "unit", "flag"):
            table.add_column(heading)
        for case, tip in found:
            table.add_row(
                case.number, case.state, tip.level, tip.outcome or "", str(case.unit_id),
                "!" if case.supervision_flag else "",
            )  # fmt: skip
        console.print(table)


@tips_app.command("stats")
def stats() -> None:
    """Counts by state, category, level, outcome and channel; rewards by status."""
    with cli_session() as session:
        for key, value in tips_rewards.statistics(session, actor=_operator()).items():
            console.print(f"{key}: {value}")


@tips_app.command("rewards")
def rewards(status: str | None = typer.Option(None)) -> None:
    """Rewards with tier, amount and who proposed and decided them."""
    with cli_session() as session:
        table = Table("id")
        table.add_column("tip", no_wrap=True)
        for heading in ("tier", "yuan", "status", "proposed by", "decided by"):
            table.add_column(heading)
        for reward, number in tips_rewards.list_rewards(session, actor=_operator(), status=status):
            table.add_row(
                str(reward.id), number, reward.tier, f"{reward.amount_fen / 100:.2f}",
                reward.status, reward.proposed_by, reward.decided_by or "",
            )  # fmt: skip
        console.print(table)


@tips_app.command("ledger")
def ledger() -> None:
    """Reward ledger balances; exits 1 if the ledger does not balance."""
    with cli_session() as session:
        result = tips_rewards.ledger(session, actor=_operator())
    for account, fen in result["balances_fen"].items():
        console.print(f"{account:<16} {fen / 100:>14.2f}")
    ok = result["balanced"] and result["payable_matches_approved"] and result["cash_matches_paid"]
    console.print("balanced" if ok else "[red]NOT balanced[/red]")
    if not ok:
        raise typer.Exit(1)
