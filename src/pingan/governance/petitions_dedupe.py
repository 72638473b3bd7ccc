"""Is a new petition the same matter as one already filed, whatever the channel?

Method. People bring the same matter by visit, letter, phone and web, worded
differently each time, so matching is on three signals:

- text: cosine similarity of character-bigram counts of the matter, after
  dropping spaces and punctuation and lower-casing. Character n-grams need no
  word segmentation, so Chinese and Latin text are treated alike;
- person: the same digest of normalised name + phone digits;
- place: the same normalised place, or one containing the other.

The score is 0.6 text + 0.25 person + 0.15 place. A pair is the same matter
when the texts are close (>= 0.6) and the person or the place agrees, or when
the texts alone are nearly identical (>= 0.85). Candidates are the petitions
of the same person or place, and any received in the last 180 days.

The person digest serves this comparison only (the statutory rule on the same
matter); nothing lists, counts or ranks petitions by person.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import unicodedata
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pingan.cases.models import Case
from pingan.governance.petitions_models import Petition

TEXT_CLOSE = 0.6
TEXT_SAME = 0.85
WINDOW = dt.timedelta(days=180)
MAX_CANDIDATES = 5000


def normalise(text: str) -> str:
    """Lower case, NFKC (full-width to half-width), letters and digits only."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if ch.isalnum())


def bigrams(text: str) -> Counter[str]:
    norm = normalise(text)
    if len(norm) < 2:
        return Counter([norm]) if norm else Counter()
    return Counter(norm[i : i + 2] for i in range(len(norm) - 1))


def cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(n * b[k] for k, n in a.items() if k in b)
    norm = math.sqrt(sum(n * n for n in a.values())) * math.sqrt(sum(n * n for n in b.values()))
    return dot / norm


def person_key(name: str | None, phone: str | None) -> str | None:
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    who = normalise(name or "")
    if not who and not digits:
        return None
    return hashlib.sha256(f"{who}|{digits}".encode()).hexdigest()


def place_key(place: str) -> str:
    return normalise(place)[:300]


def _same_place(a: str, b: str) -> bool:
    if not a or not b:
        return False
    return a == b or (min(len(a), len(b)) >= 4 and (a in b or b in a))


@dataclass(frozen=True)
class Match:
    case_id: int
    number: str
    score: float
    text: float
    same_person: bool
    same_place: bool
    exhausted: bool


def find_same_matter(
    session: Session,
    *,
    matter: str,
    person: str | None,
    place: str,
    now: dt.datetime,
    exclude_case_id: int | None = None,
) -> list[Match]:
    """Petitions that look like the same matter, best first."""
    conditions = [Petition.received_at >= now - WINDOW]
    if person:
        conditions.append(Petition.person_key == person)
    if place:
        conditions.append(Petition.place_key == place)
    rows = session.execute(
        select(Petition, Case.number)
        .join(Case, Case.id == Petition.case_id)
        .where(or_(*conditions))
        .order_by(Petition.received_at.desc())
        .limit(MAX_CANDIDATES)
    ).all()
    mine = bigrams(matter)
    found: list[Match] = []
    for petition, number in rows:
        if petition.case_id == exclude_case_id:
            continue
        text = cosine(mine, bigrams(petition.matter))
        same_person = person is not None and petition.person_key == person
        same_place = _same_place(place, petition.place_key)
        if (text >= TEXT_CLOSE and (same_person or same_place)) or text >= TEXT_SAME:
            score = 0.6 * text + 0.25 * same_person + 0.15 * same_place
            found.append(
                Match(
                    petition.case_id, str(number), round(score, 3), round(text, 3),
                    same_person, same_place, petition.exhausted,
                )
            )  # fmt: skip
    return sorted(found, key=lambda m: -m.score)
