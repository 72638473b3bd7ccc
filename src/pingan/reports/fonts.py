"""The CJK font every chart, map and PDF uses, so Chinese never falls back to boxes.

Debian's ``fonts-wqy-microhei`` holds Chinese and Latin glyphs in one face;
matplotlib gets it registered by file, WeasyPrint by ``@font-face`` (and
fontconfig). Where it is missing, DejaVu Sans draws Latin text and the
briefing still renders.
"""

from __future__ import annotations

import threading
from pathlib import Path

CJK_FONT_FILES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)
CJK_FAMILY = "WenQuanYi Micro Hei"
_lock = threading.Lock()
_configured = False


def cjk_font_file() -> Path | None:
    return next((p for p in CJK_FONT_FILES if p.exists()), None)


def configure_matplotlib() -> None:
    """Use the headless backend and the CJK font (once per process)."""
    global _configured
    with _lock:
        if _configured:
            return
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib import font_manager, rcParams

        path = cjk_font_file()
        families = ["DejaVu Sans"]
        if path is not None:
            font_manager.fontManager.addfont(str(path))
            families = [font_manager.FontProperties(fname=str(path)).get_name(), *families]
        rcParams["font.family"] = "sans-serif"
        rcParams["font.sans-serif"] = families + list(rcParams["font.sans-serif"])
        rcParams["axes.unicode_minus"] = False  # the CJK face has no U+2212
        rcParams["svg.fonttype"] = "none"
        _configured = True


def font_face_css() -> str:
    """``@font-face`` rules for the PDF renderer (a file URL it can read)."""
    path = cjk_font_file()
    if path is None:
        return ""
    # One face for both weights: a synthetic or substituted bold would switch Latin glyphs.
    return "".join(
        f'@font-face {{ font-family: "{CJK_FAMILY}"; font-weight: {weight}; '
        f'src: url("{path.as_uri()}"); }}\n'
        for weight in ("normal", "bold")
    )
