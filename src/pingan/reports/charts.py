"""Charts and static maps for briefings, drawn with matplotlib from the city's own layers.

Maps are drawn in the city's metric projection: the unit's sub-unit
boundaries and main roads as the base, then the heat surface (a stored
analysis run) or the hotspot classes on top. Everything returns PNG bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from pingan.kit.geo import Projector
from pingan.reports.fonts import configure_matplotlib

DPI = 150
HOT_COLOURS = {
    3: "#b2182b",
    2: "#ef8a62",
    1: "#fddbc7",
    -1: "#d1e5f0",
    -2: "#67a9cf",
    -3: "#2166ac",
}


def _figure(width_in: float, height_in: float) -> Any:
    configure_matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=DPI)


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.05)
    return buffer.getvalue()


def bar_by_type(rows: Sequence[dict[str, Any]], *, labels: dict[str, str], lang: str) -> bytes:
    """Horizontal bars: this period, the previous one and last year, per incident type."""
    rows = list(rows)[:10]
    fig = _figure(6.6, max(1.6, 0.42 * len(rows) + 0.9))
    ax = fig.add_subplot(1, 1, 1)
    names = [r["name_zh"] if lang == "zh" else r["name_en"] for r in rows][::-1]
    now = [r["count"] for r in rows][::-1]
    prev = [r["previous"]["baseline"] or 0 for r in rows][::-1]
    year = [r["last_year"]["baseline"] or 0 for r in rows][::-1]
    y = np.arange(len(rows))
    height = 0.27
    ax.barh(y + height, now, height, color="#c0392b", label=labels["this_period"])
    ax.barh(y, prev, height, color="#f0a58f", label=labels["previous"])
    ax.barh(y - height, year, height, color="#b8c4ce", label=labels["last_year"])
    ax.set_yticks(y, names, fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    if not rows:
        ax.text(0.5, 0.5, labels["no_incidents"], ha="center", va="center", transform=ax.transAxes)
    return _png(fig)


def _draw_geometry(ax: Any, geom: BaseGeometry, **style: Any) -> None:
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    polygons = getattr(geom, "geoms", [geom])
    for poly in polygons:
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        rings = [np.asarray(poly.exterior.coords)] + [np.asarray(r.coords) for r in poly.interiors]
        vertices = np.concatenate(rings)
        codes = np.concatenate(
            [
                [MplPath.MOVETO] + [MplPath.LINETO] * (len(r) - 2) + [MplPath.CLOSEPOLY]
                for r in rings
            ]
        )
        ax.add_patch(PathPatch(MplPath(vertices, codes), **style))


class BaseMap:
    """The unit's outline, its sub-units and roads, in metric coordinates."""

    def __init__(
        self,
        projector: Projector,
        outline: BaseGeometry,
        parts: Sequence[tuple[str, BaseGeometry]],
        roads: Sequence[tuple[str, BaseGeometry]],
    ) -> None:
        self.projector = projector
        self.outline = projector.geometry_to_metric(outline)
        self.parts = [(name, projector.geometry_to_metric(g)) for name, g in parts]
        self.roads = [(cls, projector.geometry_to_metric(g)) for cls, g in roads]

    def axes(self, fig: Any) -> Any:
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_aspect("equal")
        ax.set_axis_off()
        west, south, east, north = self.outline.bounds
        pad = 0.03 * max(east - west, north - south)
        ax.set_xlim(west - pad, east + pad)
        ax.set_ylim(south - pad, north + pad)
        return ax

    def draw_under(self, ax: Any) -> None:
        _draw_geometry(ax, self.outline, facecolor="#f7f7f4", edgecolor="none", zorder=0)

    def draw_over(self, ax: Any, *, labels: bool = True) -> None:
        widths = {"motorway": 1.2, "trunk": 1.0, "primary": 0.8, "secondary": 0.6}
        for cls, line in self.roads:
            xy = np.asarray(line.coords)
            ax.plot(xy[:, 0], xy[:, 1], color="#7f7f7f", lw=widths.get(cls, 0.35), zorder=3)
        for name, part in self.parts:
            _draw_geometry(ax, part, facecolor="none", edgecolor="#555555", lw=0.5, zorder=4)
            if labels and len(self.parts) <= 40:
                point = part.representative_point()
                ax.text(point.x, point.y, name, fontsize=5.5, ha="center", va="center",
                        color="#333333", zorder=6)  # fmt: skip
        _draw_geometry(ax, self.outline, facecolor="none", edgecolor="#222222", lw=1.2, zorder=5)
        self._scale_bar(ax)

    def _scale_bar(self, ax: Any) -> None:
        west, east = ax.get_xlim()
        south, north = ax.get_ylim()
        span = east - west
        length = _nice_length(span / 5)
        x0, y0 = west + 0.04 * span, south + 0.04 * (north - south)
        ax.plot([x0, x0 + length], [y0, y0], color="black", lw=2, zorder=7)
        text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
        ax.text(x0 + length / 2, y0 + 0.012 * (north - south), text, fontsize=6, ha="center",
                va="bottom", zorder=7)  # fmt: skip
        ax.annotate("N", xy=(east - 0.05 * span, north - 0.05 * (north - south)), fontsize=8,
                    ha="center", zorder=7)  # fmt: skip


