"""``pingan analyze heat|hotspots|emerging|rates``: the analyses from the command line.

Each command acts as the local operator (``Principal.system``), shows its
stages on a progress bar, stores itself as a run (a job row with parameters,
data window, result and software version) and writes its outputs by suffix.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pingan.incidents.analysis import runs
from pingan.incidents.analysis.emerging import emerging
from pingan.incidents.analysis.geojson import features_csv
from pingan.incidents.analysis.heat import HeatMap, heat_map
from pingan.incidents.analysis.hotspots import hotspots
from pingan.incidents.analysis.params import (
    EmergingParams,
    Filters,
    HeatParams,
    HotspotParams,
    RatesParams,
)
from pingan.incidents.analysis.rates import rates, rows_csv
from pingan.incidents.service import city_zone
from pingan.kit.cli import cli_session, console, err_console, operator_name
from pingan.kit.errors import ValidationFailed
from pingan.org.principal import Principal
from pingan.org.service import get_unit_by_code

analyze_app = typer.Typer(
    help="Heat maps, hotspots, emerging hotspots and rates; each run is stored.",
    no_args_is_help=True,
)

SINCE = typer.Option(None, "--since", help="From this time (ISO 8601; no offset = city time)")
UNTIL = typer.Option(None, "--until", help="Up to (not including) this time")
TYPES = typer.Option([], "--type", "-t", help="Incident type code, with subtypes; repeatable")
ORG_UNIT = typer.Option(None, "--org-unit", help="Org unit id or code")
PLACE = typer.Option(None, "--place", help="Key site or area id")
BUFFER = typer.Option(0.0, "--buffer-m", help="Grow the key site by this many metres")
OUT = typer.Option([], "--out", "-o", help="Output file(s); the format follows the suffix")


def _filters(
    session: Session,
    since: str | None,
    until: str | None,
    types: list[str],
    org_unit: str | None,
    place: int | None,
    buffer_m: float,
) -> dict[str, Any]:
    raw: dict[str, Any] = {"types": types, "buffer_m": buffer_m}
    if since:
        raw["since"] = since
    if until:
        raw["until"] = until
    if org_unit:
        raw["org_unit_id"] = (
            int(org_unit) if org_unit.isdigit() else get_unit_by_code(session, org_unit).id
        )
    if place is not None:
        raw["place_id"] = place
    return raw


def _check_outputs(out: list[Path], allowed: tuple[str, ...]) -> None:
    for path in out:
        if path.suffix.lower() not in allowed:
            raise ValidationFailed(
                f"cannot write {path.name}: use one of {', '.join(allowed)}", field="out"
            )


@contextmanager
def _run(
    session: Session, kind: str, raw: dict[str, Any]
) -> Iterator[tuple[runs.RunRecord, Filters, Principal]]:
    """Validate, record the run and show its progress; yields (record, params, actor)."""
    actor = Principal.system(f"cli:{operator_name()}")
    params = runs.fixed_params(session, runs.kind_of(kind), raw, actor, prefix="")
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("starting", total=1.0)

        def show(fraction: float, message: str = "") -> None:
            bar.update(task, completed=fraction, description=message or "working")

        with runs.recorded_run(engine, kind, params, actor, show) as record:
            yield record, params, actor
    console.print(f"stored as run {record.job_id} ([bold]pingan[/bold] {kind})")


def _write(out: list[Path], writers: dict[str, Callable[[], bytes | str]]) -> None:
    for path in out:
        data = writers[path.suffix.lower()]()
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
        console.print(f"wrote {escape(str(path))}")


def _local(iso_time: str) -> str:
    """A stored UTC time as the city's local date (and time, unless midnight)."""
    local = dt.datetime.fromisoformat(iso_time).astimezone(city_zone())
    return f"{local:%Y-%m-%d}" if local.time() == dt.time() else f"{local:%Y-%m-%d %H:%M}"


def _json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, default=str)


