"""The assessment report: HTML from a jinja2 template, PDF by WeasyPrint with a CJK font."""

from __future__ import annotations

import importlib
import json
import logging
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from pingan.cases.calendar import load_calendar
from pingan.cases.service import category_codes
from pingan.governance import assessments_rules, assessments_service
from pingan.governance.assessments_rules import DIMENSIONS
from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.org.principal import Principal

TEMPLATES = Path(__file__).parent / "templates"
# Debian's fonts-wqy-microhei; embedded so the PDF reads the same everywhere.
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")

LEVEL_NAMES = {"high": "高风险 High", "medium": "中风险 Medium", "low": "低风险 Low"}
GATES = {
    "high": "高风险：不予实施。High risk: the decision is not implemented.",
    "medium": "中风险：暂缓实施，落实防范措施后重新评估。"
    "Medium risk: postponed until mitigations are recorded and it is reassessed.",
    "low": "低风险：可以实施，同时落实风险控制措施。"
    "Low risk: may be implemented with its controls.",
}
DIMENSION_NAMES = {
    "legality": "合法性 Legality",
    "reasonableness": "合理性 Reasonableness",
    "feasibility": "可行性 Feasibility",
    "controllability": "可控性 Controllability",
}
DECISIONS = {"implement": "决定实施 Implement", "not_implement": "决定不实施 Not implemented"}

_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))


def _context(session: Session, number: str, actor: Principal) -> dict[str, Any]:
    case, a = assessments_service.get(session, number, actor=actor)
    zone = load_calendar(session).zone  # times in the report are the city's
    consultations, scores, mitigations, monitoring = assessments_service.records(session, a)
    panel = assessments_service.panel(session, a)
    rounds = []
    for rnd in sorted({s.round for s in scores}):
        cells = {(s.expert_id, s.dimension): s for s in scores if s.round == rnd}
        means = {}
        for d in DIMENSIONS:
            values = [s.score for (e, dim), s in cells.items() if dim == d]
            if values:
                means[d] = sum(values) / len(values)
        rounds.append({"round": rnd, "cells": cells, "means": means})
    audit.record(
        session, actor=actor.actor, action="assessments.report", object_type="case",
        object_id=case.number,
    )  # fmt: skip
    return {
        "a": {
            "number": case.number,
            "category": category_codes(session, {case.category_id})[case.category_id],
            "project": a.project,
            "proposing_org": a.proposing_org,
            "address": case.address,
            "state": case.state,
            "round": a.round,
            "risk_level": a.risk_level,
            "risk_reasons": json.loads(a.risk_reasons),
            "decision": a.decision,
            "decision_body": a.decision_body,
            "decision_ref": a.decision_ref,
            "decided_at": a.decided_at,
        },
        "gate": GATES.get(a.risk_level or "", ""),
        "rules": (assessments_rules.__doc__ or "").strip(),
        "panel": panel,
        "consultations": consultations,
        "rounds": rounds,
        "mitigations": mitigations,
        "monitoring": monitoring,
        "dimensions": DIMENSIONS,
        "dimension_names": DIMENSION_NAMES,
        "level_names": LEVEL_NAMES,
        "decision_names": DECISIONS,
        "generated": f"{utcnow().astimezone(zone):%Y-%m-%d %H:%M}",
        "when": lambda t: "—" if t is None else f"{t.astimezone(zone):%Y-%m-%d %H:%M}",
    }


def report_html(session: Session, *, number: str, actor: Principal, font_url: str = "") -> str:
    context = _context(session, number, actor)
    return _env.get_template("assessment_report.html").render(font_url=font_url, **context)


def report_pdf(session: Session, *, number: str, actor: Principal) -> bytes:
    # Imported when a PDF is asked for (heavy); by name, as it ships no type hints.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)  # not per-step chatter
    weasyprint = importlib.import_module("weasyprint")
    font_url = CJK_FONT.as_uri() if CJK_FONT.exists() else ""
    html = report_html(session, number=number, actor=actor, font_url=font_url)
    pdf = weasyprint.HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    assert pdf is not None
    return bytes(pdf)
