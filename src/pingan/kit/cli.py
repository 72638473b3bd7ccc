"""Helpers shared by every domain's CLI commands."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.orm import Session

from pingan.kit.db import get_engine, session_scope
from pingan.kit.errors import PinganError

console = Console()
err_console = Console(stderr=True)


def operator_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


@contextmanager
def cli_session() -> Iterator[Session]:
    """A transaction for a command; a Pingan error becomes a clean message and exit 1."""
    try:
        with session_scope(get_engine()) as session:
            yield session
    except PinganError as exc:
        field = f" ({escape(exc.field)})" if exc.field else ""
        err_console.print(f"[red]error{field}:[/red] {escape(exc.detail)}")
        raise typer.Exit(1) from None
