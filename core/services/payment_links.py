"""Payment links: staff mail a customer a Stripe Checkout Session for an unpaid booking,
appointment, pass or video purchase (mode payment), or to start a plan (mode subscription);
Stripe's checkout.session events record the outcome (`apply_checkout_event`).

No database lock is held while Stripe answers (as in core/services/refunds.py):
1. A short transaction locks the record (or the customer, for a plan) and claims the link's
   next attempt as pending, or finds the link sent before still open: that one is shown
   again, never sent twice. An attempt pending longer than PENDING_CLAIM was interrupted,
   and the next one takes it over with the same attempt number.
2. With no transaction open, Stripe makes the session. Its idempotency key names the record
   and the attempt, so a retry after a lost answer gets the session Stripe already made.
3. A second transaction records the session as open, queues the mail and writes the history.
   If Stripe failed, the claim is dropped, or kept for the next attempt to finish at once
   when Stripe may have made the session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select

from core.actor import Actor
from core.adapters.mail import queue_payment_link_mail
from core.adapters.payments import (
    CheckoutRequest,
    CheckoutSessionInfo,
    PaymentError,
    PaymentGateway,
    require_gateway,
)
from core.db import Transactions, UnitOfWork
from core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from core.formatting import format_money, format_when
from core.models import (
    Appointment,
    AppointmentService,
    Booking,
    BookingState,
    Customer,
    Event,
    EventOccurrence,
    Facilitator,
    LinkStatus,
    Pass,
    PassState,
    PassType,
    PaymentLink,
    PaymentMethod,
    Subscription,
    SubscriptionPlan,
    SubscriptionState,
    Video,
    VideoPurchase,
)
from core.services import history
from core.services.checkout import (
    NOTHING_TO_PAY,
    PaidRow,
    Settled,
    lock_for_change,
    record_payment,
    refuse_archived,
)
from core.services.customers import anonymised_refusal, load_for_change
from core.services.workspaces import ensure_workspace

RecordKind = Literal["booking", "appointment", "pass", "video"]
_PAID_HOW = {
    PaymentMethod.MANUAL: "marked paid (or free) by staff",
    PaymentMethod.STRIPE: "paid through Stripe",
    PaymentMethod.PACKAGE: "paid with pass credits",
    PaymentMethod.UNPAID: "unpaid",
}
NOUNS: dict[RecordKind, str] = {
    "booking": "Booking",
    "appointment": "Appointment",
    "pass": "Pass",
    "video": "Video purchase",
}
# What a record made with a link and then withdrawn (Stripe failed) leaves undone.
NOT_KEPT: dict[RecordKind, str] = {
    "booking": "nothing was booked",
    "appointment": "no appointment was booked",
    "pass": "no pass was assigned",
    "video": "no video was assigned",
}
LINK_SENT = "payment link sent"
LINK_EXPIRED = "payment link expired"
PAYMENT_RECEIVED = "payment received"
SUBSCRIPTION_STARTED = "subscription started"
WITHDRAWN = "withdrawn, no payment link"
STRIPE_ACTOR = "Stripe"
COMPLETED = "checkout.session.completed"
ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
EXPIRED = "checkout.session.expired"
NO_LINK = "no payment link was made"
# Stripe accepts 30 minutes to 24 hours; an hour short of the most keeps clear of clock drift.
LINK_LIFETIME = timedelta(hours=23)
# Longer than a Stripe call with its retry takes: a claim pending longer was interrupted.
PENDING_CLAIM = timedelta(seconds=60)


@dataclass(frozen=True)
class SentLink:
    """A payment link as staff see it: mailed now (`new`), or the open one shown again.

    `paid`: Stripe says the customer paid it meanwhile, and that is now recorded."""

    title: str  # "booking #12 (Morning Yoga on 16 Mar 2026, 07:00 GMT)"
    session_id: str
    url: str
    sent_to: str
    amount_minor: int
    currency: str
    expires_at: datetime
    new: bool
    paid: bool = False
    subscription: bool = False


@dataclass(frozen=True)
class PlanOption:
    """A plan offered by Start subscription; `why_not` says why it can't be started ('' if it can)."""

    id: int
    name: str
    price_minor: int
    currency: str
    interval: str
    why_not: str = ""


