"""A tenant: one Slack workspace and its business settings; and the app's installations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, BigId, TeamId, UTCDateTime, enum_type, team_fk


class CreditRule(StrEnum):
    """When a booking paid with a pass uses its credit: when booked, or when checked in."""

    AT_BOOKING = "at_booking"
    AT_CHECK_IN = "at_check_in"


class Workspace(Base):
    """Every other row belongs to exactly one workspace via `team_id`."""

    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    default_region: Mapped[str] = mapped_column(String(2))
    portal_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # Mail goes out from the deployment's MAIL_FROM address under this name; replies go to
    # `mail_reply_to` when set (a studio can't send from its own domain through our server).
    mail_sender_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    mail_reply_to: Mapped[str] = mapped_column(String(254), default="", server_default="")
    credit_rule: Mapped[CreditRule] = mapped_column(
        enum_type(CreditRule),
        default=CreditRule.AT_BOOKING,
        server_default=CreditRule.AT_BOOKING.value,
    )
    # The studio's own Stripe account: its key (encrypted), or the account Stripe Connect
    # linked to the deployment's platform key; the signing secret of its webhook (encrypted).
    stripe_key: Mapped[str | None] = mapped_column(Text, default=None)
    stripe_key_hint: Mapped[str] = mapped_column(String(40), default="", server_default="")
    stripe_account_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    stripe_webhook_secret: Mapped[str | None] = mapped_column(Text, default=None)
    stripe_connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when Slack says the app was uninstalled; its data stays until it is installed again.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class WorkspaceAuditEntry(Base):
    """Who did what to a workspace as a whole (an install, a re-install), and when."""

    __tablename__ = "workspace_audit"
    __table_args__ = (Index("ix_workspace_audit_team", "team_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    actor: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StripeConnectState(Base):
    """A Stripe Connect authorization under way: who started it, for which workspace, until when.

    Only a hash of the state is kept; the callback consumes the row, so a state works once."""

    __tablename__ = "stripe_connect_states"
    __table_args__ = (Index("ix_stripe_connect_states_expires_at", "expires_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    team_id: Mapped[str] = mapped_column(TeamId, team_fk())
    user_id: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


# The tables of slack_sdk's SQLAlchemy installation and OAuth state stores (OAuth mode), as
# slack_sdk 3.x defines them, so that migrations create them and the stores only use them.
# Naive UTC timestamps are the stores' own convention. A test compares them with slack_sdk's.
slack_installations = Table(
    "slack_installations",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("enterprise_url", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", String(200)),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", String(200)),
    Column("bot_token_expires_at", DateTime),
    Column("user_id", String(32), nullable=False),
    Column("user_token", String(200)),
    Column("user_scopes", String(1000)),
    Column("user_refresh_token", String(200)),
    Column("user_token_expires_at", DateTime),
    Column("incoming_webhook_url", String(200)),
    Column("incoming_webhook_channel", String(200)),
    Column("incoming_webhook_channel_id", String(200)),
    Column("incoming_webhook_configuration_url", String(200)),
    Column("is_enterprise_install", Boolean, nullable=False),
    Column("token_type", String(32)),
    Column("installed_at", DateTime, nullable=False),
    Index(
        "slack_installations_idx",
        "client_id",
        "enterprise_id",
        "team_id",
        "user_id",
        "installed_at",
    ),
)

slack_bots = Table(
    "slack_bots",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", String(200)),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", String(200)),
    Column("bot_token_expires_at", DateTime),
    Column("is_enterprise_install", Boolean, nullable=False),
    Column("installed_at", DateTime, nullable=False),
    Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)

slack_oauth_states = Table(
    "slack_oauth_states",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime, nullable=False),
    # Not slack_sdk's: expired states are purged by this column (bot/transport/token_store.py).
    Index("ix_slack_oauth_states_expire_at", "expire_at"),
)
