"""What can be booked or assigned: events, appointment services, passes, videos, plans, questionnaires.

Every catalog row has a `key` that is stable across imports of the catalog file, so
re-importing updates rows in place instead of duplicating them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, TeamId, UTCDateTime, team_fk


class Event(Base):
    """A class or event type; people book one of its occurrences."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64))
    price_minor: Mapped[int] = mapped_column(Integer)
    # Pass credits a booking costs when paid with a pass.
    credit_price: Mapped[int] = mapped_column(Integer, default=1)
    capacity: Mapped[int] = mapped_column(Integer)


class EventOccurrence(Base):
    """One dated session of an event, with its own capacity and price."""

    __tablename__ = "event_occurrences"
    __table_args__ = (
        UniqueConstraint("event_id", "starts_at"),
        Index("ix_event_occurrences_team_start", "team_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    capacity: Mapped[int] = mapped_column(Integer)
    price_minor: Mapped[int] = mapped_column(Integer)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    location: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Archived: kept on the bookings it has, offered for no new one.
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


facilitator_services = Table(
    "facilitator_services",
    Base.metadata,
    Column(
        "facilitator_id", BigId, ForeignKey("facilitators.id", ondelete="CASCADE"), primary_key=True
    ),
    Column(
        "service_id",
        BigId,
        ForeignKey("appointment_services.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class AppointmentService(Base):
    """A kind of one-to-one appointment (a massage, a private lesson)."""

    __tablename__ = "appointment_services"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    price_minor: Mapped[int] = mapped_column(Integer)
    credit_price: Mapped[int] = mapped_column(Integer, default=1)
    # Archived: kept on what already uses it, offered for nothing new.
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Facilitator(Base):
    """A person who gives appointments; `facilitator_services` says which."""

    __tablename__ = "facilitators"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    slack_user_id: Mapped[str | None] = mapped_column(String(32))
    # Archived: kept on what already uses it, offered for nothing new.
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class PassType(Base):
    """A pack of credits valid for a number of days from purchase."""

    __tablename__ = "pass_types"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    credits: Mapped[int] = mapped_column(Integer)
    validity_days: Mapped[int] = mapped_column(Integer)
    price_minor: Mapped[int] = mapped_column(Integer)
    # Archived: kept on what already uses it, offered for nothing new.
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Video(Base):
    """A video on demand; bought for money or credits, watchable for `access_days` (None: for ever)."""

    __tablename__ = "videos"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    price_minor: Mapped[int] = mapped_column(Integer)
    credit_price: Mapped[int | None] = mapped_column(Integer)
    access_days: Mapped[int | None] = mapped_column(Integer)
    # Archived: kept on what already uses it, offered for nothing new.
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SubscriptionPlan(Base):
    """A recurring membership; `interval` is 'week', 'month' or 'year'."""

    __tablename__ = "subscription_plans"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    price_minor: Mapped[int] = mapped_column(Integer)
    interval: Mapped[str] = mapped_column(String(8))
    stripe_price_id: Mapped[str | None] = mapped_column(String(64))
    # Archived: kept on what already uses it, offered for nothing new.
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class QuestionnaireTemplate(Base):
    """A named list of questions a customer answers (health form, waiver…)."""

    __tablename__ = "questionnaire_templates"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    questions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Archived: kept on what already uses it, offered for nothing new.
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
