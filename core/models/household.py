"""Links between customers of one workspace: a parent and their child, or partners."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, TeamId, UTCDateTime, enum_type, team_fk


class Relation(StrEnum):
    """What the link's first customer is to its second."""

    PARENT = "parent"
    CHILD = "child"
    PARTNER = "partner"


class CustomerLink(Base):
    """One link between two customers, stored once, low id first, so it is found either way and
    can't be made twice (in either direction) or to oneself."""

    __tablename__ = "customer_links"
    __table_args__ = (
        UniqueConstraint("low_id", "high_id"),
        CheckConstraint("low_id < high_id", name="ordered"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    low_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    high_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    # What the low id's customer is to the high id's.
    relation: Mapped[Relation] = mapped_column(enum_type(Relation))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
