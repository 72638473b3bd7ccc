"""``pingan cameras``: the camera network's commands (registry, coverage, plans)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from pingan.kit.cli import cli_session, console, err_console, operator_name
from pingan.org.levels import Level
from pingan.org.principal import Principal

cameras_app = typer.Typer(
    help="Camera network: registry import/export, street coverage, placement plans.",
    no_args_is_help=True,
)


def _actor() -> Principal:
    return Principal.system(operator_name())


def _progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(), console=err_console, transient=True,
    )  # fmt: skip


@cameras_app.command("owner")
def owner(
    code: Annotated[str, typer.Argument(help="Short code of the owning organisation")],
    name: Annotated[str, typer.Option(help="Full name")],
    kind: Annotated[str, typer.Option(help="bureau, school, hospital, mall, ...")] = "organisation",
    contact_name: Annotated[str | None, typer.Option(help="Who to call about outages")] = None,
    contact_phone: Annotated[str | None, typer.Option()] = None,
    contact_email: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Register a camera owner."""
    from pingan.cameras.registry import create_owner
    from pingan.cameras.schemas import OwnerIn

    with cli_session() as session:
        made = create_owner(
            session,
            OwnerIn(code=code, name=name, kind=kind, contact_name=contact_name,
                    contact_phone=contact_phone, contact_email=contact_email),
            actor=_actor(),
        )  # fmt: skip
    console.print(f"owner {made.code} (id {made.id})")


@cameras_app.command("link-user")
def link_user(
    owner_code: Annotated[str, typer.Argument(help="Owner code")],
    username: Annotated[str, typer.Argument(help="User who manages this owner's cameras")],
) -> None:
    """Let a user manage one owner's cameras (and only those)."""
    from pingan.cameras.registry import link_owner_user

    with cli_session() as session:
        link_owner_user(session, owner_code, username, actor=_actor())
    console.print(f"{username} now manages the cameras of {owner_code}")


@cameras_app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="CSV, GeoJSON or GeoPackage file", exists=False)],
    layer: Annotated[str | None, typer.Option(help="GeoPackage layer")] = None,
    show_errors: Annotated[int, typer.Option(help="How many row errors to print")] = 20,
) -> None:
    """Register or update cameras from a file (idempotent by owner + owner's camera id)."""
    from pingan.cameras import io
    from pingan.cameras.registry import upsert_cameras

    with cli_session() as session:
        rows, errors = io.read_file(path, layer=layer)
        with _progress() as bar:
            task = bar.add_task("registering", total=len(rows))
            report = upsert_cameras(
                session, rows, actor=_actor(), errors=errors, source=path.name,
                progress=lambda n: bar.advance(task, n),
            )  # fmt: skip
    console.print(
        f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.rejected} rejected; {report.segments_updated} street segments recounted"
    )
    unit = "line" if path.suffix.lower() == ".csv" else "feature"
    for err in sorted(report.errors, key=lambda e: e.line)[:show_errors]:
        err_console.print(f"{unit} {err.line}: {err.error}")
    if report.rejected:
        raise typer.Exit(2)


@cameras_app.command("export")
def export(
    path: Annotated[Path, typer.Argument(help="Output .csv, .geojson or .gpkg")],
) -> None:
    """Write every camera to a file (same columns the import reads)."""
    from pingan.cameras.io import write_file

    with cli_session() as session:
        n = write_file(session, path, actor=_actor())
    console.print(f"{n} cameras written to {path}")


@cameras_app.command("coverage")
def coverage(
    rebuild: Annotated[
        bool, typer.Option(help="Cut the road network into segments again first")
    ] = False,
    piece_m: Annotated[float, typer.Option(help="Segment length for --rebuild")] = 10.0,
    level: Annotated[Level, typer.Option(help="Areas to report")] = Level.DISTRICT,
    incident_days: Annotated[int, typer.Option(help="Incident window for the weighting")] = 365,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report here")] = None,
    blind_spots: Annotated[
        Path | None, typer.Option(help="Write the ranked blind spots (GeoJSON) here")
    ] = None,
) -> None:
    """Street coverage per area and road class; optionally the blind-spot layer."""
    from pingan.cameras import coverage as cov
    from pingan.cameras import streets

    actor = _actor()
    with cli_session() as session:
        if rebuild or streets.segment_count(session) == 0:
            with _progress() as bar:
                task = bar.add_task("cutting streets", total=None)
                n = streets.build_segments(
                    session, actor=actor, piece_m=piece_m,
                    progress=lambda k: bar.advance(task, k),
                )  # fmt: skip
            console.print(f"{n} street segments of {piece_m:g} m")
        report = cov.coverage_report(session, actor=actor, level=level, incident_days=incident_days)
        spots = cov.blind_spots(session, actor=actor) if blind_spots else None
    table = Table(title=f"Street coverage by {level.value}")
    for col in ("area", "street km", "covered km", "share", "incidents on covered street"):
        table.add_column(col, justify="left" if col == "area" else "right")
    for a in report.areas:
        inc = "-" if a.incident_share is None else f"{a.incident_share:.1%} of {a.incidents}"
        table.add_row(a.name, f"{a.total_m / 1000:.1f}", f"{a.covered_m / 1000:.1f}",
                      f"{a.share:.1%}", inc)  # fmt: skip
    console.print(table)
    console.print(
        f"{report.cameras} active cameras; {report.covered_m / 1000:.1f} of "
        f"{report.total_m / 1000:.1f} km covered ({report.share:.1%})"
    )
    if json_out is not None:
        json_out.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    if blind_spots is not None and spots is not None:
        blind_spots.write_text(json.dumps(spots, ensure_ascii=False), encoding="utf-8")
        console.print(f"{len(spots['features'])} blind spots written to {blind_spots}")