@dataclass(frozen=True)
class _Target:
    """What a link is for: its kind and id (a plan's for a subscription), price and words."""

    kind: str
    target_id: int
    title: str  # for staff and the history: "booking #12 (Morning Yoga on …)"
    what: str  # for the customer's mail and Stripe's page: "Morning Yoga on …"
    amount_minor: int
    currency: str
    price_id: str = ""

    @property
    def subscription(self) -> bool:
        return self.kind == "subscription"


@dataclass(frozen=True)
class _Pending:
    """An attempt claimed in step 1: what to ask Stripe for, with no transaction open."""

    link_id: int
    key: str
    request: CheckoutRequest
    target: _Target


# -- what a link is for ------------------------------------------------------------------------


def _lock_record(
    uow: UnitOfWork, actor: Actor, kind: str, row_id: int, uid: str | None
) -> tuple[PaidRow, Customer]:
    """The record and its customer, both locked (customer first, as every change does)."""
    if kind == "booking":
        return lock_for_change(uow, actor, Booking, row_id, "Booking", uid=uid)
    if kind == "appointment":
        return lock_for_change(uow, actor, Appointment, row_id, "Appointment", uid=uid)
    if kind == "pass":
        return lock_for_change(uow, actor, Pass, row_id, "Pass", uid=uid)
    if kind == "video":
        return lock_for_change(uow, actor, VideoPurchase, row_id, "Video purchase", uid=uid)
    raise NotFound("That isn't something a payment link can be sent for.")


def _cancelled(row: PaidRow) -> bool:
    if isinstance(row, VideoPurchase):
        return row.cancelled_at is not None
    return row.state.value == "cancelled"


def _what(uow: UnitOfWork, row: PaidRow, timezone: str) -> str:
    """What the record is, as the customer knows it: 'Morning Yoga on 16 Mar 2026, 07:00 GMT'."""
    if isinstance(row, Booking):
        session = uow.session.execute(
            select(Event.name, EventOccurrence.starts_at, EventOccurrence.timezone)
            .join(Event, Event.id == EventOccurrence.event_id)
            .where(EventOccurrence.id == row.occurrence_id)
        ).one()
        return f"{session[0]} on {format_when(session[1], session[2])}"
    if isinstance(row, Appointment):
        service = uow.session.scalar(
            select(AppointmentService.name).where(AppointmentService.id == row.service_id)
        )
        facilitator = uow.session.scalar(
            select(Facilitator.name).where(Facilitator.id == row.facilitator_id)
        )
        return f"{service} with {facilitator} on {format_when(row.starts_at, timezone)}"
    if isinstance(row, Pass):
        return (
            uow.session.scalar(select(PassType.name).where(PassType.id == row.pass_type_id)) or ""
        )
    title = uow.session.scalar(select(Video.title).where(Video.id == row.video_id)) or ""
    return f"{title} (video)"


def _record_target(uow: UnitOfWork, kind: RecordKind, row: PaidRow, timezone: str) -> _Target:
    """The record as a link's target, once it is known to be payable by link."""
    noun = f"{NOUNS[kind]} #{row.id}"
    if _cancelled(row):
        raise DomainError(f"{noun} is cancelled, so there is nothing to pay for.")
    if row.payment_method is not PaymentMethod.UNPAID:
        raise DomainError(f"{noun} is already {_PAID_HOW[row.payment_method]}; no link is needed.")
    if not row.price_minor:
        raise DomainError(f"{noun}: {NOTHING_TO_PAY}")
    what = _what(uow, row, timezone)
    return _Target(kind, row.id, f"{noun.lower()} ({what})", what, row.price_minor, row.currency)


def _require_email(customer: Customer) -> None:
    if customer.anonymised_at is not None:
        raise anonymised_refusal(customer)
    if not customer.email.strip():
        raise DomainError(
            f"{customer.full_name} has no email address, so a payment link can't be sent; "
            "add one with Edit on their details first."
        )


