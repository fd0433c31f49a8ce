"""The customer aggregate root."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, UTCDateTime, enum_type
from core.models.tag import ConsentSource, ConsentState

NAME_KEY_LENGTH = 201

# Search machinery migrations 0003 and 0005 keep outside the models, maintained by the
# database itself: PostgreSQL's trigram and word-start indexes over expressions, SQLite's FTS5
# table (and the shadow tables FTS5 names after it) and per-status counts, kept by triggers.
SEARCH_INDEXES = frozenset(
    {
        "ix_customers_name_trgm",
        "ix_customers_email_trgm",
        "ix_customers_mobile_trgm",
        "ix_customers_second_word",
        "ix_customers_email_start",
        "ix_customers_third_words_trgm",
    }
)
# Birthdays by month and day on PostgreSQL (migration 0024), an index on the expressions
# Today's birthday query compares.
BIRTHDAY_INDEX = "ix_customers_birthday"
SEARCH_TABLE = "customer_search"
COUNTS_TABLE = "customer_counts"


def described_by_models(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic's `include_name` hook: False for the search and birthday objects the models
    don't describe."""
    if type_ == "table" and name is not None:
        return name not in (SEARCH_TABLE, COUNTS_TABLE) and not name.startswith(f"{SEARCH_TABLE}_")
    return not (type_ == "index" and (name in SEARCH_INDEXES or name == BIRTHDAY_INDEX))


class CustomerStatus(StrEnum):
    """Archived customers are hidden from the Active list but keep their data."""

    ACTIVE = "active"
    ARCHIVED = "archived"


class Customer(Base):
    """A person who books with the business; email is their portal login."""

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("uid"),
        UniqueConstraint("team_id", "email"),
        # email and mobile ride along so substring search scans the index, not the table.
        Index("ix_customers_listing", "team_id", "status", "name_key", "id", "email", "mobile"),
        # The form's duplicate check finds customers by mobile (in any workspace, then keeps
        # its own). With team_id in it, search plans could read a whole workspace through it.
        Index("ix_customers_mobile", "mobile"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("workspaces.team_id", ondelete="CASCADE")
    )
    uid: Mapped[str] = mapped_column(String(16))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    # Case- and accent-folded "first last": the sort key and the name-search haystack.
    # Byte order on PostgreSQL as on SQLite: a server locale such as en_US would ignore the
    # space and list "Anna Jones" before "Ann Smith".
    name_key: Mapped[str] = mapped_column(
        String(NAME_KEY_LENGTH).with_variant(String(NAME_KEY_LENGTH, collation="C"), "postgresql")
    )
    email: Mapped[str] = mapped_column(String(320))
    mobile: Mapped[str] = mapped_column(String(20))
    date_of_birth: Mapped[date | None] = mapped_column(Date, default=None)
    # NULL means no portal password has been set (e.g. generated demo data).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[CustomerStatus] = mapped_column(
        enum_type(CustomerStatus),
        default=CustomerStatus.ACTIVE,
    )
    # When an admin erased their personal details, keeping the record for the accounts.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Marketing consent: the decision, when it was made and how it reached the studio.
    # Unknown until they say; the database's default, so rows written by older code get it too.
    marketing_consent: Mapped[ConsentState] = mapped_column(
        enum_type(ConsentState), server_default=ConsentState.UNKNOWN.value
    )
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    consent_source: Mapped[ConsentSource | None] = mapped_column(
        enum_type(ConsentSource), default=None
    )
    merged_into_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(32))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def full_name(self) -> str:
        """First and last name as staff read them."""
        return f"{self.first_name} {self.last_name}"
