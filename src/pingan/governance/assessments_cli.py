"""``pingan assessments ...``: expert pool, one assessment, its report."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from pingan.governance import assessments_service as service
from pingan.governance.assessments_report import report_html, report_pdf
from pingan.governance.assessments_schemas import ExpertIn
from pingan.kit.cli import cli_session, console, operator_name
from pingan.org.principal import Principal

assessments_app = typer.Typer(
    help="Decision risk assessments: experts, ratings, reports.", no_args_is_help=True
)


def _operator() -> Principal:
    return Principal.system(f"cli:{operator_name()}")


@assessments_app.command("seed-categories")
def seed_categories() -> None:
    """Create the assessment categories that are missing."""
    with cli_session() as session:
        console.print(f"{service.ensure_categories(session)} assessment categories added")


@assessments_app.command("experts")
def experts() -> None:
    """List the expert pool."""
    with cli_session() as session:
        table = Table("id", "name", "field", "affiliation", "active", title="Expert pool")
        for e in service.list_experts(session, actor=_operator()):
            table.add_row(str(e.id), e.name, e.field, e.affiliation, "yes" if e.active else "no")
        console.print(table)


@assessments_app.command("add-expert")
def add_expert(
    name: str = typer.Argument(...),
    field: str = typer.Option(..., help="law, planning, finance, environment, social ..."),
    affiliation: str = typer.Option(..., help="The organisation the expert works for"),
) -> None:
    """Add an expert to the pool."""
    with cli_session() as session:
        expert = service.add_expert(
            session,
            expert_in=ExpertIn(name=name, field=field, affiliation=affiliation),
            actor=_operator(),
        )
        console.print(f"expert {expert.id} added")


@assessments_app.command("list")
def list_cmd(state: str | None = typer.Option(None, help="e.g. assessing, postponed")) -> None:
    """Assessments with their state, risk level and decision."""
    with cli_session() as session:
        table = Table(title="Risk assessments")
        table.add_column("number", no_wrap=True)
        for name in ("project", "proposed by", "state", "round", "risk", "decision"):
            table.add_column(name)
        for c, a in service.list_assessments(session, actor=_operator(), state=state):
            table.add_row(c.number, a.project, a.proposing_org, c.state, str(a.round),
                          a.risk_level or "-", a.decision or "-")  # fmt: skip
        console.print(table)


@assessments_app.command("show")
def show(number: str) -> None:
    """One assessment: state, level, panel, scores, decision."""
    with cli_session() as session:
        case, a = service.get(session, number, actor=_operator())
        console.print(f"[bold]{case.number}[/bold] {a.project} — {case.state}, round {a.round}")
        console.print(f"  proposed by {a.proposing_org}; risk level {a.risk_level or '-'}")
        for e in service.panel(session, a):
            console.print(f"  panel: {e.name} ({e.field}, {e.affiliation})")
        if a.decision:
            console.print(f"  decision: {a.decision} by {a.decision_body} {a.decision_ref}")


@assessments_app.command("report")
def report(
    number: str,
    out: Path = typer.Option(..., help="Output file; .pdf for PDF, anything else for HTML"),
) -> None:
    """Write the assessment report as HTML or PDF."""
    with cli_session() as session:
        if out.suffix.lower() == ".pdf":
            out.write_bytes(report_pdf(session, number=number, actor=_operator()))
        else:
            out.write_text(report_html(session, number=number, actor=_operator()), "utf-8")
        console.print(f"wrote {out}")
