"""``pingan cameras health``: heartbeat files, the offline check, outages, availability, probes.

Importing this module adds the ``health`` group to ``pingan cameras``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pingan.cameras import health, health_intake, health_probe
from pingan.cameras.cli import cameras_app
from pingan.cameras.health_availability import GroupBy, availability
from pingan.kit.cli import cli_session, console, err_console, operator_name
from pingan.kit.db import get_engine
from pingan.org.levels import Level
from pingan.org.principal import Principal

health_app = typer.Typer(
    help="Camera health: heartbeats, offline detection, outages, availability, ONVIF probe.",
    no_args_is_help=True,
)
cameras_app.add_typer(health_app, name="health")

_CHUNK = 50_000


def _actor() -> Principal:
    return Principal.system(operator_name())


def _when(text: str | None, name: str) -> dt.datetime | None:
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO 8601 time", param_hint=name) from None
    if value.tzinfo is None:
        raise typer.BadParameter("give a time zone offset, e.g. Z or +08:00", param_hint=name)
    return value


def _read_rows(path: Path) -> tuple[list[Any], list[health_intake.Rejected]]:
    """NDJSON (.ndjson, .jsonl), a JSON array (.json) or CSV with a header."""
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix in (".ndjson", ".jsonl"):
        return health_intake.parse_body(data, ndjson=True)
    if suffix == ".json":
        return health_intake.parse_body(data, ndjson=False)
    rows: list[Any] = []
    for record in csv.DictReader(io.StringIO(data.decode("utf-8-sig"))):
        rows.append(_csv_row(record))
    return rows, []


def _csv_row(record: dict[str, str]) -> dict[str, Any]:
    def number(text: str | None) -> Any:
        if text is None or text.strip() == "":
            return None
        try:
            return float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:
            return text

    online = (record.get("online") or "").strip().lower()
    at = (record.get("at") or "").strip()
    return {
        "camera_id": number(record.get("camera_id")),
        "at": number(at) if at.replace(".", "", 1).isdigit() else at,
        "online": {"true": True, "1": True, "false": False, "0": False}.get(online, online),
        "fps": number(record.get("fps")),
        "bitrate_kbps": number(record.get("bitrate_kbps")),
    }


@health_app.command("ingest")
def ingest(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="NDJSON, JSON or CSV")],
) -> None:
    """Apply a file of heartbeats; bad rows are listed by line number and the rest kept."""
    rows, bad = _read_rows(path)
    first_line = 2 if path.suffix.lower() not in (".ndjson", ".jsonl", ".json") else 1
    rejected = list(bad)
    accepted = 0
    skip = {r.index for r in bad}
    with (
        Progress(
            TextColumn("heartbeats"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console,
        ) as progress,
        cli_session() as session,
    ):  # fmt: skip
        task = progress.add_task("ingest", total=len(rows))
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            local_skip = {i - start for i in skip if start <= i < start + _CHUNK}
            beats, invalid = health_intake.validate(chunk, skip=local_skip)
            report = health_intake.ingest(session, beats, actor=_actor())
            for r in invalid + report.rejected:
                rejected.append(health_intake.Rejected(r.index + start, r.field, r.reason))
            accepted += report.accepted
            progress.advance(task, len(chunk))
    for r in sorted(rejected, key=lambda r: r.index)[:50]:
        where = f" ({r.field})" if r.field else ""
        err_console.print(f"line {r.index + first_line}{where}: {r.reason}")
    if len(rejected) > 50:
        err_console.print(f"... and {len(rejected) - 50} more rejected rows")
    console.print(f"{accepted} heartbeats applied, {len(rejected)} rejected")


@health_app.command("check")
def check(
    now: Annotated[str | None, typer.Option(help="Pretend it is this time (ISO 8601)")] = None,
    silence: Annotated[
        int | None, typer.Option(help="Seconds of silence that count as offline")
    ] = None,
) -> None:
    """Mark silent cameras offline and send the reminders that are due."""
    with cli_session() as session:
        report = health.check(
            session, now=_when(now, "--now"), actor=_actor(),
            silence=None if silence is None else dt.timedelta(seconds=silence),
        )  # fmt: skip
    console.print(
        f"{len(report.went_silent)} cameras went silent; notices: "
        + ", ".join(f"{k} {v}" for k, v in report.notices.items())
    )


@health_app.command("status")
def status(
    state: Annotated[str | None, typer.Option(help="online, offline or unknown")] = None,
    network: Annotated[str | None, typer.Option(help="Only this network")] = None,
    limit: Annotated[int, typer.Option(help="At most this many")] = 50,
) -> None:
    """Live state of cameras, by id."""
    with cli_session() as session:
        found = health.list_health(
            session, actor=_actor(), state=state, network=network, limit=limit
        )
    table = Table("camera", "network", "state", "since", "last seen", "fps", "kbps", "reports")
    for h in found:
        table.add_row(
            str(h.camera_id), h.network, h.state, _fmt(h.state_since), _fmt(h.last_seen_at),
            "" if h.fps is None else f"{h.fps:g}",
            "" if h.bitrate_kbps is None else f"{h.bitrate_kbps:g}", str(h.reports),
        )  # fmt: skip
    console.print(table)


@health_app.command("summary")
def summary(
    geojson: Annotated[
        Path | None, typer.Option("--geojson", help="Also write the offline cameras here")
    ] = None,
) -> None:
    """Active cameras per network: online, offline, never heard from."""
    with cli_session() as session:
        rows = health.summary(session, actor=_actor())
        layer = health.offline_features(session, actor=_actor()) if geojson else None
    table = Table("network", "online", "offline", "unknown")
    for r in rows:
        table.add_row(r["network"], str(r["online"]), str(r["offline"]), str(r["unknown"]))
    console.print(table)
    if geojson is not None and layer is not None:
        geojson.write_text(json.dumps(layer, ensure_ascii=False))
        console.print(f"{len(layer['features'])} offline cameras written to {geojson}")


@health_app.command("outages")
def outages(
    open_only: Annotated[bool, typer.Option("--open", help="Only outages still going on")] = False,
    camera: Annotated[int | None, typer.Option(help="Only this camera")] = None,
    limit: Annotated[int, typer.Option(help="At most this many")] = 50,
) -> None:
    """Outages, newest first, with the notices sent."""
    with cli_session() as session:
        found = health.list_outages(
            session, actor=_actor(), open_only=open_only, camera_id=camera, limit=limit
        )
    table = Table("id", "camera", "cause", "started", "ended", "notices")
    for o in found:
        table.add_row(
            str(o.id), str(o.camera_id), o.cause, _fmt(o.started_at), _fmt(o.ended_at),
            ", ".join(f"{k} -> {r}" for k, r, _ in o.notices),
        )  # fmt: skip
    console.print(table)


@health_app.command("availability")
def availability_(
    since: Annotated[str, typer.Option(help="Start of the period (ISO 8601 with offset)")],
    until: Annotated[str | None, typer.Option(help="End of the period (default now)")] = None,
    by: Annotated[GroupBy, typer.Option(help="camera, network, owner or area")] = GroupBy.NETWORK,
    level: Annotated[Level, typer.Option(help="Org level for --by area")] = Level.DISTRICT,
    output: Annotated[Path | None, typer.Option("-o", help="Write JSON here")] = None,
) -> None:
    """Uptime % and MTTR over a period."""
    start = _when(since, "--since")
    assert start is not None
    with cli_session() as session:
        rows = availability(
            session, actor=_actor(), since=start, until=_when(until, "--until"), group_by=by,
            level=level,
        )  # fmt: skip
    if output is not None:
        output.write_text(json.dumps([r.__dict__ for r in rows], ensure_ascii=False, indent=1))
    table = Table(by.value, "cameras", "uptime %", "down h", "outages", "repaired", "MTTR min")
    for r in rows:
        table.add_row(
            r.label, str(r.cameras), "" if r.uptime_pct is None else f"{r.uptime_pct:.3f}",
            f"{r.down_hours:.2f}", str(r.outages), str(r.repaired),
            "" if r.mttr_minutes is None else f"{r.mttr_minutes:.1f}",
        )  # fmt: skip
    console.print(table)


@health_app.command("probe")
def probe(
    camera_id: Annotated[
        int | None, typer.Argument(help="Camera to probe (omit with --all)")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Record this ONVIF host first")] = None,
    port: Annotated[int, typer.Option(help="ONVIF port")] = 80,
    timeout: Annotated[float, typer.Option(help="Seconds to wait")] = 3.0,
    all_: Annotated[bool, typer.Option("--all", help="Probe every recorded camera")] = False,
) -> None:
    """ONVIF GetSystemDateAndTime: online if the camera answers within the timeout."""
    if all_:
        result = health_probe.probe_all(get_engine(), timeout_s=timeout)
        console.print(f"{result['probed']} probed: {result['ok']} ok, {result['failed']} failed")
        return
    if camera_id is None:
        raise typer.BadParameter("give a camera id or --all")
    with cli_session() as session:
        if host is not None:
            health_probe.set_target(
                session, camera_id=camera_id, host=host, port=port, actor=_actor()
            )
        answer = health_probe.probe_camera(
            session, camera_id=camera_id, actor=_actor(), timeout_s=timeout
        )
    if answer.ok:
        offset = (
            ""
            if answer.clock_offset_s is None
            else f", clock off by {answer.clock_offset_s:+.1f} s"
        )
        console.print(f"camera {camera_id}: online ({answer.latency_ms:.0f} ms{offset})")
    else:
        console.print(f"camera {camera_id}: no answer ({answer.error})")
        raise typer.Exit(2)


def _fmt(when: dt.datetime | None) -> str:
    return "" if when is None else when.isoformat(timespec="seconds")
