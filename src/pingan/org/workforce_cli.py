"""``pingan users workforce --unit CODE``: the grid posts under a unit, as a tree."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.tree import Tree

from pingan.kit.cli import cli_session, console
from pingan.org.cli import users_app
from pingan.org.principal import Principal
from pingan.org.service import get_unit_by_code
from pingan.org.workforce import Post, workforce


def _label(post: Post) -> str:
    who = ", ".join(post.people) if post.people else "[red]vacant[/red]"
    label = f"{escape(post.code)} {escape(post.name_zh)}"
    return (
        f"{label} — {escape(post.role)}: {escape(who) if post.people else who}"
        if post.role
        else label
    )


def _branch(tree: Tree, post: Post) -> None:
    node = tree.add(_label(post))
    for child in post.children:
        _branch(node, child)


@users_app.command("workforce")
def workforce_command(
    unit: str = typer.Option(..., help="Code of a district, subdistrict or community"),
) -> None:
    """Who holds the grid posts (grid worker, community lead, subdistrict centre) under a unit."""
    with cli_session() as session:
        found = workforce(session, get_unit_by_code(session, unit).id, actor=Principal.system())
    tree = Tree(f"[bold]{_label(found.root)}[/bold]")
    for child in found.root.children:
        _branch(tree, child)
    console.print(tree)
    for level, codes in found.vacant.items():
        if codes:
            console.print(f"vacant {level} posts ({len(codes)}): {', '.join(codes)}")