@analyze_app.command("heat")
def heat_command(
    out: list[Path] = OUT,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    types: list[str] = TYPES,
    org_unit: str | None = ORG_UNIT,
    place: int | None = PLACE,
    buffer_m: float = BUFFER,
    kernel: str = typer.Option("gaussian", help="gaussian or quartic"),
    bandwidth_m: float = typer.Option(250.0, help="Gaussian sigma or quartic radius, metres"),
    bandwidth_rule: str | None = typer.Option(None, help="scott or silverman (from the data)"),
    cell_size_m: float | None = typer.Option(None, help="Raster cell; default about 1M cells"),
    weight: str = typer.Option("none", help="none or severity"),
    per_capita: bool = typer.Option(False, "--per-capita", help="Per 10,000 residents"),
    levels: str | None = typer.Option(None, help="Contour levels, e.g. 5,10,20"),
) -> None:
    """Kernel density heat map: .tif (GeoTIFF), .png (image), .geojson (contours), .json."""
    with cli_session() as session:
        _check_outputs(out, (".tif", ".tiff", ".png", ".geojson", ".json"))
        raw = _filters(session, since, until, types, org_unit, place, buffer_m)
        raw.update(kernel=kernel, bandwidth_m=bandwidth_m, weight=weight, per_capita=per_capita)
        raw.update(bandwidth_rule=bandwidth_rule, cell_size_m=cell_size_m)
        contour_levels = _levels(levels)
        with _run(session, "analysis.heat", raw) as (record, params, actor):
            assert isinstance(params, HeatParams)
            surface = heat_map(session, params, actor=actor, progress=record.progress)
            contours = surface.contours(contour_levels)
            record.result = {**surface.summary(), "contours": contours}
        _write(
            out,
            {
                ".tif": surface.geotiff,
                ".tiff": surface.geotiff,
                ".png": surface.image_png,
                ".geojson": lambda: _json(contours),
                ".json": lambda: _json(surface.summary()),
            },
        )
    _heat_table(surface)


def _levels(text: str | None) -> list[float] | None:
    if not text:
        return None
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise ValidationFailed(
            "levels must be numbers separated by commas", field="levels"
        ) from None


def _heat_table(surface: HeatMap) -> None:
    table = Table(
        "incidents", "bandwidth", "raster", "colour scale", "mass in area / all", title="heat map"
    )
    g = surface.grid
    table.add_row(
        f"{surface.n_events:,}",
        f"{surface.surface.bandwidth_m:,.0f} m {surface.surface.kernel}",
        f"{g.nx} x {g.ny} cells of {g.cell_size:g} m (EPSG:{surface.epsg})",
        f"0 .. {surface.vmax:,.4g} {surface.units}",
        f"{surface.weight_in_area:,.1f} / {surface.surface.total_weight:,.1f}",
    )
    console.print(table)


@analyze_app.command("hotspots")
def hotspots_command(
    out: list[Path] = OUT,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    types: list[str] = TYPES,
    org_unit: str | None = ORG_UNIT,
    place: int | None = PLACE,
    buffer_m: float = BUFFER,
    unit: str = typer.Option("cell", help="cell (square cells), grid (org grids) or h3"),
    cell_size_m: float = typer.Option(250.0, help="Square cell size, metres"),
    h3_resolution: int = typer.Option(8, help="H3 resolution when --unit h3"),
    statistic: str = typer.Option("gi_star", help="gi_star, gi or local_moran"),
    weights: str = typer.Option("queen", help="queen, knn or distance_band"),
    k: int = typer.Option(8, help="Neighbours for knn"),
    distance_m: float | None = typer.Option(None, help="Band for distance_band, metres"),
    transform: str | None = typer.Option(None, help="binary or row"),
    permutations: int = typer.Option(999, help="Conditional permutations (0: normal p only)"),
    seed: int = typer.Option(12345, help="Seed of the permutations"),
    fdr: bool = typer.Option(False, "--fdr", help="False discovery rate control"),
    significant_only: bool = typer.Option(False, "--significant-only"),
) -> None:
    """Hotspots (Gi*, Gi or local Moran) per cell or grid: .geojson, .json or .csv."""
    with cli_session() as session:
        _check_outputs(out, (".geojson", ".json", ".csv"))
        raw = _filters(session, since, until, types, org_unit, place, buffer_m)
        raw.update(unit=unit, cell_size_m=cell_size_m, statistic=statistic, weights=weights, k=k)
        raw.update(h3_resolution=h3_resolution)
        raw.update(distance_m=distance_m, transform=transform, permutations=permutations)
        raw.update(seed=seed, fdr=fdr, significant_only=significant_only)
        with _run(session, "analysis.hotspots", raw) as (record, params, actor):
            assert isinstance(params, HotspotParams)
            doc = hotspots(session, params, actor=actor, progress=record.progress)
            record.result = doc
        _write_features(out, doc)
    summary = doc["summary"]
    _counts_table("class", summary["classes"], f"{summary['statistic']} hotspots")
    moran = summary.get("moran")
    if moran:
        console.print(f"global Moran's I = {moran['i']:.4f} (z = {moran['z']}, p = {moran['p']})")


