"""The evaluation harness: a huge outbreak is found by every method; without one, the scan
keeps its nominal false-alarm rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from pingan.alerts.evaluation import METHODS, EvalConfig, draw_scenario, evaluate
from pingan.cli import app

FAST = EvalConfig(scenarios=2, seed=3, scan_replications=99, scan_max_p=0.05)


def test_planted_outbreak_adds_exactly_its_cases() -> None:
    config = EvalConfig(sizes=(37,), radii=(1,), durations=(5,))
    with_ob = draw_scenario(config, np.random.default_rng(5), plant=True)
    without = draw_scenario(config, np.random.default_rng(5), plant=False)
    ob = with_ob.outbreak
    assert ob is not None and without.outbreak is None
    extra = with_ob.counts - without.counts
    assert extra.sum() == 37 and extra.min() >= 0
    days, cells = np.nonzero(extra)
    assert set(cells) <= set(ob.cells) and days.min() >= ob.first_day
    assert ob.first_day + ob.days == with_ob.counts.shape[0]


def test_every_method_detects_a_huge_outbreak() -> None:
    config = EvalConfig(
        scenarios=2, seed=3, scan_replications=99, scan_max_p=0.05, sizes=(400,), radii=(0,),
        durations=(4,),
    )  # fmt: skip
    scores = evaluate(config)
    assert [s.method for s in scores] == list(METHODS)
    for score in scores:
        assert score.outbreaks == 2
        assert score.detection_probability == 1.0, score.method
        assert score.median_delay <= 1.0, score.method


def test_without_outbreaks_the_scan_alarms_at_its_nominal_rate() -> None:
    # Under the null each day's scan p-value is uniform on {1/100, ..., 1}: P(p <= 0.05) = 0.05.
    config = EvalConfig(scenarios=8, seed=7, scan_replications=99, scan_max_p=0.05, durations=(3,))
    [scan] = evaluate(config, plant=False, methods=("scan",))
    assert scan.outbreaks == 0 and scan.days == 8 * 14
    low, high = stats.binom.interval(0.999, scan.days, 0.05)
    assert low <= scan.false_alarms <= high
    assert scan.nominal_per_year == pytest.approx(365 * 0.05)


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="eval_days"):
        evaluate(EvalConfig(eval_days=3, durations=(7,)))
    with pytest.raises(ValueError, match="unknown method"):
        evaluate(FAST, methods=("scan", "oracle"))


def test_cli_writes_the_table_into_the_docs(tmp_path: Path) -> None:
    doc = tmp_path / "analytics.md"
    doc.write_text("# Analytics\n\nIntro.\n")
    args = ["eval", "early-warning", "--scenarios", "1", "--seed", "2", "--replications", "19"]
    for _ in range(2):  # a rerun replaces the block instead of adding another
        ran = CliRunner().invoke(app, [*args, "--docs", str(doc)])
        assert ran.exit_code == 0, ran.output
    text = doc.read_text()
    assert text.startswith("# Analytics\n\nIntro.\n")
    assert text.count("<!-- eval:early-warning -->") == 1
    assert "--scenarios 1 --seed 2 --replications 19" in text
    assert all(f"| {m} |" in text for m in METHODS)
    bad = CliRunner().invoke(app, ["eval", "early-warning", "--scenarios", "0"])
    assert bad.exit_code != 0
