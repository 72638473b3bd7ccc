"""One module per case type; ``get_workflow`` finds a declared type by its key."""

from __future__ import annotations

from pingan.cases.engine import Workflow


def get_workflow(case_type: str) -> Workflow:
    from pingan.cases.workflows import assessment, grid_event, mediation

    known = {grid_event.WORKFLOW.key: grid_event.WORKFLOW}
    # Issue 8: dispute mediation and decision risk assessments.
    known.update({w.key: w for w in (mediation.WORKFLOW, assessment.WORKFLOW)})
    # Issue 8: complaints and petitions, anonymous tips.
    from pingan.cases.workflows import petition, tip

    known.update({w.key: w for w in (petition.WORKFLOW, tip.WORKFLOW)})
    # Issue 8: compound remediation projects.
    from pingan.cases.workflows import compound_remediation

    known[compound_remediation.WORKFLOW.key] = compound_remediation.WORKFLOW
    try:
        return known[case_type]
    except KeyError:
        from pingan.kit.errors import ValidationFailed

        raise ValidationFailed(f"unknown case type {case_type!r}", field="case_type") from None