# -- step 1: claim an attempt, or find the open link ------------------------------------------


def _latest(uow: UnitOfWork, customer: Customer, target: _Target) -> PaymentLink | None:
    query = select(PaymentLink).where(
        PaymentLink.team_id == customer.team_id,
        PaymentLink.kind == target.kind,
        PaymentLink.target_id == target.target_id,
    )
    if target.subscription:
        # A plan is the target of every customer's link to it.
        query = query.where(PaymentLink.customer_id == customer.id)
    return uow.session.scalars(
        query.order_by(PaymentLink.attempt.desc(), PaymentLink.id.desc())
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def _shown(link: PaymentLink, target: _Target) -> SentLink:
    assert link.expires_at is not None
    return SentLink(
        target.title,
        link.session_id or "",
        link.url,
        link.sent_to,
        link.amount_minor,
        link.currency,
        link.expires_at,
        new=False,
        subscription=target.subscription,
    )


def _lapsed(link: PaymentLink, now: datetime) -> bool:
    """Open or pending past its `expires_at`: Stripe no longer takes payment through it."""
    live = link.status in (LinkStatus.OPEN, LinkStatus.PENDING)
    return live and link.expires_at is not None and link.expires_at <= now


def _claim(
    uow: UnitOfWork, actor: Actor, customer: Customer, target: _Target
) -> SentLink | _Pending:
    """The open link to show again, or this request's claim on the next attempt."""
    latest, now = _latest(uow, customer, target), uow.now()
    if latest is not None and _lapsed(latest, now):
        latest.status, latest.pending_since = LinkStatus.EXPIRED, None
    if latest is not None and latest.status is LinkStatus.OPEN:
        return _shown(latest, target)
    if latest is not None and latest.status is LinkStatus.PENDING:
        since = latest.pending_since
        if since is not None and now - since < PENDING_CLAIM:
            raise Conflict(
                f"A payment link for {target.title} is being made right now; nothing more was "
                "sent. Look again in a minute."
            )
        # Interrupted: this attempt finishes that one, asking Stripe with the same key.
        latest.pending_since = now
        return _pending(uow, customer, latest, target)
    link = PaymentLink(
        team_id=customer.team_id,
        customer_id=customer.id,
        kind=target.kind,
        target_id=target.target_id,
        attempt=(latest.attempt if latest is not None else 0) + 1,
        mode="subscription" if target.subscription else "payment",
        status=LinkStatus.PENDING,
        amount_minor=target.amount_minor,
        currency=target.currency,
        url="",
        expires_at=now + LINK_LIFETIME,
        sent_to=customer.email,
        created_by=actor.user_id,
        created_at=now,
        pending_since=now,
    )
    uow.session.add(link)
    uow.session.flush()
    return _pending(uow, customer, link, target)


def _with_query(url: str, query: str) -> str:
    """`url` with `query` added ahead of any fragment."""
    base, hash_mark, fragment = url.partition("#")
    return f"{base}{'&' if '?' in base else '?'}{query}{hash_mark}{fragment}"


def _pending(uow: UnitOfWork, customer: Customer, link: PaymentLink, target: _Target) -> _Pending:
    """What to ask Stripe for: the same for every try of one attempt, as its key requires."""
    workspace = ensure_workspace(uow, customer.team_id)
    portal = workspace.portal_url or uow.settings.portal_url
    if not portal:
        raise DomainError(
            "The studio has no portal address, where Stripe sends customers back after paying; "
            f"an admin sets it in Studio settings. {NO_LINK.capitalize()}."
        )
    assert link.expires_at is not None
    reference = f"{link.team_id}:{link.kind}:{link.target_id}"
    request = CheckoutRequest(
        mode="subscription" if target.subscription else "payment",
        customer_email=link.sent_to,
        reference=reference,
        # Stripe fills in {CHECKOUT_SESSION_ID} itself.
        success_url=_with_query(portal, "checkout=paid&session_id={CHECKOUT_SESSION_ID}"),
        cancel_url=_with_query(portal, "checkout=cancelled"),
        expires_at=link.expires_at,
        metadata={
            "team_id": link.team_id,
            "link_id": str(link.id),
            "kind": link.kind,
            "target_id": str(link.target_id),
            "customer_uid": customer.uid,
        },
        name=f"{target.what} ({target.title.split(' (')[0]})"[:250],
        amount_minor=link.amount_minor,
        currency=link.currency,
        price_id=target.price_id,
    )
    key = f"payment-link:{reference}:{link.customer_id}:{link.attempt}"
    return _Pending(link.id, key, request, target)


def _begin_record(
    uow: UnitOfWork, actor: Actor, kind: RecordKind, row_id: int, uid: str | None
) -> SentLink | _Pending:
    row, customer = _lock_record(uow, actor, kind, row_id, uid)
    target = _record_target(uow, kind, row, ensure_workspace(uow, actor.team_id).timezone)
    _require_email(customer)
    return _claim(uow, actor, customer, target)


# -- steps 2 and 3: ask Stripe, record what it made -------------------------------------------


def _release(uow: UnitOfWork, link_id: int, *, interrupted: bool) -> None:
    """Stripe failed: drop the claim, or (Stripe may have made the session) leave it for the
    next attempt to finish at once."""
    link = uow.session.get(PaymentLink, link_id, with_for_update=True, populate_existing=True)
    if link is None or link.status is not LinkStatus.PENDING:
        return
    if interrupted:
        link.pending_since = None
    else:
        uow.session.delete(link)


@dataclass
class _Held:
    """A link with what it is for, locked in the order every change takes them: the customer,
    the record (None once deleted), then the link."""

    link: PaymentLink
    customer: Customer | None
    row: PaidRow | None


def _hold(uow: UnitOfWork, link_id: int, team_id: str) -> _Held | None:
    found = uow.session.get(PaymentLink, link_id)
    if found is None or found.team_id != team_id:
        return None
    row: PaidRow | None = None
    customer: Customer | None
    if found.kind == "subscription":
        customer = uow.session.get(
            Customer, found.customer_id, with_for_update=True, populate_existing=True
        )
    else:
        try:
            row, customer = _lock_record(
                uow, Actor(team_id, STRIPE_ACTOR), found.kind, found.target_id, None
            )
        except NotFound:
            customer = uow.session.get(Customer, found.customer_id, with_for_update=True)
    link = uow.session.scalars(
        select(PaymentLink)
        .where(PaymentLink.id == link_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    return None if link is None else _Held(link, customer, row)


def _payable(held: _Held) -> bool:
    """Whether the link may still be mailed: its customer is there, its record unpaid."""
    if held.customer is None:
        return False
    row = held.row
    if held.link.kind == "subscription":
        return True
    return row is not None and not _cancelled(row) and row.payment_method is PaymentMethod.UNPAID


def _record_open(
    uow: UnitOfWork, actor: Actor, pending: _Pending, info: CheckoutSessionInfo
) -> SentLink | None:
    """Record the session as open, mail it and note it; None when what it pays for has
    meanwhile been cancelled or paid (the caller then expires the session)."""
    target = pending.target
    held = _hold(uow, pending.link_id, actor.team_id)
    link = held.link if held is not None else None
    if link is not None and link.session_id == info.id and link.status is LinkStatus.OPEN:
        # An attempt that took over this one's claim recorded the same session already.
        return _shown(link, target)
    if held is None or link is None or link.status is not LinkStatus.PENDING:
        raise Conflict(
            f"The payment link for {target.title} was finished by another attempt; "
            "reopen the customer to see it."
        )
    link.session_id, link.url, link.expires_at = info.id, info.url, info.expires_at
    link.pending_since = None
    if not _payable(held) or held.customer is None:
        link.status = LinkStatus.EXPIRED
        return None
    customer = held.customer
    link.status, link.sent_to = LinkStatus.OPEN, customer.email
    timezone = ensure_workspace(uow, actor.team_id).timezone
    until = format_when(info.expires_at, timezone)
    queue_payment_link_mail(
        uow, customer, what=target.what, url=info.url, until=until, subscribe=target.subscription
    )
    money = format_money(link.amount_minor, link.currency)
    history.record(
        uow,
        actor.user_id,
        customer,
        LINK_SENT,
        detail=f"mailed a payment link for {target.title} ({money}) to {customer.email}, "
        f"open until {until}; Stripe Checkout Session {info.id}",
    )
    return replace(_shown(link, target), new=True)


def _create(
    db: Transactions, actor: Actor, pending: _Pending, payments: PaymentGateway
) -> SentLink:
    """Steps 2 and 3 for a claimed attempt."""
    try:
        info = payments.create_checkout_session(pending.request, idempotency_key=pending.key)
    except PaymentError as exc:
        with db.unit_of_work() as uow:
            _release(uow, pending.link_id, interrupted=exc.maybe_done)
        raise
    with db.unit_of_work() as uow:
        sent = _record_open(uow, actor, pending, info)
    if sent is None:
        # Nobody was mailed the link; closing it makes sure it can never be paid.
        payments.expire_checkout_session(info.id)
        raise Conflict(
            f"{pending.target.title.capitalize()} was cancelled or paid while the link was "
            "being made, so the link was withdrawn and nothing was sent."
        )
    return sent


def _still_open(
    db: Transactions,
    actor: Actor,
    shown: SentLink,
    payments: PaymentGateway,
    again: Callable[[], SentLink],
) -> SentLink:
    """The open link shown again, after asking Stripe whether it was paid or expired meanwhile.

    Stripe unreachable: the link is shown as recorded, since it is open by our records."""
    try:
        info = payments.retrieve_checkout_session(shown.session_id)
    except PaymentError:
        return shown
    if info.status == "open":
        return shown
    event = COMPLETED if info.status == "complete" else EXPIRED
    with db.unit_of_work() as uow:
        apply_checkout_event(uow, actor.team_id, event, info.data)
    return replace(shown, paid=True) if event == COMPLETED else again()


# -- what staff do -----------------------------------------------------------------------------


def send_link(
    db: Transactions,
    actor: Actor,
    kind: RecordKind,
    row_id: int,
    *,
    gateway: PaymentGateway | None,
    uid: str | None = None,
) -> SentLink:
    """Mail the customer a payment link for unpaid record `row_id`; the open one is shown
    again instead of sending another, and an expired one is replaced by a new one."""
    payments = require_gateway(gateway, NO_LINK)
    return _send_or_show(
        db, actor, payments, lambda uow: _begin_record(uow, actor, kind, row_id, uid)
    )


def _send_or_show(
    db: Transactions,
    actor: Actor,
    payments: PaymentGateway,
    begin: Callable[[UnitOfWork], _Pending | SentLink],
) -> SentLink:
    """A new link for what `begin` claims, or the open one shown again once Stripe confirms it
    is still open (paid or expired meanwhile: recorded, then begun once more)."""

    def attempt(recheck: bool) -> SentLink:
        with db.unit_of_work() as uow:
            step = begin(uow)
        if isinstance(step, _Pending):
            return _create(db, actor, step, payments)
        if not recheck:
            return step
        return _still_open(db, actor, step, payments, lambda: attempt(False))

    return attempt(True)


def create_and_send(
    db: Transactions,
    actor: Actor,
    kind: RecordKind,
    create: Callable[[UnitOfWork, Actor], int],
    *,
    gateway: PaymentGateway | None,
) -> SentLink:
    """Make a record unpaid with `create` (its id), then mail its payment link.

    When Stripe surely made no link, the record is withdrawn: nothing is left half done."""
    payments = require_gateway(gateway, f"{NO_LINK}; choose another payment")
    with db.unit_of_work() as uow:
        row_id = create(uow, actor)
        step = _begin_record(uow, actor, kind, row_id, None)
    if isinstance(step, SentLink):
        return step
    try:
        return _create(db, actor, step, payments)
    except PaymentError as exc:
        title = step.target.title.capitalize()
        if exc.maybe_done:
            raise PaymentError(
                f"{exc.message} {title} is kept, unpaid: use Send payment link on it to finish; "
                "it finds the link Stripe may have made rather than making a second.",
                maybe_done=True,
            ) from None
        with db.unit_of_work() as uow:
            _withdraw(uow, actor, kind, row_id, exc.message)
        raise PaymentError(f"{exc.message} So {NOT_KEPT[kind]}.") from None


def _withdraw(uow: UnitOfWork, actor: Actor, kind: RecordKind, row_id: int, why: str) -> None:
    """Take back a record made for a link Stripe could not make."""
    row, customer = _lock_record(uow, actor, kind, row_id, None)
    uow.session.delete(row)
    history.record(
        uow,
        actor.user_id,
        customer,
        f"{NOUNS[kind].lower()} {WITHDRAWN}",
        detail=f"took back {NOUNS[kind].lower()} #{row_id}, made to be paid by link: {why}",
    )


def plan_options(uow: UnitOfWork, actor: Actor) -> list[PlanOption]:
    """The plans not archived, by name; one without a Stripe price says it can't be started."""
    currency = ensure_workspace(uow, actor.team_id).currency
    plans = uow.session.scalars(
        select(SubscriptionPlan)
        .where(SubscriptionPlan.team_id == actor.team_id, SubscriptionPlan.archived.is_(False))
        .order_by(SubscriptionPlan.name, SubscriptionPlan.id)
    )
    return [
        PlanOption(
            p.id,
            p.name,
            p.price_minor,
            currency,
            p.interval,
            "" if p.stripe_price_id else "no Stripe price id; an admin adds it in the catalog",
        )
        for p in plans
    ]


def _plan_target(uow: UnitOfWork, actor: Actor, customer: Customer, plan_id: int) -> _Target:
    plan = uow.session.scalars(
        select(SubscriptionPlan).where(
            SubscriptionPlan.id == plan_id, SubscriptionPlan.team_id == actor.team_id
        )
    ).first()
    if plan is None or plan.archived:
        raise ValidationFailed({"plan_id": "That plan is no longer offered; choose another."})
    if not plan.stripe_price_id:
        raise ValidationFailed(
            {
                "plan_id": f"{plan.name} has no Stripe price id, so it can't be started here; "
                "an admin adds it to the plan in Home's Catalog."
            }
        )
    already = uow.session.scalar(
        select(Subscription.id).where(
            Subscription.customer_id == customer.id,
            Subscription.plan_id == plan.id,
            Subscription.state != SubscriptionState.SUSPENDED,
        )
    )
    if already is not None:
        raise ValidationFailed(
            {"plan_id": f"{customer.full_name} already has {plan.name} (subscription #{already})."}
        )
    currency = ensure_workspace(uow, actor.team_id).currency
    price = f"{format_money(plan.price_minor, currency)} per {plan.interval}"
    what = f"{plan.name} ({price})"
    return _Target(
        "subscription",
        plan.id,
        f"the {what} plan",
        what,
        plan.price_minor,
        currency,
        plan.stripe_price_id,
    )


def start_subscription(
    db: Transactions, actor: Actor, uid: str, plan_id: int, *, gateway: PaymentGateway | None
) -> SentLink:
    """Mail customer `uid` a Stripe link to subscribe to the plan; the subscription is recorded
    when Stripe says it was paid. An open link for the plan is shown again instead."""
    payments = require_gateway(gateway, NO_LINK)

    def begin(uow: UnitOfWork) -> _Pending | SentLink:
        customer = load_for_change(uow, actor, uid)
        refuse_archived(customer, "starting a subscription")
        _require_email(customer)
        return _claim(uow, actor, customer, _plan_target(uow, actor, customer, plan_id))

    return _send_or_show(db, actor, payments, begin)


# -- what Stripe says --------------------------------------------------------------------------


def apply_checkout_event(
    uow: UnitOfWork, team_id: str, event_type: str, session: dict[str, Any]
) -> str:
    """Record what a checkout.session event says of workspace `team_id`'s payment link: paid
    (the record paid through Stripe, or the subscription started) or expired (unpaid again, a
    new link can be sent). Idempotent; a session naming another workspace is refused.

    Returns what was done, in a few words for the log. A subscription-mode session should come
    with its `subscription` expanded, so the next payment date is Stripe's own."""
    if event_type not in (COMPLETED, ASYNC_SUCCEEDED, EXPIRED):
        return f"ignored: {event_type} is not a Checkout Session outcome"
    metadata = session.get("metadata")
    if not isinstance(metadata, dict) or "link_id" not in metadata:
        return "ignored: not a payment link sent from Slack"
    if metadata.get("team_id") != team_id:
        raise Forbidden(
            "This Checkout Session was made for another workspace; nothing was recorded."
        )
    held = _session_link(uow, team_id, session, metadata)
    if held is None:
        return f"ignored: no payment link here for Checkout Session {session.get('id')}"
    if event_type == EXPIRED:
        return _expired(uow, held)
    link = held.link
    if link.status is LinkStatus.COMPLETE:
        return f"already recorded: link {link.id} was paid ({link.paid_with})"
    if session.get("payment_status") not in ("paid", "no_payment_required"):
        return f"not paid yet: link {link.id} waits for its payment to clear"
    if link.kind == "subscription":
        return _subscribed(uow, held, session)
    return _paid(uow, held, session)


def _session_link(
    uow: UnitOfWork, team_id: str, session: dict[str, Any], metadata: dict[str, Any]
) -> _Held | None:
    """The link the session was made for, held; a link whose answer was lost takes it on."""
    session_id = session.get("id")
    try:
        link_id = int(str(metadata["link_id"]))
    except ValueError:
        return None
    held = _hold(uow, link_id, team_id) if isinstance(session_id, str) else None
    if held is None:
        return None
    link = held.link
    if link.session_id is None:
        link.session_id, link.url = session_id, str(session.get("url") or "")
    return held if link.session_id == session_id else None


def _expired(uow: UnitOfWork, held: _Held) -> str:
    link, customer = held.link, held.customer
    if link.status not in (LinkStatus.OPEN, LinkStatus.PENDING):
        return f"already {link.status.value}: link {link.id} is unchanged"
    link.status, link.pending_since = LinkStatus.EXPIRED, None
    if customer is not None:
        what = f"{link.kind} #{link.target_id}" if link.kind != "subscription" else "a plan"
        history.record(
            uow,
            STRIPE_ACTOR,
            customer,
            LINK_EXPIRED,
            detail=f"the payment link for {what} ({link.session_id}) expired unpaid; "
            "staff can send a new one",
        )
    return f"expired: link {link.id}"


def _stripe_id(value: object) -> str:
    """An id Stripe sends plain, or inside the object when expanded."""
    if isinstance(value, dict):
        value = value.get("id")
    if not isinstance(value, str) or not value:
        raise DomainError(
            "Stripe's completed Checkout Session names no payment; nothing was recorded."
        )
    return value


def _paid(uow: UnitOfWork, held: _Held, session: dict[str, Any]) -> str:
    """The record paid through Stripe with the session's payment intent."""
    link, row, customer = held.link, held.row, held.customer
    intent_id = _stripe_id(session.get("payment_intent"))
    amount = int(session.get("amount_total") or link.amount_minor)
    money = format_money(amount, link.currency)
    link.status, link.paid_with, link.pending_since = LinkStatus.COMPLETE, intent_id, None
    noun = f"{link.kind} #{link.target_id}"
    if row is None or customer is None:
        if customer is not None:
            history.record(
                uow,
                STRIPE_ACTOR,
                customer,
                PAYMENT_RECEIVED,
                detail=f"{money} paid through Stripe ({intent_id}) for {noun}, which no longer "
                "exists; refund it in Stripe if due",
            )
        return f"paid for deleted {noun}"
    if row.payment_method is not PaymentMethod.UNPAID:
        history.record(
            uow,
            STRIPE_ACTOR,
            customer,
            PAYMENT_RECEIVED,
            detail=f"{money} paid through Stripe ({intent_id}) for {noun}, which was already "
            f"paid ({row.payment_method.value}); refund one of the payments if due",
        )
        return f"paid twice: {noun}"
    _mark_paid(uow, row, Settled(PaymentMethod.STRIPE, amount, payment_intent_id=intent_id))
    late = "; it was cancelled before it was paid, so refund it if due" if _cancelled(row) else ""
    history.record(
        uow,
        STRIPE_ACTOR,
        customer,
        PAYMENT_RECEIVED,
        changes={"payment": [PaymentMethod.UNPAID.value, PaymentMethod.STRIPE.value]},
        detail=f"{money} paid through Stripe for {noun} with its payment link ({intent_id}){late}",
    )
    return f"paid: {noun}"


def _mark_paid(uow: UnitOfWork, row: PaidRow, settled: Settled) -> None:
    record_payment(uow, row.team_id, settled, row.currency, row)
    row.payment_method = PaymentMethod.STRIPE
    row.stripe_payment_intent_id = settled.payment_intent_id
    row.price_minor = settled.price_minor or 0
    row.version += 1
    if isinstance(row, Booking) and row.state is BookingState.UNPAID:
        row.state = BookingState.COMPLETED
    if isinstance(row, Pass) and row.state is PassState.UNPAID:
        row.state = PassState.COMPLETED


def _subscribed(uow: UnitOfWork, held: _Held, session: dict[str, Any]) -> str:
    """The Subscription row for the session's Stripe subscription, made once."""
    link, customer = held.link, held.customer
    stripe_id = _stripe_id(session.get("subscription"))
    link.status, link.paid_with, link.pending_since = LinkStatus.COMPLETE, stripe_id, None
    existing = uow.session.scalar(
        select(Subscription.id).where(
            Subscription.team_id == link.team_id, Subscription.stripe_subscription_id == stripe_id
        )
    )
    if existing is not None:
        return f"already recorded: subscription #{existing}"
    plan = uow.session.get(SubscriptionPlan, link.target_id)
    if customer is None or plan is None:
        return f"ignored: the customer or plan of link {link.id} is gone"
    now = uow.now()
    amount = int(session.get("amount_total") or plan.price_minor)
    row = Subscription(
        team_id=link.team_id,
        customer_id=customer.id,
        plan_id=plan.id,
        created_at=now,
        next_payment_at=_next_payment(session.get("subscription"), plan.interval, now),
        price_minor=amount,
        currency=link.currency,
        state=SubscriptionState.ACTIVE,
        stripe_subscription_id=stripe_id,
        version=1,
    )
    uow.session.add(row)
    uow.session.flush()
    money = format_money(amount, link.currency)
    history.record(
        uow,
        STRIPE_ACTOR,
        customer,
        SUBSCRIPTION_STARTED,
        detail=f"{plan.name} subscription #{row.id} started through its payment link "
        f"({money} per {plan.interval}; Stripe subscription {stripe_id})",
    )
    return f"subscribed: subscription #{row.id}"


def _next_payment(subscription: object, interval: str, now: datetime) -> datetime:
    """When Stripe next charges: its subscription's period end (on its item in newer API
    versions), or, when the event carried only the id, one interval from now."""
    if isinstance(subscription, dict):
        items = (subscription.get("items") or {}).get("data") or [{}]
        end = items[0].get("current_period_end") or subscription.get("current_period_end")
        if isinstance(end, int):
            return datetime.fromtimestamp(end, UTC)
    return _after(now, interval)


def _after(moment: datetime, interval: str) -> datetime:
    if interval == "week":
        return moment + timedelta(days=7)
    months = 12 if interval == "year" else 1
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, _days_in(year, month + 1))
    return moment.replace(year=year, month=month + 1, day=day)


def _days_in(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day
