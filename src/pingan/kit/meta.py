"""A small key/value table for facts about this installation.

Holds the city's metric CRS, data version counters (bumped on intake and on
boundary changes, so caches know when to rebuild) and similar single values.
"""

from __future__ import annotations

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from pingan.kit.db import Base


class MetaEntry(Base):
    __tablename__ = "pingan_meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def get_value(session: Session, key: str) -> str | None:
    return session.scalar(select(MetaEntry.value).where(MetaEntry.key == key))


def set_value(session: Session, key: str, value: str) -> None:
    entry = session.get(MetaEntry, key)
    if entry is None:
        session.add(MetaEntry(key=key, value=value))
    else:
        entry.value = value
    session.flush()


def bump_version(session: Session, key: str) -> int:
    """Increment a counter; readers compare it to know their cache is stale."""
    current = int(get_value(session, key) or "0") + 1
    set_value(session, key, str(current))
    return current


def get_version(session: Session, key: str) -> int:
    return int(get_value(session, key) or "0")
