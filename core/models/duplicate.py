"""Pairs of customers an admin said are two different people."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, TeamId, UTCDateTime, team_fk


class NotDuplicate(Base):
    """One "Not a duplicate" decision; the pair is stored low id first, so it is found either way."""

    __tablename__ = "not_duplicates"
    __table_args__ = (
        UniqueConstraint("team_id", "low_id", "high_id"),
        CheckConstraint("low_id < high_id", name="ordered"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    low_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id", ondelete="CASCADE"))
    high_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    decided_by: Mapped[str] = mapped_column(String(32))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
