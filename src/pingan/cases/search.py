"""Search on case text, index-backed on both backends.

SQLite keeps an FTS5 table with the trigram tokenizer (``cases_fts``, kept
current by triggers; any substring of 3+ characters, Chinese included);
PostgreSQL a trigram GIN index (pg_trgm) on the same text, which serves
``ILIKE '%q%'``. Shorter queries fall back to a plain substring scan.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, literal, or_, select, text
from sqlalchemy.orm import Session

from pingan.cases.models import Case

# What is searched, as one string (the PostgreSQL index is on exactly this).
SEARCH_TEXT = (
    func.coalesce(Case.title, "")
    .op("||")(literal(" "))
    .op("||")(func.coalesce(Case.description, ""))
    .op("||")(literal(" "))
    .op("||")(func.coalesce(Case.address, ""))
    .op("||")(literal(" "))
    .op("||")(Case.number)
)


def _like_pattern(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def text_matches(session: Session, q: str) -> ColumnElement[bool]:
    """Cases whose title, description, address or number contain ``q`` (any case)."""
    q = q.strip()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return SEARCH_TEXT.ilike(_like_pattern(q), escape="\\")
    if len(q) >= 3:
        phrase = '"' + q.replace('"', '""') + '"'
        matching = (
            select(text("rowid"))
            .select_from(text("cases_fts"))
            .where(text("cases_fts MATCH :phrase").bindparams(phrase=phrase))
        )
        return Case.id.in_(matching)
    pattern = _like_pattern(q.lower())
    return or_(
        *[func.lower(column).like(pattern, escape="\\")
          for column in (Case.title, Case.description, Case.address, Case.number)]
    )  # fmt: skip
