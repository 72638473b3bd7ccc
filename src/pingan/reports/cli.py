"""``pingan report ...`` (briefings, safety index, campaigns) and ``pingan kpi``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from pingan.incidents.service import city_zone
from pingan.kit.cli import cli_session, console, err_console, operator_name
from pingan.kit.db import get_engine, session_scope, utcnow
from pingan.kit.errors import PinganError, ValidationFailed
from pingan.org.principal import Principal
from pingan.reports import briefings, campaigns, safety
from pingan.reports.jobs import set_sensitive_until
from pingan.reports.kpis import compute_kpis, unit_for
from pingan.reports.periods import BriefingKind, parse_period

report_app = typer.Typer(
    help="Briefings (HTML, PDF), the safety index and campaign evaluation.", no_args_is_help=True
)
campaign_app = typer.Typer(
    help="Campaigns: register one, evaluate its effect.", no_args_is_help=True
)
report_app.add_typer(campaign_app, name="campaign")


def _operator() -> Principal:
    return Principal.system(f"cli:{operator_name()}")


def _fail(exc: PinganError) -> typer.Exit:
    field = f" ({exc.field})" if exc.field else ""
    err_console.print(f"[red]error{field}:[/red] {exc.detail}")
    return typer.Exit(1)


def _date(value: str | None) -> dt.date:
    if value is None:
        return utcnow().astimezone(city_zone()).date() - dt.timedelta(days=1)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"cannot read date {value!r}: use YYYY-MM-DD", field="date"
        ) from None


@contextmanager
def _progress() -> Iterator[briefings.Progress]:
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("starting", total=1.0)

        def show(fraction: float, message: str = "") -> None:
            bar.update(task, completed=fraction, description=message or "working")

        yield show


def _briefing(
    kind: BriefingKind, unit: str, date: str | None, fmt: str, out: Path | None,
    lang: str, sensitive: bool,
) -> None:  # fmt: skip
    if fmt not in ("pdf", "html"):
        raise typer.BadParameter("format must be pdf or html", param_hint="--format")
    actor = _operator()
    engine = get_engine()
    try:
        day = _date(date)
        with session_scope(engine) as session:
            unit_id = unit_for(session, unit, actor).id
        with _progress() as show:
            briefing_id = briefings.generate(
                engine, kind=kind, unit_id=unit_id, day=day, actor=actor, sensitive=sensitive,
                lang=lang, pdf=fmt == "pdf", progress=show,
            )  # fmt: skip
        with session_scope(engine) as session:
            briefing = briefings.get_briefing(session, briefing_id, actor=actor)
            data: bytes = (
                briefings.pdf_of(session, briefing) if fmt == "pdf" else briefing.html.encode()
            )
            label = briefing.period_label.replace(" ", "_").replace(":", "")
            path = out or Path(f"briefing-{kind}-{unit}-{label}-v{briefing.version}.{fmt}")
            runs = briefing.params_dict().get("analysis_runs", {})
            version = briefing.version
    except PinganError as exc:
        raise _fail(exc) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    console.print(
        f"briefing {briefing_id} (version {version}, draft) written to {path}; "
        f"analysis runs: {', '.join(f'{k} #{v}' for k, v in runs.items()) or 'none'}"
    )


UNIT = typer.Option(..., "--unit", help="Org unit code, e.g. the city's or a district's")
DATE = typer.Option(None, "--date", help="A day in the period (YYYY-MM-DD); default yesterday")
FORMAT = typer.Option("pdf", "--format", help="pdf or html")
OUT = typer.Option(None, "--out", "-o", help="Output file")
LANG = typer.Option("zh", "--lang", help="zh or en")


@report_app.command("daily")
def daily(
    unit: str = UNIT, date: str | None = DATE, fmt: str = FORMAT, out: Path | None = OUT,
    lang: str = LANG,
    sensitive: bool = typer.Option(
        False, "--sensitive", help="Sensitive-period daily: 08:00 to 08:00 the next morning"
    ),
) -> None:  # fmt: skip
    """The daily briefing of --date; with --sensitive, the 24 h from its 08:00 to the next."""
    _briefing("daily", unit, date, fmt, out, lang, sensitive)


@report_app.command("weekly")
def weekly(
    unit: str = UNIT, date: str | None = DATE, fmt: str = FORMAT, out: Path | None = OUT,
    lang: str = LANG,
) -> None:  # fmt: skip
    """The weekly briefing of the ISO week holding --date."""
    _briefing("weekly", unit, date, fmt, out, lang, False)


@report_app.command("monthly")
def monthly(
    unit: str = UNIT, date: str | None = DATE, fmt: str = FORMAT, out: Path | None = OUT,
    lang: str = LANG,
) -> None:  # fmt: skip
    """The monthly briefing of the month holding --date."""
    _briefing("monthly", unit, date, fmt, out, lang, False)


@report_app.command("list")
def list_cmd(limit: int = typer.Option(30)) -> None:
    """Archived briefings, newest period first."""
    with cli_session() as session:
        table = Table("id", "kind", "unit", "period", "version", "status", "created")
        for b in briefings.list_briefings(session, actor=_operator(), limit=limit):
            table.add_row(str(b.id), b.kind, str(b.org_unit_id), b.period_label, str(b.version),
                          b.status, f"{b.created_at:%Y-%m-%d %H:%M}")  # fmt: skip
        console.print(table)


@report_app.command("comment")
def comment(briefing_id: int, body: str, section: str = typer.Option("general")) -> None:
    """Add an analyst's comment to a draft briefing."""
    with cli_session() as session:
        briefings.add_comment(session, briefing_id, body=body, section=section, actor=_operator())
    console.print(f"comment added to briefing {briefing_id}")


