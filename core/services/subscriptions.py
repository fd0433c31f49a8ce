"""A customer's subscriptions (the Subscriptions tab) and their Pause, Resume and Suspend actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.actor import Actor
from core.adapters.payments import PaymentError, PaymentGateway, require_gateway
from core.db import Transactions, UnitOfWork
from core.errors import DomainError, Forbidden, NotFound
from core.formatting import format_date
from core.models import Customer, Subscription, SubscriptionPlan, SubscriptionState
from core.services import alerts, history
from core.services.customers import lock_owner
from core.services.paging import Page, fetch_page
from core.services.tabs import NamedCatalog, tab_scope
from core.services.workspaces import ensure_workspace

# Longer than a Stripe call with its retry takes: a change pending longer was interrupted.
PENDING_CLAIM = timedelta(seconds=60)
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
        [_row(s, plan_name, interval) for s, plan_name, interval in rows], total, page, page_size
    )


def _row(s: Subscription, plan_name: str, interval: str) -> SubscriptionRow:
    return SubscriptionRow(
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


@dataclass(frozen=True)
class _Move:
    """One action: the states it starts from, where it leads, and the gateway call for Stripe."""

    verb: str  # "pause"
    done: str  # "paused"
    sources: frozenset[SubscriptionState]
    target: SubscriptionState
    in_stripe: Callable[[PaymentGateway, str], None]


_PAUSE = _Move(
    "pause",
    "paused",
    frozenset({SubscriptionState.ACTIVE}),
    SubscriptionState.PAUSED,
    lambda gateway, stripe_id: gateway.pause_subscription(stripe_id),
)
_RESUME = _Move(
    "resume",
    "resumed",
    frozenset({SubscriptionState.PAUSED}),
    SubscriptionState.ACTIVE,
    lambda gateway, stripe_id: gateway.resume_subscription(stripe_id),
)
# Suspending cancels the Stripe subscription, which Stripe never reopens: it is final here too.
_SUSPEND = _Move(
    "suspend",
    "suspended",
    frozenset({SubscriptionState.ACTIVE, SubscriptionState.PAST_DUE, SubscriptionState.PAUSED}),
    SubscriptionState.SUSPENDED,
    lambda gateway, stripe_id: gateway.cancel_subscription(stripe_id),
)


def _find(uow: UnitOfWork, actor: Actor, subscription_id: int, uid: str | None) -> Subscription:
    query = select(Subscription).where(
        Subscription.id == subscription_id, Subscription.team_id == actor.team_id
    )
    if uid is not None:
        query = query.join(Customer, Customer.id == Subscription.customer_id).where(
            Customer.uid == uid
        )
    found = uow.session.scalars(query.execution_options(populate_existing=True)).first()
    if found is None:
        raise NotFound(
            f"Subscription #{subscription_id} no longer exists here; it may have been deleted."
        )
    return found


def _refusal(subscription: Subscription, move: _Move) -> DomainError:
    name = f"Subscription #{subscription.id}"
    if subscription.state is move.target:
        return DomainError(f"{name} is already {subscription.state.value}.")
    if subscription.state is SubscriptionState.SUSPENDED:
        return DomainError(
            f"{name} was suspended, which ends it for good, so it can't be {move.done}; "
            "set up a new subscription instead."
        )
    return DomainError(f"{name} is {subscription.state.value}, so it can't be {move.done}.")


def _apply(
    db: Transactions,
    actor: Actor,
    subscription_id: int,
    move: _Move,
    gateway: PaymentGateway | None,
    uid: str | None,
) -> SubscriptionRow:
    # No transaction is open while Stripe answers: the change is marked pending first, so a
    # concurrent change is refused, and recorded after Stripe made it.
    with db.unit_of_work() as uow:
        stripe_id = _begin(uow, actor, subscription_id, move, gateway, uid)
    if stripe_id:
        try:
            # Stripe first: if it refuses, nothing is recorded.
            move.in_stripe(require_gateway(gateway, "nothing was changed"), stripe_id)
        except PaymentError:
            with db.unit_of_work() as uow:
                _lock(uow, actor, subscription_id)[0].pending_change = None
            raise
    with db.unit_of_work() as uow:
        return _finish(uow, actor, subscription_id, move, stripe_id)


def _lock(
    uow: UnitOfWork, actor: Actor, subscription_id: int, uid: str | None = None
) -> tuple[Subscription, Customer]:
    """The subscription and its owner, locked owner first (the order a merge takes them in)."""
    found, customer = lock_owner(uow, lambda: _find(uow, actor, subscription_id, uid))
    locked = uow.session.scalars(
        select(Subscription)
        .where(Subscription.id == found.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return locked, customer


def _begin(
    uow: UnitOfWork,
    actor: Actor,
    subscription_id: int,
    move: _Move,
    gateway: PaymentGateway | None,
    uid: str | None,
) -> str | None:
    """Check the change and mark it pending; the Stripe subscription to change, if linked."""
    subscription, _customer = _lock(uow, actor, subscription_id, uid)
    now = uow.now()
    since = subscription.pending_since
    # A change left pending longer than that was interrupted: Stripe's calls are repeatable
    # (pausing twice, cancelling a cancelled one), so this one may go ahead.
    if subscription.pending_change and since is not None and now - since < PENDING_CLAIM:
        raise DomainError(
            f"Subscription #{subscription.id} is being changed ({subscription.pending_change}) "
            "right now; nothing was changed. Check it again in a minute."
        )
    if subscription.state not in move.sources:
        raise _refusal(subscription, move)
    if subscription.stripe_subscription_id:
        require_gateway(gateway, "nothing was changed")
    subscription.pending_change, subscription.pending_since = move.verb, now
    return subscription.stripe_subscription_id


def _finish(
    uow: UnitOfWork, actor: Actor, subscription_id: int, move: _Move, stripe_id: str | None
) -> SubscriptionRow:
    """Record the change Stripe made (or an unlinked one) and clear the pending mark."""
    subscription, customer = _lock(uow, actor, subscription_id)
    subscription.pending_change = subscription.pending_since = None
    plan_name, interval = uow.session.execute(
        select(SubscriptionPlan.name, SubscriptionPlan.interval).where(
            SubscriptionPlan.id == subscription.plan_id
        )
    ).one()
    where = f"{move.done} in Stripe ({stripe_id})" if stripe_id else "not linked to Stripe"
    changes: dict[str, list[str | None]] = {"state": [subscription.state.value, move.target.value]}
    subscription.state = move.target
    if move.target is SubscriptionState.SUSPENDED and subscription.next_payment_at is not None:
        zone = ZoneInfo(ensure_workspace(uow, actor.team_id).timezone)
        due = format_date(subscription.next_payment_at.astimezone(zone).date())
        changes["next_payment"] = [due, None]
        subscription.next_payment_at = None
    if stripe_id:
        # Stripe's events about the state before this change are older now: none rolls it back.
        subscription.stripe_state_at = uow.now()
    subscription.version += 1
    history.record(
        uow,
        actor.user_id,
        customer,
        f"subscription {move.done}",
        changes=changes,
        detail=f"{plan_name} subscription #{subscription.id}, {where}",
    )
    if move.target in {SubscriptionState.PAUSED, SubscriptionState.SUSPENDED}:
        what = f"{plan_name} subscription #{subscription.id} {move.done}"
        alerts.record(uow, alerts.SUBSCRIPTION_ENDED, customer, what)
    return _row(subscription, plan_name, interval)


def pause_subscription(
    db: Transactions,
    actor: Actor,
    subscription_id: int,
    *,
    gateway: PaymentGateway | None,
    uid: str | None = None,
) -> SubscriptionRow:
    """Pause an active subscription: Stripe stops collecting payments until it is resumed."""
    return _apply(db, actor, subscription_id, _PAUSE, gateway, uid)


def resume_subscription(
    db: Transactions,
    actor: Actor,
    subscription_id: int,
    *,
    gateway: PaymentGateway | None,
    uid: str | None = None,
) -> SubscriptionRow:
    """Resume a paused subscription: Stripe collects payments again."""
    return _apply(db, actor, subscription_id, _RESUME, gateway, uid)


SUSPEND_REFUSED = (
    "Only an admin can suspend a subscription: it cancels it at Stripe for good. Pause it "
    "instead, or ask an admin."
)


def suspend_subscription(
    db: Transactions,
    actor: Actor,
    subscription_id: int,
    *,
    gateway: PaymentGateway | None,
    uid: str | None = None,
) -> SubscriptionRow:
    """Suspend (cancel) an active, past due or paused subscription for good; Stripe cancels it
    first.
    Admins only: it cannot be undone."""
    if not actor.is_admin:
        raise Forbidden(SUSPEND_REFUSED)
    return _apply(db, actor, subscription_id, _SUSPEND, gateway, uid)
