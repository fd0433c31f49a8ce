"""A customer's passes (the Passes tab): assigning one; adjusting, extending, cancelling it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from core.actor import Actor
from core.adapters.payments import PaymentGateway
from core.db import UnitOfWork
from core.errors import DomainError, NotFound, ValidationFailed
from core.formatting import format_credits, format_date
from core.models import Customer, Pass, PassState, PassType, PaymentMethod, RefundState
from core.services import history
from core.services.checkout import (
    LinkPayment,
    ManualPayment,
    StripePayment,
    business_date,
    lock_for_change,
    mark_awaiting,
    record_payment,
    refuse_archived,
    settle,
    verify_stripe_payment,
)
from core.services.customers import find_customer, load_for_change
from core.services.paging import Page, fetch_page
from core.services.tabs import NamedCatalog, tab_scope
from core.services.workspaces import ensure_workspace
from core.text import squeeze

_PASS_TYPES = NamedCatalog(PassType.id, PassType.name, PassType.team_id)
_STATE_OF = {
    PaymentMethod.MANUAL: PassState.MANUAL,
    PaymentMethod.STRIPE: PassState.COMPLETED,
    PaymentMethod.UNPAID: PassState.UNPAID,
}
ASSIGNED = "pass assigned"
CREDITS_ADJUSTED = "pass credits adjusted"
EXTENDED = "pass extended"
CANCELLED = "pass cancelled"
REASON_MAX = 200
MAX_ADJUSTMENT = 1000


@dataclass(frozen=True)
class PassRow:
    """One pass as the tab shows it."""

    id: int
    purchased_at: datetime
    name: str
    valid_from: date
    valid_to: date
    credits_total: int
    credits_remaining: int
    price_minor: int
    currency: str
    payment_method: PaymentMethod
    state: PassState
    # Refunds of its Stripe payment made in Stripe's dashboard (recorded from the webhook).
    refunded_minor: int = 0
    refund_state: RefundState = RefundState.NONE
    # Unpaid, with a payment link the customer can still pay.
    awaiting_link: bool = False


def list_passes(
    uow: UnitOfWork, actor: Actor, uid: str, *, query: str = "", page: int = 1, page_size: int = 10
) -> Page[PassRow]:
    """One page of customer `uid`'s passes, newest first; `query` is a pass name or '#id'."""
    scope = tab_scope(uow, actor, uid, query, [_PASS_TYPES])
    statement = (
        select(Pass, PassType.name.label("pass_name"))
        .join(PassType, PassType.id == Pass.pass_type_id)
        .where(
            Pass.team_id == actor.team_id,
            Pass.customer_id == scope.customer_id,
            scope.condition(Pass.id, [Pass.pass_type_id]),
        )
        .order_by(Pass.purchased_at.desc(), Pass.id.desc())
    )
    rows, total, page, page_size = fetch_page(uow, statement, page=page, page_size=page_size)
    listed = [pass_row(p, name) for p, name in rows]
    return Page(mark_awaiting(uow, actor.team_id, "pass", listed), total, page, page_size)


def pass_row(held: Pass, name: str) -> PassRow:
    """The tab row of pass `held` of type `name`."""
    return PassRow(
        id=held.id,
        purchased_at=held.purchased_at,
        name=name,
        valid_from=held.valid_from,
        valid_to=held.valid_to,
        credits_total=held.credits_total,
        credits_remaining=held.credits_remaining,
        price_minor=held.price_minor,
        currency=held.currency,
        payment_method=held.payment_method,
        state=held.state,
        refunded_minor=held.refunded_minor,
        refund_state=held.refund_state,
    )


@dataclass(frozen=True)
class PassTypeOption:
    """A pass type staff can assign (archived ones are not offered)."""

    id: int
    name: str
    credits: int
    validity_days: int
    price_minor: int
    currency: str


