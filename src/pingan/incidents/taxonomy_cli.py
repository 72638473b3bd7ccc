"""``pingan taxonomy``: show and extend the incident taxonomy."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from pingan.incidents.models import IncidentType
from pingan.incidents.taxonomy import TypeDef, ensure_types, parent_code
from pingan.kit import audit
from pingan.kit.cli import cli_session, console, err_console, operator_name

taxonomy_app = typer.Typer(help="The incident taxonomy.", no_args_is_help=True)

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


@taxonomy_app.command("list")
def list_types() -> None:
    """Print every incident type."""
    with cli_session() as session:
        table = Table("code", "中文", "English", "severity")
        for t in session.scalars(select(IncidentType).order_by(IncidentType.code)):
            table.add_row(t.code, t.name_zh, t.name_en, str(t.default_severity))
        console.print(table)


def read_type_file(path: Path, known: set[str]) -> tuple[list[TypeDef], list[str]]:
    """Parse a CSV of code,name_zh,name_en,severity; returns types and errors by line."""
    defs: list[TypeDef] = []
    errors: list[str] = []
    seen = set(known)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"code", "name_zh", "name_en"} - set(reader.fieldnames or [])
        if missing:
            return [], [f"line 1: missing column(s) {', '.join(sorted(missing))}"]
        for row in reader:
            line = reader.line_num
            code = (row.get("code") or "").strip()
            if not CODE_PATTERN.match(code):
                errors.append(f"line {line}: code {code!r} must be dotted lower-case words")
                continue
            parent = parent_code(code)
            if parent is not None and parent not in seen:
                errors.append(f"line {line}: parent type {parent!r} is neither stored nor earlier")
                continue
            try:
                severity = int(row.get("severity") or 2)
            except ValueError:
                severity = 0
            if not 1 <= severity <= 5:
                errors.append(f"line {line}: severity must be 1..5")
                continue
            name_zh, name_en = (
                (row.get("name_zh") or "").strip(),
                (row.get("name_en") or "").strip(),
            )
            if not name_zh or not name_en:
                errors.append(f"line {line}: both names are required")
                continue
            defs.append(TypeDef(code, name_zh, name_en, severity))
            seen.add(code)
    return defs, errors


@taxonomy_app.command("load")
def load(path: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True)) -> None:
    """Add the types in a CSV (code,name_zh,name_en,severity); all or nothing."""
    with cli_session() as session:
        known = set(session.scalars(select(IncidentType.code)))
        defs, errors = read_type_file(path, known)
        if errors:
            for message in errors:
                err_console.print(f"[red]{escape(message)}[/red]")
            err_console.print("nothing was loaded")
            raise typer.Exit(1)
        added = ensure_types(session, defs)
        audit.record(
            session,
            actor=f"system:cli:{operator_name()}",
            action="taxonomy.load",
            object_type="incident_type",
            detail={"file": path.name, "added": added},
        )
        console.print(f"added {added} type(s); {len(defs) - added} already present")
