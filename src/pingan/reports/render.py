"""Briefing HTML (jinja2) and PDF (WeasyPrint) from a briefing's stored content.

The content holds every figure and the charts as PNG (base64), so a briefing
re-renders identically after comments are added or it is published.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from pingan.reports.fonts import CJK_FAMILY, font_face_css
from pingan.reports.i18n import CASE_TYPES, text

TEMPLATES = Path(__file__).parent / "templates"
FONT_STACK = (
    f'"{CJK_FAMILY}", "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", '
    '"Microsoft YaHei", "DejaVu Sans", sans-serif'
)

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _css_string(value: object) -> Markup:
    """Text for inside a double-quoted CSS string in a <style> element (no HTML escaping there)."""
    raw = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3C ")
    return Markup(raw.replace("\n", " "))


_env.filters["css"] = _css_string


def _delta(change: dict[str, Any] | None, t: dict[str, str]) -> dict[str, Any] | None:
    if change is None:
        return None
    if change.get("p_value") is None:
        return {"text": t["no_data"], "direction_class": "muted", "significant": False}
    ratio = change.get("ratio")
    pct = "" if ratio is None else f" ({(ratio - 1) * 100:+.0f}%)"
    mark = f" {t['significant']}" if change.get("significant") else ""
    sign = f"{change['change']:+d}" if isinstance(change.get("change"), int) else ""
    return {
        "text": f"{sign}{pct} {_p(change['p_value'])}{mark}",
        "direction_class": change.get("direction", "flat") if change.get("significant") else "",
        "significant": bool(change.get("significant")),
    }


def _p(value: float) -> str:
    return "p<0.001" if value < 0.001 else f"p={value:.2g}"


def view_model(
    content: dict[str, Any], comments: list[dict[str, Any]], lang: str
) -> dict[str, Any]:
    """What the template shows: the stored figures with wording in ``lang``."""
    t = text(lang)
    name_key = "name_zh" if lang == "zh" else "name_en"
    figures = []
    for k in content.get("key_figures", []):
        figures.append(
            {
                **k,
                "note": t.get(k.get("note", ""), k.get("note", "")),
                "title": k["title_zh"] if lang == "zh" else k["title_en"],
                "previous": _delta(k.get("previous"), t),
                "last_year": _delta(k.get("last_year"), t),
            }
        )
    by_type = [
        {
            "name": r[name_key],
            "count": r["count"],
            "previous": _delta(r["previous"], t),
            "last_year": _delta(r["last_year"], t),
        }
        for r in content.get("by_type", [])
    ]
    top = []
    for r in content.get("top_changes", []):
        delta = _delta(r["change"], t) or {}
        top.append(
            {
                "name": r[name_key],
                "text": delta.get("text", ""),
                "direction_class": delta.get("direction_class", ""),
                "significant": delta.get("significant", False),
                "against": t["vs_previous"] if r["against"] == "previous" else t["vs_last_year"],
            }
        )
    hotspots = {
        which: [
            {"name": g.get(name_key) or g.get("code")}
            for g in content.get("hotspots", {}).get(which, [])
        ]
        for which in ("new", "persisting")
    }
    incidents = [
        {**i, "type": i["type_zh"] if lang == "zh" else i["type_en"], "grid": i[f"grid_{lang}"]}
        for i in content.get("notable_incidents", [])
    ]
    kinds = CASE_TYPES.get(lang, CASE_TYPES["en"])
    overdue = content.get("overdue_cases")
    if overdue is not None:
        overdue = [
            {**r, "title": kinds.get(r["title"], r["title"])}
            if r.get("title") == r.get("case_type")
            else r
            for r in overdue
        ]
    model = dict(content)
    model.update(
        overdue_cases=overdue,
        key_figures=figures,
        by_type=by_type,
        top_changes=top,
        hotspots=hotspots,
        notable_incidents=incidents,
    )
    kind = content["kind"]
    title_key = "daily_sensitive" if kind == "daily" and content.get("sensitive") else kind
    unit = content["unit"]
    return {
        "c": model,
        "t": t,
        "lang": lang,
        "title": t[title_key],
        "unit_name": unit[name_key],
        "images": content.get("images", {}),
        "comments": comments,
    }


def render_html(
    content: dict[str, Any], comments: list[dict[str, Any]], lang: str, *, for_pdf: bool = False
) -> str:
    model = view_model(content, comments, lang)
    template = _env.get_template("briefing.html.j2")
    # The PDF names installed faces only: fontconfig answers an unknown family with a serif.
    family = f'"{CJK_FAMILY}", "DejaVu Sans", sans-serif' if for_pdf else FONT_STACK
    return template.render(
        **model, family=Markup(family), font_css=Markup(font_face_css() if for_pdf else "")
    )


def render_pdf(content: dict[str, Any], comments: list[dict[str, Any]], lang: str) -> bytes:
    import importlib

    # WeasyPrint ships no type information.
    weasyprint: Any = importlib.import_module("weasyprint")
    html = render_html(content, comments, lang, for_pdf=True)
    pdf = weasyprint.HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    assert pdf is not None
    return bytes(pdf)