def pass_type_options(uow: UnitOfWork, actor: Actor) -> list[PassTypeOption]:
    """The workspace's pass types that are not archived, by name."""
    currency = ensure_workspace(uow, actor.team_id).currency
    kinds = uow.session.scalars(
        select(PassType)
        .where(PassType.team_id == actor.team_id, PassType.archived.is_(False))
        .order_by(PassType.name, PassType.id)
    )
    return [
        PassTypeOption(k.id, k.name, k.credits, k.validity_days, k.price_minor, currency)
        for k in kinds
    ]


def usable_passes_on(
    uow: UnitOfWork, actor: Actor, uid: str, on: date, credits: int
) -> list[PassRow]:
    """Customer `uid`'s passes that can pay `credits` for use on day `on`, soonest to end first."""
    customer = find_customer(uow, actor, uid)
    rows = uow.session.execute(
        select(Pass, PassType.name)
        .join(PassType, PassType.id == Pass.pass_type_id)
        .where(
            Pass.team_id == actor.team_id,
            Pass.customer_id == customer.id,
            # A cancelled pass's credits are gone; an unpaid one's are not the customer's yet.
            Pass.state.not_in([PassState.CANCELLED, PassState.UNPAID]),
            Pass.valid_from <= on,
            Pass.valid_to >= on,
            Pass.credits_remaining >= credits,
        )
        .order_by(Pass.valid_to, Pass.id)
    )
    return [pass_row(held, name) for held, name in rows]


def assign_pass(
    uow: UnitOfWork,
    actor: Actor,
    uid: str,
    pass_type_id: int,
    *,
    valid_from: date | None = None,
    payment: ManualPayment | StripePayment | LinkPayment,
    gateway: PaymentGateway | None = None,
) -> PassRow:
    """Give customer `uid` a pass of the type: its credits, its days from `valid_from` (today).

    An archived type is refused. State Manual, or Completed when a Stripe payment is recorded (its amount is the price)."""
    intent = verify_stripe_payment(gateway, payment) if isinstance(payment, StripePayment) else None
    customer = load_for_change(uow, actor, uid)
    refuse_archived(customer, "assigning a pass")
    kind = uow.session.scalars(
        select(PassType).where(PassType.id == pass_type_id, PassType.team_id == actor.team_id)
    ).first()
    if kind is None:
        raise NotFound("That pass type no longer exists; choose another.")
    if kind.archived:
        raise ValidationFailed(
            {"pass_type_id": f"{kind.name} is archived; choose another pass type."}
        )
    workspace = ensure_workspace(uow, actor.team_id)
    now = uow.now()
    first = valid_from or business_date(now, workspace.timezone)
    settled, _ = settle(
        uow,
        customer,
        payment,
        intent=intent,
        price_minor=kind.price_minor,
        credit_price=None,
        on=first,
        currency=workspace.currency,
        what=kind.name,
    )
    held = Pass(
        team_id=actor.team_id,
        customer_id=customer.id,
        pass_type_id=kind.id,
        purchased_at=now,
        valid_from=first,
        valid_to=first + timedelta(days=kind.validity_days - 1),
        credits_total=kind.credits,
        credits_remaining=kind.credits,
        price_minor=settled.price_minor or 0,
        currency=workspace.currency,
        payment_method=settled.method,
        stripe_payment_intent_id=settled.payment_intent_id,
        state=_STATE_OF[settled.method],
        version=1,
    )
    uow.session.add(held)
    uow.session.flush()
    record_payment(uow, actor.team_id, settled, workspace.currency, held)
    history.record(
        uow,
        actor.user_id,
        customer,
        ASSIGNED,
        detail=f"assigned {kind.name} #{held.id}: {format_credits(kind.credits)}, valid "
        f"{format_date(held.valid_from)} to {format_date(held.valid_to)} "
        f"{settled.describe(workspace.currency)}",
    )
    return pass_row(held, kind.name)


