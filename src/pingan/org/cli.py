"""``pingan users ...`` and ``pingan audit ...``."""

from __future__ import annotations

import typer
from rich.table import Table

from pingan.kit import audit
from pingan.kit.cli import cli_session, console, err_console, operator_name
from pingan.org import auth, service, users
from pingan.org.principal import Principal

users_app = typer.Typer(help="User accounts, role grants and API keys.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


def _operator() -> Principal:
    return Principal.system(f"cli:{operator_name()}")


@users_app.command("add")
def add_user(
    username: str,
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="At least 8 characters"
    ),
    display_name: str = typer.Option("", help="Name shown in the console"),
) -> None:
    """Create a user account."""
    with cli_session() as session:
        user = users.create_user(
            session,
            username=username,
            password=password,
            display_name=display_name,
            actor=_operator(),
        )
        console.print(f"created user [bold]{user.username}[/bold] (id {user.id})")


@users_app.command("list")
def list_users() -> None:
    """List users and their role grants."""
    with cli_session() as session:
        table = Table("id", "username", "name", "active", "grants")
        for user in users.list_users(session, actor=_operator()):
            grants = ", ".join(f"{m.role.name}@{m.org_unit.code}" for m in user.memberships)
            table.add_row(
                str(user.id), user.username, user.display_name, str(user.is_active), grants
            )
        console.print(table)


@users_app.command("grant")
def grant(
    username: str,
    role: str = typer.Argument(..., help="admin, officer, analyst, grid_worker, auditor"),
    org_unit: str = typer.Argument(..., help="Code of the org unit; the grant covers its subtree"),
) -> None:
    """Grant ROLE to USERNAME at ORG_UNIT."""
    with cli_session() as session:
        user = users.get_user_by_name(session, username)
        unit = service.get_unit_by_code(session, org_unit)
        users.grant_role(session, user=user, role_name=role, unit=unit, actor=_operator())
        console.print(f"granted [bold]{role}[/bold] at {unit.code} ({unit.name_en}) to {username}")


@users_app.command("api-key")
def api_key(
    username: str,
    name: str = typer.Option(..., help="What the key is for, e.g. 'cad-bridge'"),
    service_account: bool = typer.Option(
        False, "--service", help="Create USERNAME as a service account (no password) if missing"
    ),
    scope: list[str] | None = typer.Option(
        None, "--scope", help="Narrow the key: read, intake, dispatch, admin, all (repeatable)"
    ),
) -> None:
    """Issue an API key acting as USERNAME; the key is shown once."""
    from pingan.kit.errors import NotFound

    with cli_session() as session:
        try:
            user = users.get_user_by_name(session, username)
        except NotFound:
            if not service_account:
                raise
            user = users.create_user(
                session, username=username, password=None, is_service=True, actor=_operator()
            )
        secret, key = auth.create_api_key(
            session, user=user, name=name, actor=_operator(), scopes=scope or None
        )
        console.print(f"API key {key.id} for {username}: [bold]{secret}[/bold]")
        err_console.print("Store it now: it cannot be shown again.")


@audit_app.command("verify")
def verify() -> None:
    """Check the whole hash chain; exits 1 and names the first broken entry if any."""
    with cli_session() as session:
        report = audit.verify_chain(session)
    if report.ok:
        console.print(f"[green]audit chain intact[/green]: {report.checked} entries verified")
        return
    err_console.print(
        f"[red]audit chain broken at entry {report.first_broken_id}[/red]: {report.reason} "
        f"({report.checked} entries before it verified)"
    )
    raise typer.Exit(1)


def register_import(import_app: typer.Typer) -> None:
    from pingan.org.cli_import import import_boundaries

    import_app.command("boundaries")(import_boundaries)
