"""Progress reporting shared by jobs and the CLI: a fraction done and a stage name."""

from __future__ import annotations

from pingan.kit.jobs import Progress


def silent(fraction: float, message: str = "") -> None:
    """Progress that goes nowhere, for interactive requests."""


__all__ = ["Progress", "silent"]