def _write_features(out: list[Path], doc: dict[str, Any]) -> None:
    _write(
        out,
        {
            ".geojson": lambda: _json(doc),
            ".json": lambda: _json(doc),
            ".csv": lambda: features_csv(doc),
        },
    )


def _counts_table(heading: str, counts: dict[str, int], title: str) -> None:
    table = Table(heading, "locations", title=title)
    for name, n in counts.items():
        table.add_row(escape(name), f"{n:,}")
    console.print(table)


@analyze_app.command("emerging")
def emerging_command(
    out: list[Path] = OUT,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    types: list[str] = TYPES,
    org_unit: str | None = ORG_UNIT,
    place: int | None = PLACE,
    buffer_m: float = BUFFER,
    unit: str = typer.Option("cell", help="cell (square cells), grid (org grids) or h3"),
    cell_size_m: float = typer.Option(500.0, help="Square cell size, metres"),
    h3_resolution: int = typer.Option(8, help="H3 resolution when --unit h3"),
    step: str = typer.Option("week", help="day or week"),
    step_length: int = typer.Option(1, help="Days or weeks per time step"),
    steps: int = typer.Option(12, help="Time steps back from --until when --since is not given"),
    time_window: int = typer.Option(1, help="Earlier steps in each bin's neighbourhood"),
    weights: str = typer.Option("queen", help="queen, knn or distance_band"),
    k: int = typer.Option(8, help="Neighbours for knn"),
    distance_m: float | None = typer.Option(None, help="Band for distance_band, metres"),
    fdr: bool = typer.Option(False, "--fdr", help="False discovery rate control over all bins"),
) -> None:
    """Emerging hotspot categories per cell or grid: .geojson, .json or .csv."""
    with cli_session() as session:
        _check_outputs(out, (".geojson", ".json", ".csv"))
        raw = _filters(session, since, until, types, org_unit, place, buffer_m)
        raw.update(unit=unit, cell_size_m=cell_size_m, step=step, step_length=step_length)
        raw.update(h3_resolution=h3_resolution)
        raw.update(steps=steps, time_window=time_window, weights=weights, k=k)
        raw.update(distance_m=distance_m, fdr=fdr)
        with _run(session, "analysis.emerging", raw) as (record, params, actor):
            assert isinstance(params, EmergingParams)
            doc = emerging(session, params, actor=actor, progress=record.progress)
            record.result = doc
        _write_features(out, doc)
    window = doc["summary"]["steps"]
    title = f"emerging hotspots, {window['count']} steps from {_local(window['since'])}"
    _counts_table("category", doc["summary"]["categories"], title)


@analyze_app.command("rates")
def rates_command(
    out: list[Path] = OUT,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    types: list[str] = TYPES,
    org_unit: str | None = ORG_UNIT,
    place: int | None = PLACE,
    buffer_m: float = BUFFER,
    level: str = typer.Option("district", help="district, subdistrict, community or grid"),
    period_days: int = typer.Option(
        28, help="Period length when --since/--until are not both given"
    ),
    fdr: bool = typer.Option(False, "--fdr", help="False discovery rate control over the units"),
) -> None:
    """Counts, rates per 10,000 residents and change vs the previous period: .csv or .json."""
    with cli_session() as session:
        _check_outputs(out, (".csv", ".json"))
        raw = _filters(session, since, until, types, org_unit, place, buffer_m)
        raw.update(level=level, period_days=period_days, fdr=fdr)
        with _run(session, "analysis.rates", raw) as (record, params, actor):
            assert isinstance(params, RatesParams)
            result = rates(session, params, actor=actor, progress=record.progress)
            record.result = result
        _write(out, {".csv": lambda: rows_csv(result), ".json": lambda: _json(result)})
    _rates_table(result)


SHOWN_ROWS = 30


