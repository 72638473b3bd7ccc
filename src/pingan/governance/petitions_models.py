"""Tables of complaints and petitions: the matter beside its case, people, letters.

The case row (``cases``) carries the state, unit and clocks and only a
neutral title; the matter, the petitioner's details and any material that
accuses someone live here, read only through the petitions service, which
keeps them from the accused and audits every access.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pingan.kit.db import Base, BigIntPK, UTCDateTime


class Petition(Base):
    __tablename__ = "petitions"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(20), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    is_group: Mapped[bool] = mapped_column(Boolean, default=False)
    headcount: Mapped[int] = mapped_column(Integer, default=1)
    # Personal fields are optional (a letter may be unsigned) and never public.
    petitioner_name: Mapped[str | None] = mapped_column(String(200))
    petitioner_phone: Mapped[str | None] = mapped_column(String(50))
    petitioner_address: Mapped[str | None] = mapped_column(String(300))
    # Keys for duplicate matching: a digest of name + phone, the place normalised.
    person_key: Mapped[str | None] = mapped_column(String(64), index=True)
    place: Mapped[str] = mapped_column(String(300), default="")
    place_key: Mapped[str] = mapped_column(String(300), default="", index=True)
    matter: Mapped[str] = mapped_column(Text)
    requests: Mapped[str] = mapped_column(Text, default="")
    # Whom the matter accuses, if anyone: they and their unit never see it.
    accused_name: Mapped[str | None] = mapped_column(String(200))
    accused_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    accused_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    same_matter_as_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    same_matter_score: Mapped[float | None] = mapped_column(Float)
    # argon2 hash of the query code the petitioner follows the matter with.
    lookup_hash: Mapped[str] = mapped_column(String(200))
    leader_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    joint: Mapped[bool] = mapped_column(Boolean, default=False)
    extension_days: Mapped[int | None] = mapped_column(Integer)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    extended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Re-review concluded: the same facts are not accepted again.
    exhausted: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str] = mapped_column(String(500), default="")
    rated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class PetitionRepresentative(Base):
    """One of the (at most five) representatives a group petition names."""

    __tablename__ = "petition_representatives"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("petitions.case_id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))


class PetitionParticipant(Base):
    """A department working the matter at the joint reception centre."""

    __tablename__ = "petition_participants"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("petitions.case_id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    unit_path: Mapped[str] = mapped_column(String(200), index=True)
    department: Mapped[str] = mapped_column(String(100), default="")
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PetitionMaterial(Base):
    """A document or statement of the matter; ``accuses`` marks material against someone."""

    __tablename__ = "petition_materials"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("petitions.case_id", ondelete="CASCADE"), index=True
    )
    accuses: Mapped[bool] = mapped_column(Boolean, default=False)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    added_by: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PetitionLetter(Base):
    """A letter sent to the petitioner, as rendered (HTML) with the dates it states."""

    __tablename__ = "petition_letters"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("petitions.case_id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    subject: Mapped[str] = mapped_column(String(200))
    html: Mapped[str] = mapped_column(Text)
    # The dates the letter states (ISO, city zone), so they can be checked.
    dates: Mapped[str] = mapped_column(Text, default="{}")
