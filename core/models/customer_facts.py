"""What a customer's records add up to, kept per customer for segments to filter on; and the
segments saved by name."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, TeamId, UTCDateTime, team_fk

SEGMENT_NAME_MAX = 80


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


class Segment(Base):
    """A segment saved by name for the workspace: its filters as JSON (SegmentFilters)."""

    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("team_id", "name_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    name: Mapped[str] = mapped_column(String(SEGMENT_NAME_MAX))
    # Folded, so "Lapsed" and "lapsed " are one name.
    name_key: Mapped[str] = mapped_column(String(SEGMENT_NAME_MAX))
    filters: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # An opt-in weekly digest into a channel of staff: where, who asked, when last posted,
    # and why it is paused ("" while it runs).
    digest_channel_id: Mapped[str | None] = mapped_column(String(32), default=None)
    digest_by: Mapped[str | None] = mapped_column(String(32), default=None)
    digest_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    digest_paused: Mapped[str] = mapped_column(String(300), default="", server_default="")


class FactsReady(Base):
    """When a workspace's customers were first all added up; until then a read adds them up."""

    __tablename__ = "customer_facts_ready"

    team_id: Mapped[str] = mapped_column(TeamId, team_fk(), primary_key=True)
    ready_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SegmentCount(Base):
    """A saved segment's last count and when it was made: Home shows it while it is fresh."""

    __tablename__ = "segment_counts"

    segment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    matched: Mapped[int] = mapped_column(Integer)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SegmentDigestMember(Base):
    """Who a segment matched at its last weekly digest, so the next names the newcomers."""

    __tablename__ = "segment_digest_members"

    segment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
