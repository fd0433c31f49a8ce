"""A customer's subscriptions (the Subscriptions tab)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from core.actor import Actor
from core.db import UnitOfWork
from core.models import Subscription, SubscriptionPlan, SubscriptionState
from core.services.paging import Page, fetch_page
from core.services.tabs import NamedCatalog, tab_scope

_PLANS = NamedCatalog(SubscriptionPlan.id, SubscriptionPlan.name, SubscriptionPlan.team_id)


@dataclass(frozen=True)
class SubscriptionRow:
    """One subscription mandate."""

    id: int
    created_at: datetime
    plan_name: str
    interval: str
    next_payment_at: datetime | None
    price_minor: int
    currency: str
    state: SubscriptionState
    stripe_subscription_id: str | None


def list_subscriptions(
    uow: UnitOfWork, actor: Actor, uid: str, *, query: str = "", page: int = 1, page_size: int = 10
) -> Page[SubscriptionRow]:
    """One page of customer `uid`'s subscriptions, newest first; `query` is a plan name or '#id'."""
    scope = tab_scope(uow, actor, uid, query, [_PLANS])
    statement = (
        select(
            Subscription,
            SubscriptionPlan.name.label("plan_name"),
            SubscriptionPlan.interval,
        )
        .join(SubscriptionPlan, SubscriptionPlan.id == Subscription.plan_id)
        .where(
            Subscription.team_id == actor.team_id,
            Subscription.customer_id == scope.customer_id,
            scope.condition(Subscription.id, [Subscription.plan_id]),
        )
        .order_by(Subscription.created_at.desc(), Subscription.id.desc())
    )
    rows, total, page, page_size = fetch_page(uow, statement, page=page, page_size=page_size)
    return Page(
        [
            SubscriptionRow(
                id=s.id,
                created_at=s.created_at,
                plan_name=plan_name,
                interval=interval,
                next_payment_at=s.next_payment_at,
                price_minor=s.price_minor,
                currency=s.currency,
                state=s.state,
                stripe_subscription_id=s.stripe_subscription_id,
            )
            for s, plan_name, interval in rows
        ],
        total,
        page,
        page_size,
    )
