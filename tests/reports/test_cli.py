"""``pingan kpi`` and ``pingan report ...`` against the test database."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, select
from typer.testing import CliRunner

from pingan.cli import app
from pingan.kit.db import session_scope
from pingan.reports.models import Briefing
from tests.reports.conftest import Planted


def test_kpi_command(engine: Engine, planted: Planted) -> None:
    runner = CliRunner()
    out = runner.invoke(
        app, ["kpi", "--unit", "DW", "--period", "2026-10", "--code", "incidents.total",
              "--records", "--json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    (total,) = doc["kpis"]
    assert total["value"] == 13
    assert total["records"] == planted.october("W1", "W2")
    table = runner.invoke(app, ["kpi", "--unit", "C", "--period", "2026-10"])
    assert table.exit_code == 0, table.output
    assert "Incidents" in table.output and "Camera" in table.output
    bad = runner.invoke(app, ["kpi", "--unit", "C", "--period", "last month"])
    assert bad.exit_code == 1 and "cannot read period" in bad.output
    missing = runner.invoke(app, ["kpi", "--unit", "NOPE", "--period", "2026-10"])
    assert missing.exit_code == 1 and "not found" in missing.output
    _check_safety_and_sensitive_commands()


def test_report_monthly_html_and_archive(engine: Engine, planted: Planted, tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "west.html"
    out = runner.invoke(
        app, ["report", "monthly", "--unit", "C", "--date", "2026-10-05", "--format", "html",
              "-o", str(target)],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    html = target.read_text(encoding="utf-8")
    assert "月度治安简报" in html and "data:image/png;base64," in html
    with session_scope(engine) as session:
        briefing = session.scalars(select(Briefing)).one()
        assert briefing.pdf is None  # HTML asked for: no PDF rendered
    listed = runner.invoke(app, ["report", "list"])
    assert listed.exit_code == 0 and "2026-10" in listed.output
    commented = runner.invoke(app, ["report", "comment", str(briefing.id), "趋势平稳"])
    assert commented.exit_code == 0, commented.output
    published = runner.invoke(app, ["report", "publish", str(briefing.id)])
    assert published.exit_code == 0 and "published" in published.output
    again = runner.invoke(app, ["report", "publish", str(briefing.id)])
    assert again.exit_code == 1 and "already published" in again.output
    bad = runner.invoke(app, ["report", "daily", "--unit", "C", "--date", "28/11/2026"])
    assert bad.exit_code == 1 and "YYYY-MM-DD" in bad.output
    fmt = runner.invoke(app, ["report", "daily", "--unit", "C", "--format", "docx"])
    assert fmt.exit_code != 0
    _check_campaign_commands(tmp_path)


def _check_campaign_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    area = tmp_path / "area.geojson"
    ring = [[120.001, 30.001], [120.019, 30.001], [120.019, 30.019], [120.001, 30.019],
            [120.001, 30.001]]  # fmt: skip
    polygon = {"type": "Polygon", "coordinates": [ring]}
    area.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": polygon}))
    added = runner.invoke(
        app, ["report", "campaign", "add", "West thefts", "--unit", "DW", "--type", "theft",
              "--from", "2026-10-01", "--to", "2026-10-28", "--area", str(area), "--band-m", "0"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    campaign_id = added.output.split()[1]
    evaluated = runner.invoke(app, ["report", "campaign", "evaluate", campaign_id,
                                    "--controls", "2"])  # fmt: skip
    assert evaluated.exit_code == 0, evaluated.output
    assert "effect" in evaluated.output and "CI" in evaluated.output
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json")
    bad = runner.invoke(
        app, ["report", "campaign", "add", "x", "--unit", "DW", "--type", "theft",
              "--from", "2026-10-01", "--to", "2026-10-28", "--area", str(broken)],
    )  # fmt: skip
    assert bad.exit_code != 0 and "cannot read" in bad.output


def _check_safety_and_sensitive_commands() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["report", "safety", "--unit", "C", "--period", "2026-10", "--json"])
    assert out.exit_code == 0, out.output
    assert {r["code"] for r in json.loads(out.output)} == {"SW", "SE"}
    on = runner.invoke(app, ["report", "sensitive", "--until", "2026-12-31"])
    assert on.exit_code == 0 and "2026-12-31" in on.output
    off = runner.invoke(app, ["report", "sensitive", "--off"])
    assert off.exit_code == 0 and "ended" in off.output
    both = runner.invoke(app, ["report", "sensitive"])
    assert both.exit_code != 0
