"""Paying for what staff book or assign: Manual, pass credits (Package), a Stripe payment, or
later through a payment link (Unpaid until the customer pays)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.actor import Actor
from core.adapters.payments import PaymentGateway, PaymentIntentInfo, require_gateway
from core.db import UnitOfWork
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from core.formatting import format_credits, format_date, format_money, format_when
from core.models import (
    Appointment,
    AppointmentService,
    AppointmentState,
    Attendance,
    Booking,
    BookingState,
    Customer,
    CustomerStatus,
    Event,
    EventOccurrence,
    LinkStatus,
    Pass,
    PassState,
    PassType,
    PaymentIntentUse,
    PaymentLink,
    PaymentMethod,
    Video,
    VideoPurchase,
)
from core.services import alerts
from core.services.catalog import LocalTimeError, local_to_utc
from core.services.customers import lock_owner

# Money columns are 32-bit integers of minor units.
MAX_PRICE_MINOR = 2**31 - 1
_INTENT_ID = re.compile(r"pi_[A-Za-z0-9_]{1,61}")
# What `payment_intent_uses.kind` calls each row a Stripe payment can pay for.
PaidRow = Booking | Appointment | Pass | VideoPurchase
_KIND: dict[type[PaidRow], str] = {
    Booking: "booking",
    Appointment: "appointment",
    Pass: "pass",
    VideoPurchase: "video",
}
# Refunds are recorded on these; a video purchase keeps no refunded amount.
RefundableRow = Booking | Appointment | Pass
PAID_MODELS: dict[str, type[PaidRow]] = {kind: model for model, kind in _KIND.items()}


def paid_kind(paid: PaidRow) -> str:
    """'booking', 'appointment', 'pass' or 'video': what a payment intent's claim calls the row."""
    return _KIND[type(paid)]


@dataclass(frozen=True)
class ManualPayment:
    """Paid another way, or free: `price_minor` None charges the catalog price, 0 is free."""

    price_minor: int | None = None


@dataclass(frozen=True)
class PackagePayment:
    """Paid with credits taken from pass `pass_id` of the same customer."""

    pass_id: int


@dataclass(frozen=True)
class StripePayment:
    """Paid through Stripe with payment intent `payment_intent_id` (pi_…), verified with Stripe."""

    payment_intent_id: str


@dataclass(frozen=True)
class LinkPayment:
    """To be paid by the customer through a Stripe payment link sent once it is made (Unpaid)."""


PaymentChoice = ManualPayment | PackagePayment | StripePayment | LinkPayment
NOTHING_TO_PAY = (
    "This costs nothing, so there is nothing to pay through a link; choose Manual to make it free."
)


@dataclass(frozen=True)
class Settled:
    """How a purchase was paid: money (minor units) or credits from a pass, or a Stripe payment."""

    method: PaymentMethod
    price_minor: int | None
    credits: int | None = None
    pass_id: int | None = None
    pass_label: str = ""
    payment_intent_id: str | None = None
    # Credits checked but not taken: the studio takes them when the customer is marked Attended.
    credits_at_check_in: bool = False

    def describe(self, currency: str) -> str:
        """'(1 CR from 10-class pass #12)', '(£12.00, paid manually)', '(free)'…, for history."""
        if self.method is PaymentMethod.PACKAGE:
            when = ", taken at check-in" if self.credits_at_check_in else ""
            return f"({format_credits(self.credits or 0)} from {self.pass_label}{when})"
        money = format_money(self.price_minor or 0, currency)
        if self.method is PaymentMethod.UNPAID:
            return f"({money}, unpaid: to be paid through a payment link)"
        if self.method is PaymentMethod.STRIPE:
            return f"({money} paid through Stripe, {self.payment_intent_id})"
        return "(free)" if not self.price_minor else f"({money}, paid manually)"


