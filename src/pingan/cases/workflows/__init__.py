"""One module per case type; ``get_workflow`` finds a declared type by its key."""

from __future__ import annotations

from pingan.cases.engine import Workflow


def get_workflow(case_type: str) -> Workflow:
    from pingan.cases.workflows import grid_event

    known = {grid_event.WORKFLOW.key: grid_event.WORKFLOW}
    try:
        return known[case_type]
    except KeyError:
        from pingan.kit.errors import ValidationFailed

        raise ValidationFailed(f"unknown case type {case_type!r}", field="case_type") from None