@report_app.command("publish")
def publish(briefing_id: int) -> None:
    """Publish a draft briefing: no more comments; its PDF is made on first download."""
    with cli_session() as session:
        b = briefings.publish(session, briefing_id, actor=_operator())
        console.print(f"briefing {b.id} version {b.version} published")


@report_app.command("sensitive")
def sensitive(
    until: str | None = typer.Option(None, "--until", help="Last day of the sensitive period"),
    off: bool = typer.Option(False, "--off", help="End the sensitive period"),
) -> None:
    """Declare a sensitive period: daily briefings are made every morning until it ends."""
    if off == (until is not None):
        raise typer.BadParameter("give either --until D or --off")
    with cli_session() as session:
        day = None if off else _date(until)
        set_sensitive_until(session, day, actor=_operator())
    console.print("sensitive period ended" if off else f"sensitive period until {day}")


@report_app.command("safety")
def safety_cmd(
    unit: str = UNIT,
    level: str = typer.Option("subdistrict", help="subdistrict or community"),
    period: str = typer.Option(..., "--period", help="2026-11 (month), 2026-W48 or 2026-11-28"),
    weight: list[str] = typer.Option([], "--weight", help="component=weight, repeatable"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The safety index of every subdistrict or community in a unit, best first."""
    weights: dict[str, float] = {}
    for item in weight:
        name, _, value = item.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            raise typer.BadParameter(
                f"cannot read weight {item!r}", param_hint="--weight"
            ) from None
    with cli_session() as session:
        actor = _operator()
        rows = safety.safety_index(
            session, actor=actor, parent=unit_for(session, unit, actor), level=level,
            period=parse_period(period), weights=weights,
        )  # fmt: skip
    if as_json:
        console.print_json(json.dumps([r.as_dict() for r in rows]))
        return
    names = list(safety.DEFAULT_WEIGHTS)
    short = {"violent": "viol.", "property": "prop.", "disorder": "order", "cases_on_time": "cases",
             "response": "resp."}  # fmt: skip
    table = Table("unit", "name", "index", "stars", "change", *(short[n] for n in names))
    for r in rows:
        scores = [
            "—" if r.components[n]["score"] is None else f"{r.components[n]['score']:.0f}"
            for n in names
        ]
        table.add_row(
            r.code, r.name_zh, "—" if r.index is None else f"{r.index:.1f}",
            "★" * (r.stars or 0), "—" if r.change is None else f"{r.change:+.1f}", *scores,
        )  # fmt: skip
    console.print(table)


@campaign_app.command("add")
def campaign_add(
    name: str,
    unit: str = UNIT,
    types: list[str] = typer.Option(..., "--type", help="Incident type code, repeatable"),
    starts: str = typer.Option(..., "--from", help="First day (YYYY-MM-DD)"),
    ends: str = typer.Option(..., "--to", help="Last day (YYYY-MM-DD)"),
    area: Path | None = typer.Option(None, "--area", help="GeoJSON Polygon; default: the unit"),
    band_m: float = typer.Option(500.0, "--band-m", help="Width of the displacement band"),
) -> None:  # fmt: skip
    """Register a campaign (special rectification) over an area and dates."""
    geometry = None
    if area is not None:
        try:
            doc = json.loads(area.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise typer.BadParameter(f"cannot read {area}: {exc}", param_hint="--area") from None
        if doc.get("type") == "FeatureCollection":
            doc = doc["features"][0]["geometry"] if doc.get("features") else {}
        geometry = doc.get("geometry", doc) if doc.get("type") == "Feature" else doc
    with cli_session() as session:
        actor = _operator()
        c = campaigns.register_campaign(
            session, name=name, unit=unit_for(session, unit, actor), types=types,
            starts_on=_date(starts), ends_on=_date(ends), area=geometry, band_m=band_m, actor=actor,
        )  # fmt: skip
        console.print(f"campaign {c.id} registered")


@campaign_app.command("evaluate")
def campaign_evaluate(
    campaign_id: int,
    step_days: int = typer.Option(7, help="Days per time step"),
    controls: int = typer.Option(campaigns.DEFAULT_CONTROLS, help="Control grids"),
    cluster: bool = typer.Option(False, "--cluster", help="Cluster-robust errors by area"),
) -> None:
    """Difference-in-differences against control grids, and the displacement check."""
    with cli_session() as session:
        out = campaigns.evaluate(
            session, campaign_id, actor=_operator(), step_days=step_days, controls=controls,
            se="cluster" if cluster else "classical",
        )  # fmt: skip
    e = out["effect"]
    console.print(
        f"effect {e['effect']:+.3f} {out['units']} "
        f"({e['confidence']:.0%} CI {e['ci_low']:+.3f} to {e['ci_high']:+.3f}, "
        f"p={e['p_value']:.3g})"
    )
    if e["relative_effect"] is not None:
        console.print(f"relative to the counterfactual: {e['relative_effect']:+.1%}")
    if "band" in out:
        b = out["band"]["effect"]
        console.print(
            f"band {out['band']['band_m']:g} m: {b['effect']:+.3f} "
            f"(CI {b['ci_low']:+.3f} to {b['ci_high']:+.3f}) — {out['band']['verdict']}"
        )


def kpi_command(
    unit: str = UNIT,
    period: str = typer.Option(..., "--period", help="2026-11 (month), 2026-W48 or 2026-11-28"),
    code: list[str] = typer.Option([], "--code", help="Only these KPIs (repeatable)"),
    records: bool = typer.Option(False, "--records", help="List the records each figure counted"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """KPIs of an org unit over a period; each figure can list the records it counted."""
    with cli_session() as session:
        actor = _operator()
        target = unit_for(session, unit, actor)
        span = parse_period(period)
        with _progress() as show:
            values = compute_kpis(
                session, actor=actor, unit=target, period=span, codes=code or None, progress=show
            )
    if as_json:
        doc = {
            "unit": unit,
            "period": {"label": span.label, "start": span.start.isoformat(),
                       "end": span.end.isoformat()},
            "kpis": [v.as_dict(with_records=records) for _, v in values],
        }  # fmt: skip
        console.print_json(json.dumps(doc, default=str))
        return
    table = Table("kpi", "value", "records", "note", title=f"{unit} · {span.label}")
    for definition, value in values:
        shown = "—" if value.value is None else f"{value.value:g}"
        if definition.units == "share" and value.value is not None:
            shown = f"{value.value:.1%}"
        table.add_row(definition.title_en, shown, str(len(value.records)), value.note)
    console.print(table)
    if records:
        for _, value in values:
            if value.records:
                head = ", ".join(str(r) for r in value.records[:50])
                more = f" … (+{len(value.records) - 50})" if len(value.records) > 50 else ""
                console.print(f"{value.code} [{value.record_kind}]: {head}{more}")