class _Listed(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def payment_method(self) -> PaymentMethod: ...


Listed = TypeVar("Listed", bound=_Listed)


def mark_awaiting(uow: UnitOfWork, team_id: str, kind: str, rows: list[Listed]) -> list[Listed]:
    """`rows` with `awaiting_link` set on the unpaid ones whose payment link is open now."""
    unpaid = [row.id for row in rows if row.payment_method is PaymentMethod.UNPAID]
    if not unpaid:
        return rows
    open_ids = set(
        uow.session.scalars(
            select(PaymentLink.target_id).where(
                PaymentLink.team_id == team_id,
                PaymentLink.kind == kind,
                PaymentLink.target_id.in_(unpaid),
                PaymentLink.status == LinkStatus.OPEN,
                PaymentLink.expires_at > uow.now(),
            )
        )
    )
    return [replace(row, awaiting_link=True) if row.id in open_ids else row for row in rows]  # type: ignore[type-var]


def refuse_archived(customer: Customer, doing: str) -> None:
    """Archived customers take nothing new: staff activate them first."""
    if customer.status is CustomerStatus.ARCHIVED:
        raise DomainError(
            f"{customer.full_name} is archived; activate them before {doing} for them."
        )


def business_date(moment: datetime, timezone: str) -> date:
    """The calendar day of `moment` in the business time zone (pass validity is in those days)."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def business_instant(local: datetime, timezone: str, field: str) -> datetime:
    """UTC instant of naive wall-clock `local`; a time skipped or repeated at DST is refused."""
    if local.tzinfo is not None:
        raise ValueError("give the local wall-clock time without a time zone")
    try:
        return local_to_utc(local, timezone)
    except LocalTimeError as exc:
        raise ValidationFailed({field: str(exc)}) from None


def verify_stripe_payment(
    gateway: PaymentGateway | None, payment: StripePayment
) -> PaymentIntentInfo:
    """What Stripe says about the payment, if it succeeded; call it before taking any lock."""
    intent_id = payment.payment_intent_id.strip()
    if not _INTENT_ID.fullmatch(intent_id):
        raise ValidationFailed(
            {"payment_intent_id": "Paste the payment intent id from Stripe; it starts with pi_."}
        )
    info = require_gateway(
        gateway, "the payment cannot be checked; record it as Manual instead"
    ).retrieve_payment_intent(intent_id)
    if info.status != "succeeded":
        raise ValidationFailed(
            {
                "payment_intent_id": f"Stripe says payment {intent_id} is {info.status!r}, "
                "not succeeded; only a completed payment can be recorded."
            }
        )
    return info


def payment_in_use(uow: UnitOfWork, team_id: str, intent_id: str) -> str | None:
    """What already records payment `intent_id`, named for staff of workspace `team_id`, or None.

    A purchase in another workspace is only called that: its details are not this one's."""
    use = uow.session.get(PaymentIntentUse, intent_id)
    if use is None:
        return None
    if use.team_id != team_id:
        return f"a {use.kind} in another workspace"
    return _described(uow, use) or f"{use.kind} #{use.row_id}, since deleted"


def _described(uow: UnitOfWork, use: PaymentIntentUse) -> str | None:
    owner = Customer.first_name + " " + Customer.last_name
    if use.kind == "booking":
        booking = uow.session.execute(
            select(Event.name, EventOccurrence.starts_at, EventOccurrence.timezone, owner)
            .select_from(Booking)
            .join(EventOccurrence, EventOccurrence.id == Booking.occurrence_id)
            .join(Event, Event.id == EventOccurrence.event_id)
            .join(Customer, Customer.id == Booking.customer_id)
            .where(Booking.id == use.row_id)
        ).first()
        if booking is None:
            return None
        name, starts_at, timezone, who = booking
        return f"booking #{use.row_id} ({name} on {format_when(starts_at, timezone)}) of {who}"
    if use.kind == "appointment":
        found = uow.session.execute(
            select(AppointmentService.name, owner)
            .select_from(Appointment)
            .join(AppointmentService, AppointmentService.id == Appointment.service_id)
            .join(Customer, Customer.id == Appointment.customer_id)
            .where(Appointment.id == use.row_id)
        ).first()
    elif use.kind == "video":
        found = uow.session.execute(
            select(Video.title, owner)
            .select_from(VideoPurchase)
            .join(Video, Video.id == VideoPurchase.video_id)
            .join(Customer, Customer.id == VideoPurchase.customer_id)
            .where(VideoPurchase.id == use.row_id)
        ).first()
    else:
        found = uow.session.execute(
            select(PassType.name, owner)
            .select_from(Pass)
            .join(PassType, PassType.id == Pass.pass_type_id)
            .join(Customer, Customer.id == Pass.customer_id)
            .where(Pass.id == use.row_id)
        ).first()
    return None if found is None else f"{use.kind} #{use.row_id} ({found[0]}) of {found[1]}"


def used_payment(intent_id: str, where: str) -> Conflict:
    """The refusal for recording a payment twice."""
    return Conflict(f"{intent_id} already pays for {where}; one payment pays for one purchase.")


def _claim(
    uow: UnitOfWork, team_id: str, info: PaymentIntentInfo, price_minor: int, currency: str
) -> None:
    if info.currency.upper() != currency.upper():
        raise ValidationFailed(
            {
                "payment_intent_id": f"Payment {info.id} is in {info.currency.upper()}, "
                f"but this workspace takes {currency}."
            }
        )
    where = payment_in_use(uow, team_id, info.id)
    if where is not None:
        raise used_payment(info.id, where)
    if info.amount_minor != price_minor:
        raise ValidationFailed(
            {
                "payment_intent_id": f"{info.id} is for {format_money(info.amount_minor, currency)} "
                f"but this costs {format_money(price_minor, currency)}."
            }
        )


def record_payment(
    uow: UnitOfWork, team_id: str, settled: Settled, currency: str, paid: PaidRow
) -> None:
    """Claim the Stripe payment that settled `paid` for it; refused if anything claimed it first.

    The claim's primary key is the intent id: of two requests racing to record one payment,
    the database lets one insert it (PostgreSQL makes the other wait, then fail)."""
    intent_id = settled.payment_intent_id
    if intent_id is None:
        return
    use = PaymentIntentUse(
        payment_intent_id=intent_id,
        team_id=team_id,
        kind=paid_kind(paid),
        row_id=paid.id,
        amount_minor=settled.price_minor or 0,
        currency=currency,
        recorded_at=uow.now(),
    )
    try:
        with uow.session.begin_nested():
            uow.session.add(use)
    except IntegrityError:
        raise used_payment(
            intent_id, payment_in_use(uow, team_id, intent_id) or "another purchase"
        ) from None


def pass_label(uow: UnitOfWork, held: Pass) -> str:
    """'10-class pass #12'."""
    name = uow.session.scalar(select(PassType.name).where(PassType.id == held.pass_type_id))
    return f"{name} #{held.id}"


def _lock_pass(uow: UnitOfWork, team_id: str, pass_id: int) -> Pass:
    held = uow.session.scalars(
        select(Pass)
        .where(Pass.id == pass_id, Pass.team_id == team_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if held is None:
        raise NotFound(f"Pass #{pass_id} no longer exists; it may have been deleted.")
    return held


def check_pass_valid(uow: UnitOfWork, held: Pass, on: date) -> None:
    """Refuse a cancelled or unpaid pass, or one not valid on day `on`."""
    if held.state is PassState.CANCELLED:
        raise ValidationFailed({"pass_id": f"{pass_label(uow, held)} is cancelled."})
    if held.state is PassState.UNPAID:
        raise ValidationFailed(
            {"pass_id": f"{pass_label(uow, held)} is not paid yet; its credits can't be used."}
        )
    if not held.valid_from <= on <= held.valid_to:
        raise ValidationFailed(
            {
                "pass_id": f"{pass_label(uow, held)} is valid from {format_date(held.valid_from)} "
                f"to {format_date(held.valid_to)}, not on {format_date(on)}."
            }
        )


# Sessions that began longer ago than this and were never checked in keep no credits back:
# a forgotten check-in must not block the pass for good.
PROMISE_KEPT_FOR = timedelta(days=1)


def _promised(uow: UnitOfWork, pass_id: int) -> int:
    """Credits of `pass_id` that bookings and appointments will take when marked Attended."""
    since = uow.now() - PROMISE_KEPT_FOR
    bookings = (
        select(func.coalesce(func.sum(Booking.credits), 0))
        .join(EventOccurrence, EventOccurrence.id == Booking.occurrence_id)
        .where(
            Booking.pass_id == pass_id,
            Booking.credits_at_check_in.is_(True),
            Booking.attendance.is_(None),
            Booking.state != BookingState.CANCELLED,
            EventOccurrence.starts_at >= since,
        )
    )
    appointments = select(func.coalesce(func.sum(Appointment.credits), 0)).where(
        Appointment.pass_id == pass_id,
        Appointment.credits_at_check_in.is_(True),
        Appointment.attendance.is_(None),
        Appointment.state != AppointmentState.CANCELLED,
        Appointment.starts_at >= since,
    )
    return sum(uow.session.scalar(query) or 0 for query in (bookings, appointments))


def _usable_pass(
    uow: UnitOfWork, customer: Customer, pass_id: int, credits: int, on: date, promised: int = 0
) -> Pass:
    """The customer's pass, locked, valid on `on` with `credits` left beyond `promised` ones."""
    held = _lock_pass(uow, customer.team_id, pass_id)
    if held.customer_id != customer.id:
        raise ValidationFailed({"pass_id": f"Pass #{pass_id} belongs to another customer."})
    check_pass_valid(uow, held, on)
    free = held.credits_remaining - promised
    if free < credits:
        waiting = f", {format_credits(promised)} of them kept for check-ins" if promised else ""
        raise ValidationFailed(
            {
                "pass_id": f"{pass_label(uow, held)} has {format_credits(held.credits_remaining)} "
                f"left{waiting}; this costs {format_credits(credits)}."
            }
        )
    return held


def hold_credits(uow: UnitOfWork, customer: Customer, pass_id: int, credits: int, on: date) -> Pass:
    """Check the pass can pay `credits` on day `on` besides the credits other check-ins will
    take, without taking them: under the check-in rule they are taken when Attended."""
    return _usable_pass(uow, customer, pass_id, credits, on, _promised(uow, pass_id))


def take_credits(
    uow: UnitOfWork, customer: Customer, pass_id: int, credits: int, on: date
) -> tuple[Pass, int]:
    """Take `credits` from the customer's pass for use on day `on`; (pass, credits before)."""
    held = _usable_pass(uow, customer, pass_id, credits, on)
    before = held.credits_remaining
    held.credits_remaining -= credits
    held.version += 1
    if held.credits_remaining <= 1:
        # "Nearly used up": this use left one credit or none.
        left = "1 credit" if held.credits_remaining else "no credits"
        alerts.record(uow, alerts.CREDITS_LOW, customer, f"Pass #{held.id} has {left} left")
    return held, before


def return_credits(uow: UnitOfWork, team_id: str, pass_id: int, credits: int) -> tuple[Pass, int]:
    """Give `credits` back to the pass they were taken from; (pass, credits before)."""
    held = _lock_pass(uow, team_id, pass_id)
    before = held.credits_remaining
    held.credits_remaining += credits
    held.version += 1
    return held, before


def credits_taken(bought: Booking | Appointment) -> bool:
    """Whether the pass credits that pay for `bought` have come off its pass."""
    return not bought.credits_at_check_in or bought.attendance is Attendance.ATTENDED


def return_paid_credits(
    uow: UnitOfWork, team_id: str, bought: Booking | Appointment | VideoPurchase
) -> tuple[str, dict[str, list[int]]]:
    """Give back the pass credits that paid for `bought`; for history, words and the change.

    ('', {}) when `bought` was not paid with pass credits, or its credits were to be taken at
    check-in and it is not marked attended (so none were taken)."""
    if not (bought.payment_method is PaymentMethod.PACKAGE and bought.pass_id and bought.credits):
        return "", {}
    if not isinstance(bought, VideoPurchase) and not credits_taken(bought):
        return "", {}
    held, before = return_credits(uow, team_id, bought.pass_id, bought.credits)
    label = pass_label(uow, held)
    returned = f"{format_credits(bought.credits)} returned to {label}"
    return returned, {f"credits left on {label}": [before, held.credits_remaining]}


def settle(
    uow: UnitOfWork,
    customer: Customer,
    payment: PaymentChoice,
    *,
    intent: PaymentIntentInfo | None,
    price_minor: int,
    credit_price: int | None,
    on: date,
    currency: str,
    what: str,
    credits_at_check_in: bool = False,
) -> tuple[Settled, dict[str, list[int]]]:
    """Apply `payment` for `what`, used on day `on`; with the pass credits changed, for history.

    Credits come off the pass in the caller's transaction, so the purchase and the credit stand
    or fall together; with `credits_at_check_in` they are only checked, and taken when the
    customer is marked Attended."""
    if isinstance(payment, ManualPayment):
        price = price_minor if payment.price_minor is None else payment.price_minor
        if not 0 <= price <= MAX_PRICE_MINOR:
            raise ValidationFailed({"price": "The price must be zero (free) or more."})
        return Settled(PaymentMethod.MANUAL, price), {}
    if isinstance(payment, PackagePayment):
        if credit_price is None:
            raise ValidationFailed({"pass_id": f"{what} cannot be paid with pass credits."})
        if credits_at_check_in:
            held = hold_credits(uow, customer, payment.pass_id, credit_price, on)
            label = pass_label(uow, held)
            return Settled(
                PaymentMethod.PACKAGE, None, credit_price, held.id, label, credits_at_check_in=True
            ), {}
        held, before = take_credits(uow, customer, payment.pass_id, credit_price, on)
        label = pass_label(uow, held)
        settled = Settled(PaymentMethod.PACKAGE, None, credit_price, held.id, label)
        return settled, {f"credits left on {label}": [before, held.credits_remaining]}
    if isinstance(payment, LinkPayment):
        if price_minor <= 0:
            raise ValidationFailed({"payment": NOTHING_TO_PAY})
        return Settled(PaymentMethod.UNPAID, price_minor), {}
    if intent is None:
        raise ValueError("verify the Stripe payment (verify_stripe_payment) before settling")
    _claim(uow, customer.team_id, intent, price_minor, currency)
    return Settled(PaymentMethod.STRIPE, intent.amount_minor, payment_intent_id=intent.id), {}


Owned = TypeVar("Owned", Booking, Appointment, Pass, VideoPurchase)


def lock_for_change(
    uow: UnitOfWork,
    actor: Actor,
    model: type[Owned],
    row_id: int,
    noun: str,
    *,
    uid: str | None = None,
) -> tuple[Owned, Customer]:
    """Row `row_id` of the actor's workspace and its customer, both locked, customer first.

    Every change here locks the customer before the row, so two changes never wait on each
    other in a circle, and a merge cannot move the row meanwhile. With `uid`, the row must be
    that customer's: a form about one customer never changes another's rows."""
    query = (
        select(model)
        .where(model.id == row_id, model.team_id == actor.team_id)
        .execution_options(populate_existing=True)
    )

    def load() -> Owned:
        row = uow.session.scalars(query).first()
        if row is None:
            raise NotFound(f"{noun} #{row_id} no longer exists; it may have been deleted.")
        return row

    _row, customer = lock_owner(uow, load)
    if uid is not None and customer.uid != uid:
        raise NotFound(f"{noun} #{row_id} is not on this customer's record.")
    return uow.session.scalars(query.with_for_update()).one(), customer
