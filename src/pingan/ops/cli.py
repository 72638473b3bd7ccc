"""``pingan privacy ...`` and ``pingan export``: access requests, retention, layer files."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from pingan.kit.cli import cli_session, console, err_console, operator_name
from pingan.kit.db import get_engine
from pingan.org.principal import Principal
from pingan.settings import get_settings

privacy_app = typer.Typer(
    help="Data protection: access-request exports and retention purges.", no_args_is_help=True
)


def _operator() -> Principal:
    return Principal.system(f"cli:{operator_name()}")


@privacy_app.command("export")
def export_person(
    person: str = typer.Option(None, "--person", help="The person's name as recorded"),
    phone: str = typer.Option(None, help="Phone number as recorded"),
    email: str = typer.Option(None, help="E-mail address as recorded"),
    username: str = typer.Option(None, help="User account name"),
    output: Path = typer.Option(..., "-o", "--output", help="JSON file to write"),
) -> None:
    """Write everything held about a person (for an access request) to a JSON file."""
    from pingan.ops import privacy

    with cli_session() as session:
        doc = privacy.export_person(
            session, actor=_operator(), name=person, phone=phone, email=email, username=username
        )
    output.write_text(json.dumps(doc, ensure_ascii=False, indent=2))
    found = ", ".join(f"{k}: {v}" for k, v in doc["counts"].items() if v) or "nothing held"
    console.print(f"wrote [bold]{output}[/bold] ({found})")


@privacy_app.command("rules")
def rules() -> None:
    """The retention rules in force."""
    from pingan.ops import retention

    settings = get_settings()
    table = Table("rule", "kept for", "setting", "what")
    for rule in retention.RULES:
        table.add_row(
            rule.name,
            f"{rule.keep_for(settings):g} {rule.unit}",
            "PINGAN_" + rule.setting.upper(),
            rule.what,
        )
    table.add_row("audit_log", "for ever", "-", "the hash-chained audit log")
    console.print(table)


@privacy_app.command("purge")
def purge() -> None:
    """Remove now what is past its retention period (the worker does this hourly)."""
    from pingan.ops import retention

    removed = retention.purge(get_engine(), actor=_operator().actor)
    for name, count in removed.items():
        console.print(f"{name}: {count} removed")


def export_layer(
    layer: str = typer.Argument(
        ..., help="org-units, incidents, incident-counts, hotspots, alerts"
    ),
    output: Path = typer.Argument(..., help="File to write: .geojson, .csv or .gpkg"),
    bbox: str = typer.Option(None, help="minlon,minlat,maxlon,maxlat"),
    datetime: str = typer.Option(None, help="RFC 3339 instant or interval a/b"),
    option: list[str] = typer.Option(
        [], "--option", "-O", help="Layer option NAME=VALUE, e.g. level=grid or type=burglary"
    ),
) -> None:
    """Write a layer to a GeoJSON, CSV or GeoPackage file."""
    from pingan.ogc import exports, layers
    from pingan.ogc.params import parse_query

    params: dict[str, str] = {}
    for item in option:
        name, sep, value = item.partition("=")
        if not sep:
            err_console.print(f"[red]error:[/red] --option needs NAME=VALUE, got {item!r}")
            raise typer.Exit(1)
        params[name] = value
    if bbox:
        params["bbox"] = bbox
    if datetime:
        params["datetime"] = datetime
    with cli_session() as session:
        spec = layers.get_layer(layer)
        fmt = exports.format_for(output)
        query = parse_query(params, allowed_extra=spec.options)
        with console.status(f"reading {spec.title.lower()}"):
            features = exports.collect(session, _operator(), spec, query)
        with console.status(f"writing {len(features):,} features"):
            output.write_bytes(exports.render(spec, features, fmt))
    console.print(f"wrote {len(features):,} features to [bold]{output}[/bold]")


def register(app: typer.Typer) -> None:
    app.add_typer(privacy_app, name="privacy")
    app.command("export")(export_layer)
