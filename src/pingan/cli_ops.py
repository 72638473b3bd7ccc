"""Operations commands: ``pingan db``, ``serve``, ``demo``, ``backup``, ``restore``, ``worker``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import typer

from pingan.kit import migrate
from pingan.kit.cli import console, err_console
from pingan.settings import get_settings

_T = TypeVar("_T")
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
        from pingan.dispatch import demo_duty

        demo_duty.schedule()  # the demo's responders have no phones: keep them reporting
        serve(host=host, port=port)


def backup(
    file: Path = typer.Argument(..., help="Backup file to write (SQLite copy or pg_dump archive)"),
) -> None:
    """Write a consistent backup of the database (SQLite online backup / pg_dump -Fc)."""
    from pingan.ops import backup as ops_backup

    url = get_settings().database_url
    with console.status("backing up"):
        _clean_errors(lambda: ops_backup.backup(url, file))
    console.print(f"backup written to [bold]{file}[/bold] ({file.stat().st_size:,} bytes)")


def restore(
    file: Path = typer.Argument(..., help="Backup file made by `pingan backup`"),
    yes: bool = typer.Option(False, "--yes", help="Do not ask before replacing the database"),
) -> None:
    """Replace the database's contents with a backup, then verify the audit chain."""
    from pingan.ops import backup as ops_backup

    url = get_settings().database_url
    if not yes:
        typer.confirm(f"Replace everything in {_display(url)} with {file}?", abort=True)
    with console.status("restoring"):
        report = _clean_errors(lambda: ops_backup.restore(url, file))
    for table in report.tables:
        console.print(f"{table.table}: {table.rows:,} rows  sha256 {table.sha256[:16]}")
    if not report.audit.ok:
        err_console.print(
            f"[red]audit chain broken at entry {report.audit.first_broken_id}[/red]: "
            f"{report.audit.reason}"
        )
        raise typer.Exit(1)
    console.print(f"[green]restored[/green]; audit chain intact ({report.audit.checked} entries)")


def _display(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _clean_errors(action: Callable[[], _T]) -> _T:
    from pingan.kit.errors import PinganError

    try:
        return action()
    except PinganError as exc:
        err_console.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(1) from None


def worker(
    poll_seconds: float = typer.Option(1.0, help="How often to look for queued jobs"),
    no_schedules: bool = typer.Option(
        False, "--no-schedules", help="Run queued jobs only; enqueue no periodic work"
    ),
) -> None:
    """Run background jobs and periodic work, apart from the API servers (until SIGTERM)."""
    import signal
    import threading

    from pingan import schedules
    from pingan.kit import jobs
    from pingan.kit.db import get_engine

    schedules.install(get_engine())  # a bad schedule setting stops the worker here
    runner = jobs.Worker(get_engine(), poll_seconds, scheduling=not no_schedules)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    runner.start()
    console.print(f"job worker running (schedules {'off' if no_schedules else 'on'})")
    stop.wait()
    runner.stop()
    console.print("job worker stopped")


def register(app: typer.Typer) -> None:
    from pingan.ops import cli as ops_cli

    app.add_typer(db_app, name="db")
    app.command("serve")(serve)
    app.command("demo")(demo)
    app.command("backup")(backup)
    app.command("restore")(restore)
    app.command("worker")(worker)
    ops_cli.register(app)
