"""What a customer's records add up to, kept per customer for segments to filter on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, TeamId, UTCDateTime, team_fk


class CustomerFacts(Base):
    """Visits, no-shows and lifetime spend of one customer, as of `refreshed_at`.

    Rewritten whenever a unit of work changes the customer's purchases; a visit still to come
    is due at `next_visit_at`, when the row is rewritten again before anyone reads it."""

    __tablename__ = "customer_facts"
    __table_args__ = (
        Index("ix_customer_facts_team_last_visit", "team_id", "last_visit_at"),
        Index("ix_customer_facts_team_spend", "team_id", "spend_minor"),
        Index("ix_customer_facts_team_next_visit", "team_id", "next_visit_at"),
    )

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    visits: Mapped[int] = mapped_column(Integer)
    no_shows: Mapped[int] = mapped_column(Integer)
    first_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Money kept (paid, less refunds) in the workspace's currency, in minor units.
    spend_minor: Mapped[int] = mapped_column(BigInteger)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime())
