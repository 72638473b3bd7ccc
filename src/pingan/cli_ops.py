"""Operations commands: ``pingan db``, ``pingan serve`` and ``pingan demo``."""

from __future__ import annotations

import typer

from pingan.kit import migrate
from pingan.kit.cli import console
from pingan.settings import get_settings

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


def upgrade_and_seed() -> None:
    from pingan.bootstrap import seed_reference_data
    from pingan.kit.db import get_engine, session_scope

    url = get_settings().database_url
    migrate.upgrade(url)
    with session_scope(get_engine()) as session:
        seed_reference_data(session)


@db_app.command("upgrade")
def upgrade() -> None:
    """Run migrations to the latest schema and seed roles and the taxonomy."""
    upgrade_and_seed()
    console.print(
        f"database at revision [bold]{migrate.current_revision(get_settings().database_url)}[/bold]"
    )


@db_app.command("current")
def current() -> None:
    """Print the current schema revision."""
    console.print(migrate.current_revision(get_settings().database_url) or "empty")


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
    port: int = typer.Option(8000, help="Port"),
) -> None:
    """Serve the API and console."""
    import uvicorn

    from pingan.app import create_app

    console.print(f"Pingan is serving on [bold]http://{host}:{port}[/bold]  (API docs: /docs)")
    uvicorn.run(create_app(), host=host, port=port, log_config=None)


def demo(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
    port: int = typer.Option(8000, help="Port"),
    seed: int = typer.Option(7, help="Seed of the synthetic city"),
    no_serve: bool = typer.Option(False, "--no-serve", help="Prepare the database, do not serve"),
) -> None:
    """Create the database, load the demo city if it is empty, make the demo login, serve."""
    from pingan.demo import prepare_demo

    upgrade_and_seed()
    prepare_demo(seed=seed)
    settings = get_settings()
    console.print(
        f"Demo login: [bold]{settings.demo_username}[/bold] / [bold]{settings.demo_password}[/bold]"
    )
    if not no_serve:
        serve(host=host, port=port)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.command("serve")(serve)
    app.command("demo")(demo)
