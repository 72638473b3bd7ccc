"""What the petitioner sees: the matter followed by number and query code, and a rating.

No account: the number and the code the office handed over are the key. A
wrong code reads the same as an unknown number. The code goes in the request
body, never in the URL, so it stays out of access logs.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from pingan.cases.calendar import load_calendar
from pingan.cases.models import Case
from pingan.cases.workflows.petition import DUTY_CLOCKS, WINDOW_CLOCKS
from pingan.governance import letters
from pingan.governance.petitions import load
from pingan.governance.petitions_models import Petition
from pingan.governance.petitions_schemas import PublicLetter, PublicStatus
from pingan.governance.petitions_steps import latest_clock
from pingan.kit import audit
from pingan.kit.db import utcnow
from pingan.kit.errors import Conflict, NotFound
from pingan.kit.security import DUMMY_HASH, verify_password

ACTOR = "public:petitioner"
RATABLE = ("replied", "reviewing", "reviewed", "rereviewing", "concluded", "closed")


def _open(session: Session, number: str, code: str) -> tuple[Case, Petition]:
    try:
        case, petition = load(session, number.strip())
    except NotFound:
        verify_password(DUMMY_HASH, code)  # same time whether or not the number exists
        raise NotFound("no petition with this number and code") from None
    if not verify_password(petition.lookup_hash, code.strip().upper()):
        raise NotFound("no petition with this number and code")
    return case, petition


def status(session: Session, *, number: str, code: str) -> PublicStatus:
    case, petition = _open(session, number, code)
    zone = load_calendar(session).zone
    deadlines: dict[str, dt.date] = {}
    for name in (*DUTY_CLOCKS, *WINDOW_CLOCKS.values()):
        clock = latest_clock(session, case.id, name)
        if clock is not None and clock.status != "stopped" and clock.due_at is not None:
            deadlines[name] = letters.last_day(clock.due_at, zone)
    audit.record(session, actor=ACTOR, action="petition.public_status", object_type="petition",
                 object_id=case.number)  # fmt: skip
    return PublicStatus(
        number=case.number,
        state=case.state,
        received_at=petition.received_at,
        deadlines=deadlines,
        letters=[
            PublicLetter(kind=x.kind, subject=x.subject, issued_at=x.issued_at, html=x.html)
            for x in letters.letters_of(session, case.id)
        ],
        rating=petition.rating,
    )


def rate(
    session: Session, *, number: str, code: str, rating: int, comment: str,
    now: dt.datetime | None = None,
) -> Petition:  # fmt: skip
    """The petitioner rates the result (1-5) once it has a reply; a later rating replaces it."""
    now = now or utcnow()
    case, petition = _open(session, number, code)
    if case.state not in RATABLE:
        raise Conflict("the matter can be rated once it has a written reply", field="rating")
    petition.rating, petition.rating_comment, petition.rated_at = rating, comment[:500], now
    case.rating = rating
    from pingan.cases.service import add_event

    add_event(session, case, kind="rating", actor=ACTOR, at=now, detail={"rating": rating})
    return petition