def _for_change(
    uow: UnitOfWork, actor: Actor, pass_id: int, uid: str | None
) -> tuple[Pass, Customer, str]:
    """The pass and its customer, locked, and the pass's type name; a cancelled one is refused."""
    held, customer = lock_for_change(uow, actor, Pass, pass_id, "Pass", uid=uid)
    name = uow.session.scalar(select(PassType.name).where(PassType.id == held.pass_type_id)) or ""
    if held.state is PassState.CANCELLED:
        raise DomainError(f"{name} #{held.id} is cancelled; assign a new pass instead.")
    return held, customer, name


def adjust_pass_credits(
    uow: UnitOfWork,
    actor: Actor,
    pass_id: int,
    delta: int,
    reason: str,
    *,
    uid: str | None = None,
) -> PassRow:
    """Add (`delta` > 0) or remove credits, with a reason for the history; never below 0 left.

    Credits granted move with those left, so used + left = granted stays true."""
    why = squeeze(reason)
    errors: dict[str, str] = {}
    if not why:
        errors["reason"] = "Say why the credits change; the account history keeps the reason."
    elif len(why) > REASON_MAX:
        errors["reason"] = f"Keep the reason to {REASON_MAX} characters."
    if delta == 0:
        errors["delta"] = "Add or remove at least one credit."
    elif abs(delta) > MAX_ADJUSTMENT:
        errors["delta"] = f"Change at most {MAX_ADJUSTMENT} credits at a time."
    if errors:
        raise ValidationFailed(errors)
    held, customer, name = _for_change(uow, actor, pass_id, uid)
    label = f"{name} #{held.id}"
    if held.credits_remaining + delta < 0:
        raise ValidationFailed(
            {
                "delta": f"{label} has {format_credits(held.credits_remaining)} left, so at most "
                f"{held.credits_remaining} can be removed."
            }
        )
    left, granted = held.credits_remaining, held.credits_total
    held.credits_remaining += delta
    held.credits_total += delta
    held.version += 1
    verb = (
        f"added {format_credits(delta)} to"
        if delta > 0
        else f"removed {format_credits(-delta)} from"
    )
    history.record(
        uow,
        actor.user_id,
        customer,
        CREDITS_ADJUSTED,
        changes={
            "credits left": [left, held.credits_remaining],
            "credits granted": [granted, held.credits_total],
        },
        detail=f"{verb} {label}: {why}",
    )
    uow.session.flush()
    return pass_row(held, name)


def extend_pass(
    uow: UnitOfWork, actor: Actor, pass_id: int, valid_to: date, *, uid: str | None = None
) -> PassRow:
    """Move the pass's last valid day later (never earlier)."""
    held, customer, name = _for_change(uow, actor, pass_id, uid)
    label = f"{name} #{held.id}"
    if valid_to <= held.valid_to:
        raise ValidationFailed(
            {
                "valid_to": f"{label} is already valid to {format_date(held.valid_to)}; "
                "choose a later day."
            }
        )
    before = held.valid_to
    held.valid_to = valid_to
    held.version += 1
    history.record(
        uow,
        actor.user_id,
        customer,
        EXTENDED,
        changes={"valid to": [format_date(before), format_date(valid_to)]},
        detail=f"extended {label} from {format_date(before)} to {format_date(valid_to)}",
    )
    uow.session.flush()
    return pass_row(held, name)


def cancel_pass(uow: UnitOfWork, actor: Actor, pass_id: int, *, uid: str | None = None) -> PassRow:
    """Withdraw the pass: no more credits can be taken from it; what it paid for stays booked."""
    held, customer, name = _for_change(uow, actor, pass_id, uid)
    label = f"{name} #{held.id}"
    before = held.state
    held.state = PassState.CANCELLED
    held.version += 1
    unused = f"{held.credits_remaining} of {format_credits(held.credits_total)} unused"
    paid = (
        "; its Stripe payment is not refunded"
        if held.payment_method is PaymentMethod.STRIPE
        else ""
    )
    history.record(
        uow,
        actor.user_id,
        customer,
        CANCELLED,
        changes={"state": [before.value, held.state.value]},
        detail=f"cancelled {label} ({unused}){paid}",
    )
    uow.session.flush()
    return pass_row(held, name)
