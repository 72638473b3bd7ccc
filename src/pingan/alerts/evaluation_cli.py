"""``pingan eval early-warning``: score the early-warning methods on planted outbreaks."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pingan.alerts.evaluation import EvalConfig, evaluate, markdown_table
from pingan.kit.cli import console, err_console

eval_app = typer.Typer(help="Evaluation harnesses: how good the analytics are on known truth.")

START, END = "<!-- eval:early-warning -->", "<!-- /eval:early-warning -->"


def _write_block(path: Path, block: str) -> None:
    """Replace the marked block in ``path`` (or append it): reruns keep one current table."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    marked = f"{START}\n{block}\n{END}"
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: marked, text)
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + marked + "\n"
    path.write_text(text, encoding="utf-8")


@eval_app.command("early-warning")
def early_warning(
    scenarios: Annotated[int, typer.Option(min=1, help="Outbreak scenarios")] = 20,
    seed: Annotated[int, typer.Option(help="Random seed")] = 0,
    replications: Annotated[int, typer.Option(min=9, help="Scan Monte Carlo replications")] = 999,
    docs: Annotated[
        Path | None, typer.Option(help="Write the table into this Markdown file (marked block)")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the scores as JSON")
    ] = None,
) -> None:
    """Plant outbreaks of varied size, spread and duration; run every method day by day."""
    config = EvalConfig(scenarios=scenarios, seed=seed, scan_replications=replications)
    try:
        config.check()
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    columns = (TextColumn("scenarios"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("eval", total=scenarios)
        scores = evaluate(config, progress=lambda done, _: bar.update(task, completed=done))
    table = markdown_table(scores)
    console.print(table, markup=False)
    command = (
        f"pingan eval early-warning --scenarios {scenarios} --seed {seed} "
        f"--replications {replications}"
    )
    if docs is not None:
        _write_block(docs, f"Measured with `{command}`:\n\n{table}")
        console.print(f"table written to {docs}")
    if json_out is not None:
        rows = [s.row() for s in scores]
        json_out.write_text(json.dumps({"command": command, "scores": rows}, indent=2))
