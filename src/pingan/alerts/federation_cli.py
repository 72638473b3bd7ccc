"""``pingan alerts federation key|add|list|poll``: our feed key and the neighbours' feeds."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from pingan.alerts import federation
from pingan.kit.cli import cli_session, console, operator_name
from pingan.org.principal import Principal

federation_app = typer.Typer(help="Signed alert feeds shared with neighbouring jurisdictions.")


@federation_app.command("key")
def key() -> None:
    """Print our feed's public key (Ed25519, base64) to give to the neighbours."""
    with cli_session() as session:
        console.print(federation.public_key(session))


@federation_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The neighbour's name")],
    url: Annotated[str, typer.Argument(help="Its feed URL (.../api/v1/federation/feed)")],
    public_key: Annotated[str, typer.Argument(help="Its public key (base64)")],
) -> None:
    """Subscribe to a neighbour's feed."""
    with cli_session() as session:
        peer = federation.add_peer(
            session, name=name, url=url, public_key=public_key,
            actor=Principal.system(operator_name()),
        )  # fmt: skip
        console.print(f"neighbour {peer.id}: {escape(peer.name)}")


@federation_app.command("list")
def list_() -> None:
    """The neighbours and how their last polls went."""
    with cli_session() as session:
        table = Table("id", "name", "url", "feed of", "last ok", "last error")
        for p in federation.list_peers(session, actor=Principal.system(operator_name())):
            table.add_row(
                str(p.id), escape(p.name), escape(p.url), str(p.layer_generated_at or ""),
                str(p.last_ok_at or ""), escape((p.last_error or "")[:60]),
            )  # fmt: skip
    console.print(table)


@federation_app.command("poll")
def poll() -> None:
    """Fetch and verify every neighbour's feed now (the scheduler does it every 5 minutes)."""
    from pingan.kit.db import get_engine

    done = federation.poll_peers(get_engine())
    console.print(f"{done['ok']} feeds stored, {done['failed']} refused or unreachable")
