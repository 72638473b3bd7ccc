"""A small key/value table for facts about this installation.

Holds the city's metric CRS, data version counters (bumped on intake and on
boundary changes, so caches know when to rebuild) and similar single values.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, Text, cast, event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column
from sqlalchemy.orm.util import identity_key

from pingan.kit import commit_hooks
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
    """Increment a counter; readers compare it to know their cache is stale.

    One ``UPDATE ... RETURNING``: the row is read and written under its lock in
    one statement (a read, then a write, would hold the lock over two round trips).
    """
    bump = (
        update(MetaEntry)
        .where(MetaEntry.key == key)
        .values(value=cast(cast(MetaEntry.value, Integer) + 1, String))
        .returning(MetaEntry.value)
        .execution_options(synchronize_session=False)
    )
    bumped = session.execute(bump).scalar_one_or_none()
    if bumped is None:
        try:
            with session.begin_nested():
                session.add(MetaEntry(key=key, value="0"))
        except IntegrityError:  # another writer created it first
            pass
        bumped = session.execute(bump).scalar_one()
    stale = session.identity_map.get(identity_key(MetaEntry, key))
    if stale is not None:
        session.expire(stale)  # a copy loaded earlier in this session
    return int(bumped)


def get_version(session: Session, key: str) -> int:
    return int(get_value(session, key) or "0")


_BUMPS_AT_COMMIT = "pingan.meta.bumps_at_commit"


def bump_version_at_commit(session: Session, key: str) -> None:
    """Increment a counter as the transaction commits, however many times this is asked.

    The counter's row stays locked from its update to the commit; bumped at the
    start of a long write, it would queue every other writer of the same
    counter behind the whole transaction.
    """
    if session.get_transaction() is None:
        session.begin()  # so a rollback before any statement still forgets the bump
    session.info.setdefault(_BUMPS_AT_COMMIT, set()).add(key)


# Before the audit chain's hook, which takes the one lock every writer shares.
@commit_hooks.at_commit(commit_hooks.VERSIONS)
def _bump_at_commit(session: Session) -> None:
    for key in sorted(session.info.pop(_BUMPS_AT_COMMIT, ())):
        bump_version(session, key)


@event.listens_for(Session, "after_soft_rollback")
def _forget_bumps(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_BUMPS_AT_COMMIT, None)
