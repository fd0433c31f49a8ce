"""The Subscriptions tab's actions: Start subscription (a Stripe link mailed), Pause and Resume
at once, Suspend after a confirmation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from bot.context.request import Request
from bot.surfaces.commerce import Opening, row_of
from bot.views.commerce.form_state import CommerceMeta, FormValues
from bot.views.origin import Tab
from bot.views.subscriptions import (
    PLAN_BLOCK,
    changed_notice,
    start_subscription_form,
    suspend_confirmation,
)
from core.actor import Actor
from core.adapters.payments import PaymentGateway
from core.db import Transactions, UnitOfWork
from core.errors import DomainError
from core.services import payment_links, subscriptions
from core.services.subscriptions import SubscriptionRow


class Change(Protocol):
    """pause_subscription, resume_subscription or suspend_subscription."""

    def __call__(
        self,
        db: Transactions,
        actor: Actor,
        subscription_id: int,
        *,
        gateway: PaymentGateway | None,
        uid: str | None = None,
    ) -> SubscriptionRow:
        """Change the subscription (in Stripe first when linked)."""


def start_form(
    request: Request, meta: CommerceMeta, values: FormValues, problem: str = ""
) -> dict[str, Any]:
    """Start subscription as filled in: the plans, those that can't be started saying why."""
    plans = request.read(payment_links.plan_options)
    return start_subscription_form(
        meta,
        plans,
        stripe=request.gateway is not None,
        chosen=values.option(PLAN_BLOCK),
        problem=problem,
    )


def _subscription(uow: UnitOfWork, actor: Actor, uid: str, subscription_id: int) -> SubscriptionRow:
    page = subscriptions.list_subscriptions(
        uow, actor, uid, query=f"#{subscription_id}", page_size=1
    )
    return row_of(page, "Subscription", subscription_id)


def _at_once(change: Change, done: str) -> Callable[[Opening, int], None]:
    """Pause or Resume: reversible, so done at once with a notice saying what happened."""

    def act(opening: Opening, subscription_id: int) -> None:
        try:
            row = _change(opening.request, change, subscription_id, opening.details.uid)
        except DomainError as exc:
            opening.tell(exc.message)
            return
        opening.tell(changed_notice(row, done), ok=True)

    return act


def _open_suspend(opening: Opening, subscription_id: int) -> None:
    # Said before the confirmation opens, so nobody confirms a change they can't make.
    if not opening.request.actor.is_admin:
        opening.tell(subscriptions.SUSPEND_REFUSED)
        return
    uid = opening.details.uid
    row = opening.read(lambda uow, actor: _subscription(uow, actor, uid, subscription_id))
    if row is not None:
        meta = opening.meta(row_id=row.id, tab=Tab.SUBSCRIPTIONS, verb="suspend")
        opening.push(suspend_confirmation(meta, row))


def _change(request: Request, change: Change, subscription_id: int, uid: str) -> SubscriptionRow:
    gateway = request.gateway
    # The service commits around its Stripe call: no database lock is held while Stripe answers.
    return request.steps(
        lambda db, actor: change(db, actor, subscription_id, gateway=gateway, uid=uid)
    )


def _suspend(request: Request, subscription_id: int, uid: str) -> str:
    row = _change(request, subscriptions.suspend_subscription, subscription_id, uid)
    return changed_notice(row, "Suspended") + " It has ended for good."


ROW_ACTIONS = {
    (Tab.SUBSCRIPTIONS, "pause"): _at_once(subscriptions.pause_subscription, "Paused"),
    (Tab.SUBSCRIPTIONS, "resume"): _at_once(subscriptions.resume_subscription, "Resumed"),
    (Tab.SUBSCRIPTIONS, "suspend"): _open_suspend,
}
CONFIRMED = {(Tab.SUBSCRIPTIONS, "suspend"): _suspend}
