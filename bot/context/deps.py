"""What listeners get through Bolt's context: database, settings, payments, the acting staff member
and their workspace's settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from slack_bolt import BoltContext
from slack_sdk.oauth import InstallationStore

from bot.context.audience import Audience
from core.actor import Actor
from core.adapters.payments import Gateways
from core.adapters.stripe_connect import StripeConnect
from core.config import Settings
from core.db import Database
from core.services.settings import StudioSettings
from core.view_redraws import ViewRedraws

DEPS_KEY = "customer_records_deps"
ACTOR_KEY = "customer_records_actor"
STUDIO_KEY = "customer_records_studio"


@dataclass(frozen=True)
class Deps:
    """Long-lived collaborators shared by every request."""

    db: Database
    settings: Settings
    # One Stripe gateway per studio's account, reaching STRIPE_API_BASE.
    gateways: Gateways = field(default_factory=lambda: Gateways(None))
    # Set with STRIPE_CONNECT_CLIENT_ID: studios connect their account through Stripe Connect.
    stripe_connect: StripeConnect | None = None
    # Set with OAuth installs: where each workspace's tokens are kept.
    installation_store: InstallationStore | None = None
    # Who is in each conversation, remembered briefly: where the app may post about a customer.
    audience: Audience = field(default_factory=Audience)
    # Redraws of one view take turns, in this process and (PostgreSQL) every other worker.
    redraws: ViewRedraws = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "redraws", ViewRedraws(self.db))


def deps_of(context: BoltContext) -> Deps:
    """The app's dependencies, placed in the context by the access middleware."""
    deps = context[DEPS_KEY]
    assert isinstance(deps, Deps)
    return deps


def actor_of(context: BoltContext) -> Actor:
    """The staff member behind this request (the access middleware admitted them)."""
    actor = context[ACTOR_KEY]
    assert isinstance(actor, Actor)
    return actor


def studio_of(context: BoltContext) -> StudioSettings:
    """The workspace's settings, read by the access middleware with the actor."""
    studio = context[STUDIO_KEY]
    assert isinstance(studio, StudioSettings)
    return studio