def _rates_table(result: dict[str, Any]) -> None:
    current, previous = result["current"], result["previous"]
    title = (
        f"{result['level']} rates: {_local(current['since'])} .. {_local(current['until'])} "
        f"vs {_local(previous['since'])} .. {_local(previous['until'])} (city time)"
    )
    table = Table("unit", "current", "previous", "change", "per 10k", "p", "trend", title=title)
    for row in result["rows"][:SHOWN_ROWS]:
        pct = row["percent_change"]
        rate = row["rate_current"]
        table.add_row(
            escape(f"{row['code']} {row['name_en']}"),
            str(row["current"]),
            str(row["previous"]),
            "" if pct is None else f"{pct:+.0f}%",
            "" if rate is None else f"{rate:.2f}",
            f"{row['p_value']:.3g}",
            row["trend"],
        )
    console.print(table)
    if len(result["rows"]) > SHOWN_ROWS:
        console.print(f"({len(result['rows']) - SHOWN_ROWS} more units in the output file)")


@analyze_app.command("forecast")
def forecast_command(
    out: list[Path] = OUT,
    until: str | None = typer.Option(None, "--origin", help="Forecast origin (default: now)"),
    types: list[str] = TYPES,
    org_unit: str | None = ORG_UNIT,
    method: str = typer.Option("etas", help="etas (self-exciting), kde or naive"),
    horizon_days: int = typer.Option(7, help="Days ahead"),
    history_days: int = typer.Option(180, help="Days of history to fit on"),
    cell_size_m: float = typer.Option(250.0, help="Cell size, metres"),
    top_share: float = typer.Option(0.05, help="Share of cells to return"),
) -> None:
    """The cells expected to be hottest over the next days: .geojson, .json or .csv."""
    from pingan.incidents.analysis.forecast import ForecastParams, forecast

    with cli_session() as session:
        _check_outputs(out, (".geojson", ".json", ".csv"))
        raw = _filters(session, None, until, types, org_unit, None, 0.0)
        raw.update(method=method, horizon_days=horizon_days, history_days=history_days,
                   cell_size_m=cell_size_m, top_share=top_share)  # fmt: skip
        params = _validated(ForecastParams, raw)
        actor = Principal.system(f"cli:{operator_name()}")
        doc = forecast(session, params, actor=actor)
        _write_features(out, doc)
    summary = doc["summary"]
    console.print(
        f"{summary['method']}: top {summary['returned']} of {summary['cells']:,} cells for "
        f"{summary['horizon_days']} days from {_local(summary['origin'])}"
    )
    if summary["model"]:
        model = summary["model"]
        console.print(
            f"self-exciting fit: theta = {model['theta']:.3f} offspring per event, "
            f"decay {model['omega_per_day']:.3f}/day ({model['iterations']} EM iterations)"
        )


@analyze_app.command("forecast-eval")
def forecast_eval_command(
    until: str | None = typer.Option(None, "--origin", help="End of the last held-out week"),
    types: list[str] = TYPES,
    org_unit: str | None = ORG_UNIT,
    weeks: int = typer.Option(8, help="Held-out weeks"),
    horizon_days: int = typer.Option(7, help="Days per held-out period"),
    history_days: int = typer.Option(180, help="Days of history to fit on"),
    cell_size_m: float = typer.Option(250.0, help="Cell size, metres"),
) -> None:
    """Hit rate and PAI at 1, 5 and 10 % of the area for every forecast method."""
    from pingan.incidents.analysis.forecast import EvaluationParams, evaluate

    with cli_session() as session:
        raw = _filters(session, None, until, types, org_unit, None, 0.0)
        raw.update(weeks=weeks, horizon_days=horizon_days, history_days=history_days,
                   cell_size_m=cell_size_m)  # fmt: skip
        params = _validated(EvaluationParams, raw)
        actor = Principal.system(f"cli:{operator_name()}")
        result = evaluate(session, params, actor=actor, weeks=params.weeks)
    table = Table("method", *[k for k in next(iter(result["mean"].values()))])
    for method, scores in result["mean"].items():
        table.add_row(method, *["-" if v is None else f"{v:.3f}" for v in scores.values()])
    console.print(table)
    console.print(
        f"{result['cells']:,} cells of {result['cell_size_m']:.0f} m; held-out events per "
        f"period: {result['held_out_events']}"
    )


def _validated(model: type[Filters], raw: dict[str, Any]) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ValidationFailed(f"{field}: {first['msg']}", field=field) from None
