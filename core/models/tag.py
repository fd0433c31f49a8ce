"""Free tags a workspace puts on its customers, and marketing consent's words."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, TeamId, UTCDateTime, team_fk

TAG_MAX = 40


class Tag(Base):
    """One of a workspace's tags; `key` (trimmed, case-folded) makes names unique regardless
    of case."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    name: Mapped[str] = mapped_column(String(TAG_MAX))
    # Case folding can lengthen a name ("ß" → "ss"); the key has room for that.
    key: Mapped[str] = mapped_column(String(TAG_MAX * 3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CustomerTag(Base):
    """A customer holds a tag."""

    __tablename__ = "customer_tags"

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())


class ConsentState(StrEnum):
    """Whether a customer may be sent marketing mail; unknown until they say."""

    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"


class ConsentSource(StrEnum):
    """How the customer's decision reached the studio."""

    FORM = "form"
    IMPORT = "import"
    PHONE = "phone"
    SLACK = "slack"