def _nice_length(target: float) -> float:
    if target <= 0:
        return 1.0
    exponent = 10 ** np.floor(np.log10(target))
    for step in (1, 2, 5, 10):
        if step * exponent >= target:
            return float(step * exponent)
    return float(10 * exponent)


def _map_figure(base: BaseMap) -> Any:
    west, south, east, north = base.outline.bounds
    ratio = (north - south) / max(east - west, 1.0)
    width = 6.4
    return _figure(width, float(np.clip(width * ratio, 2.5, 8.0)))


def heat_map_png(
    base: BaseMap,
    values: np.ndarray,
    extent: tuple[float, float, float, float],
    *,
    vmax: float,
    units: str,
) -> bytes:
    """The heat surface (north-up raster, NaN outside the area) over the base map."""
    fig = _map_figure(base)
    ax = base.axes(fig)
    base.draw_under(ax)
    shown = np.ma.masked_invalid(np.where(values > max(vmax, 1e-12) * 0.01, values, np.nan))
    if shown.count():
        image = ax.imshow(
            shown,
            extent=extent,
            origin="upper",
            cmap="YlOrRd",
            vmin=0.0,
            vmax=max(vmax, 1e-12),
            alpha=0.85,
            zorder=2,
            interpolation="bilinear",
        )
        bar = fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01, shrink=0.6)
        bar.ax.tick_params(labelsize=6)
        bar.set_label(units, fontsize=6)
    base.draw_over(ax)
    return _png(fig)


def hotspot_map_png(
    base: BaseMap, collection: dict[str, Any], *, class_labels: dict[int, str]
) -> bytes:
    """Gi* classes of the period's hotspot run, one colour per confidence class."""
    from matplotlib.patches import Patch

    fig = _map_figure(base)
    ax = base.axes(fig)
    base.draw_under(ax)
    seen: set[int] = set()
    for feature in collection.get("features", []):
        cls = int(feature.get("properties", {}).get("class") or 0)
        if cls == 0 or feature.get("geometry") is None:
            continue
        geom = base.projector.geometry_to_metric(shape(feature["geometry"]))
        _draw_geometry(ax, geom, facecolor=HOT_COLOURS[cls], edgecolor="none", alpha=0.9, zorder=2)
        seen.add(cls)
    base.draw_over(ax)
    handles = [
        Patch(facecolor=HOT_COLOURS[c], label=class_labels[c]) for c in sorted(seen, reverse=True)
    ]
    if handles:
        ax.legend(handles=handles, fontsize=6, loc="upper left", frameon=True)
    else:
        ax.text(0.5, 0.02, class_labels[0], transform=ax.transAxes, ha="center", fontsize=7)
    return _png(fig)


def union_outline(geoms: Sequence[BaseGeometry]) -> BaseGeometry:
    return shapely.union_all(list(geoms))
