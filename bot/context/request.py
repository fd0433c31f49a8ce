"""What every listener starts from: the app's dependencies, the admitted staff member, the client.

`Request.of(context, client)` says it once; `Submission.of(...)` adds a form's view and its
parsed metadata for view_submission listeners."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.context.deps import Deps, actor_of, deps_of, studio_of
from bot.views.commerce.form_state import FormValues
from bot.views.payload import read_metadata, state_values
from core.actor import Actor
from core.adapters.payments import PaymentGateway
from core.db import Transactions, UnitOfWork
from core.services.settings import StudioSettings
from core.services.stripe_account import stripe_access

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Request:
    """One staff member's request: who is asking, and what the app answers with."""

    deps: Deps
    actor: Actor
    client: WebClient
    # Read with the actor when the request came in, so one request shows one set of settings.
    studio: StudioSettings

    @classmethod
    def of(cls, context: BoltContext, client: WebClient) -> Request:
        """The request the access middleware admitted."""
        return cls(deps_of(context), actor_of(context), client, studio_of(context))

    def read(self, what: Callable[[UnitOfWork, Actor], T]) -> T:
        """`what` in a read-only unit of work."""
        with self.deps.db.unit_of_work(readonly=True) as uow:
            return what(uow, self.actor)

    def write(self, what: Callable[[UnitOfWork, Actor], T]) -> T:
        """`what` in a unit of work that commits when it returns."""
        with self.deps.db.unit_of_work() as uow:
            return what(uow, self.actor)

    def steps(self, what: Callable[[Transactions, Actor], T]) -> T:
        """`what` opening its own short units of work, so none is open while Stripe answers."""
        return what(self.deps.db, self.actor)

    @cached_property
    def gateway(self) -> PaymentGateway | None:
        """The studio's Stripe gateway; None when it has no Stripe account."""
        access = self.read(lambda uow, actor: stripe_access(uow, actor.team_id))
        return self.deps.gateways.get(access)

    @property
    def timezone(self) -> str:
        """The workspace's time zone, which dates are shown in."""
        return self.studio.timezone

    @property
    def currency(self) -> str:
        """The workspace's currency, which prices are asked and shown in."""
        return self.studio.currency


@dataclass(frozen=True)
class Submission(Generic[M]):
    """A submitted form: the request, the view as submitted, and its parsed metadata."""

    request: Request
    view: dict[str, Any]
    meta: M

    @classmethod
    def of(
        cls, kind: type[M], view: dict[str, Any], context: BoltContext, client: WebClient
    ) -> Submission[M] | None:
        """The submission of a `kind` form; None when its metadata is missing or forged."""
        meta = read_metadata(kind, view.get("private_metadata"))
        if meta is None:
            return None
        return Submission(Request.of(context, client), view, meta)

    @classmethod
    def or_stale(
        cls,
        kind: type[M],
        view: dict[str, Any],
        context: BoltContext,
        client: WebClient,
        ack: Ack,
        message: Callable[[str], dict[str, Any]],
    ) -> Submission[M] | None:
        """The submission of a `kind` form, or None once `ack` has replaced the form with
        `message` saying it is out of date."""
        form = cls.of(kind, view, context, client)
        if form is None:
            ack(response_action="update", view=message("This form is out of date; open it again."))
        return form

    @property
    def state(self) -> dict[str, Any]:
        """The submitted values by block id."""
        return state_values(self.view)

    @property
    def values(self) -> FormValues:
        """What was typed and chosen, read by block id."""
        return FormValues(self.state)
