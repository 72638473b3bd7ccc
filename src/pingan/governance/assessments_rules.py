"""The stated rules that turn expert scores and consultations into a risk level.

Each panel expert scores each of the four dimensions from 1 (severe concern)
to 5 (sound), with a comment. For the current round:

- every panel member must have scored every dimension, and at least one
  public consultation (survey, hearing...) must be on record;
- m(d) is the mean score of dimension d over the panel; o is the share of
  opposing answers over all consultations (oppose / (support+oppose+neutral)).

HIGH   if m(legality) < 3.0, or any m(d) < 2.0, or o > 0.5
MEDIUM otherwise, if any m(d) < 3.5, or o > 0.2
LOW    otherwise.

The gate: HIGH -> do not implement; MEDIUM -> postpone until mitigations are
recorded and the decision is reassessed; LOW -> may implement with controls.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pingan.governance.assessments_models import Assessment, Consultation, PanelSeat, Score
from pingan.kit.errors import Conflict

DIMENSIONS = ("legality", "reasonableness", "feasibility", "controllability")
HIGH, MEDIUM, LOW = "high", "medium", "low"
MIN_PANEL = 3

LEGALITY_FLOOR = 3.0
HIGH_FLOOR = 2.0
MEDIUM_FLOOR = 3.5
HIGH_OPPOSITION = 0.5
MEDIUM_OPPOSITION = 0.2


@dataclass(frozen=True)
class Rating:
    level: str
    means: dict[str, float]
    opposition: float
    reasons: list[str]


def classify(means: dict[str, float], opposition: float) -> Rating:
    """Apply the rules above to dimension means and the opposition share."""
    high: list[str] = []
    if means["legality"] < LEGALITY_FLOOR:
        high.append(f"legality mean {means['legality']:.2f} < {LEGALITY_FLOOR}")
    high += [f"{d} mean {m:.2f} < {HIGH_FLOOR}" for d, m in means.items() if m < HIGH_FLOOR]
    if opposition > HIGH_OPPOSITION:
        high.append(f"opposition {opposition:.0%} > {HIGH_OPPOSITION:.0%}")
    if high:
        return Rating(HIGH, means, opposition, high)
    medium = [f"{d} mean {m:.2f} < {MEDIUM_FLOOR}" for d, m in means.items() if m < MEDIUM_FLOOR]
    if opposition > MEDIUM_OPPOSITION:
        medium.append(f"opposition {opposition:.0%} > {MEDIUM_OPPOSITION:.0%}")
    if medium:
        return Rating(MEDIUM, means, opposition, medium)
    return Rating(LOW, means, opposition, ["every dimension sound, opposition low"])


def rate(session: Session, assessment: Assessment) -> Rating:
    """The current round's rating; 409 while scores or consultations are missing."""
    panel = set(
        session.scalars(select(PanelSeat.expert_id).where(PanelSeat.assessment_id == assessment.id))
    )
    if len(panel) < MIN_PANEL:
        raise Conflict(f"the panel needs at least {MIN_PANEL} experts", field="panel")
    rows = session.execute(
        select(Score.expert_id, Score.dimension, Score.score).where(
            Score.assessment_id == assessment.id, Score.round == assessment.round
        )
    ).all()
    have = {(int(e), str(d)) for e, d, _ in rows}
    missing = sorted(f"expert {e}: {d}" for e in panel for d in DIMENSIONS if (e, d) not in have)
    if missing:
        raise Conflict(
            f"round {assessment.round} is missing scores: {'; '.join(missing)}", field="scores"
        )
    means = {
        d: sum(s for e, dim, s in rows if dim == d and e in panel) / len(panel) for d in DIMENSIONS
    }
    totals = session.execute(
        select(
            func.count(Consultation.id),
            func.coalesce(func.sum(Consultation.support), 0),
            func.coalesce(func.sum(Consultation.oppose), 0),
            func.coalesce(func.sum(Consultation.neutral), 0),
        ).where(Consultation.assessment_id == assessment.id)
    ).one()
    count, support, oppose, neutral = (int(v) for v in totals)
    if count == 0:
        raise Conflict("record at least one public consultation first", field="consultations")
    answers = support + oppose + neutral
    return classify(means, oppose / answers if answers else 0.0)