@cameras_app.command("buildings")
def buildings(
    path: Annotated[
        Path, typer.Argument(help="Building footprints: .osm.pbf, GeoJSON or GeoPackage")
    ],
    source: Annotated[str | None, typer.Option(help="Name to replace on reload")] = None,
    layer: Annotated[str | None, typer.Option(help="GeoPackage layer")] = None,
    bbox: Annotated[
        str | None, typer.Option(help="lon0,lat0,lon1,lat1: only footprints in this box")
    ] = None,
) -> None:
    """Load building footprints that block cameras' views, then recount coverage."""
    from pingan.cameras.buildings import read_footprints
    from pingan.cameras.coverage import parse_bbox
    from pingan.cameras.streets import load_footprints

    with cli_session() as session:
        read = read_footprints(path, layer=layer, bbox=parse_bbox(bbox))
        for unit, number, why in read.skipped[:20]:
            err_console.print(f"{unit} {number}: {why}")
        n = load_footprints(session, read.geoms, source=source or path.name, actor=_actor())
    console.print(
        f"{n} footprints loaded, {len(read.skipped)} features skipped; coverage recounted"
    )


@cameras_app.command("plan")
def plan(
    sites: Annotated[int, typer.Option(help="How many new cameras")] = 20,
    method: Annotated[str, typer.Option(help="greedy, exact or both (reports the gap)")] = "greedy",
    range_m: Annotated[float, typer.Option(help="Range of each new 360-degree camera")] = 40.0,
    spacing_m: Annotated[float, typer.Option(help="Pole candidates every this many metres")] = 50.0,
    budget: Annotated[
        list[str] | None, typer.Option(help="DISTRICT_ID=N: most new sites there (repeatable)")
    ] = None,
    site_min_share: Annotated[
        float, typer.Option(help="Share of each key site's streets that must be covered")
    ] = 0.0,
    backup_level: Annotated[int, typer.Option(help="Sites at this level need 2 cameras")] = 1,
    time_limit_s: Annotated[float, typer.Option(help="Time limit of the exact solver")] = 60.0,
    name: Annotated[str, typer.Option(help="Plan name")] = "plan",
    out: Annotated[Path | None, typer.Option(help="Write the sites to .geojson or .csv")] = None,
) -> None:
    """Choose new camera sites that cover the most incident-weighted uncovered street."""
    from pingan.cameras import planning
    from pingan.cameras.schemas import PlanIn
    from pingan.kit.errors import ValidationFailed

    caps: dict[int, int] = {}
    for item in budget or []:
        key, _, value = item.partition("=")
        try:
            caps[int(key)] = int(value)
        except ValueError:
            raise typer.BadParameter(f"budget must be DISTRICT_ID=N, got {item!r}") from None
    try:
        params = PlanIn(
            name=name, sites=sites, method=method, range_m=range_m, candidate_spacing_m=spacing_m,
            district_budget=caps, site_min_share=site_min_share, backup_level=backup_level,
            time_limit_s=time_limit_s,
        )  # fmt: skip
    except Exception as exc:  # pydantic's message names the bad option
        raise typer.BadParameter(str(exc).splitlines()[-1]) from None
    with cli_session() as session:
        made = planning.make_plan(session, params, actor=_actor())
        result = json.loads(made.result)
        if out is not None:
            if out.suffix.lower() == ".csv":
                out.write_text(planning.plan_csv(made), encoding="utf-8")
            elif out.suffix.lower() in (".geojson", ".json"):
                out.write_text(json.dumps(planning.plan_geojson(made)), encoding="utf-8")
            else:
                raise ValidationFailed("--out must end in .geojson or .csv", field="out")
    table = Table(title=f"Plan {made.id}: {len(result['sites'])} sites ({result['method']})")
    for col in ("#", "lon", "lat", "district", "gain (weighted)", "gain m"):
        table.add_column(col, justify="right")
    for s in result["sites"]:
        table.add_row(str(s["order"]), f"{s['lon']:.6f}", f"{s['lat']:.6f}",
                      str(s["district_id"] or "-"), f"{s['gain_weight']:.1f}",
                      f"{s['gain_m']:.0f}")  # fmt: skip
    console.print(table)
    if "greedy_gap" in result:
        console.print(
            f"greedy {result['greedy_objective']:.1f} vs exact {result['exact_objective']:.1f}"
            f" ({'optimal' if result.get('optimal') else 'time limit'}): "
            f"gap {result['greedy_gap']:.2%}"
        )
    unmet = [c for c, ok in zip(result["requirements"], result["requirements_met"], strict=True)
             if not ok]  # fmt: skip
    if unmet:
        console.print(f"[yellow]key sites short of their minimum:[/yellow] {', '.join(unmet)}")
