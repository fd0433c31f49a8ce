"""Payments behind a small protocol: Stripe in production, a local stand-in in tests."""

from __future__ import annotations

import re
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from core.config import Settings
from core.errors import DomainError

if TYPE_CHECKING:
    import stripe
else:
    from core.adapters import stripe_sdk as stripe


# No database lock is held while the app waits for Stripe (see core/services/refunds.py); a
# call, retried once, still ends well within the time a pending change is claimed for.
# Retries reuse the request's idempotency key, so they are safe.
DEFAULT_TIMEOUT = 6.0
DEFAULT_NETWORK_RETRIES = 1
# Refund statuses that do not (or no longer) send money back to the customer.
INACTIVE_REFUND_STATUSES = frozenset({"failed", "canceled"})
_KEY_PATTERN = re.compile(r"\b[a-z]{2,4}_(?:test|live)_\w+")


class PaymentError(DomainError):
    """The payment provider refused or failed; `message` says so in plain words.

    `maybe_done`: the request may have reached Stripe and taken effect (an answer lost)."""

    def __init__(self, message: str, *, maybe_done: bool = False) -> None:
        super().__init__(message)
        self.maybe_done = maybe_done


@dataclass(frozen=True)
class PaymentIntentInfo:
    """What Stripe says about a payment intent."""

    id: str
    status: str
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class RefundInfo:
    """A refund Stripe holds: `status` is pending, succeeded, failed, canceled or requires_action."""

    id: str
    amount_minor: int
    status: str

    @property
    def active(self) -> bool:
        """Whether the money is going (or went) back to the customer."""
        return self.status not in INACTIVE_REFUND_STATUSES


@dataclass(frozen=True)
class CheckoutRequest:
    """A Checkout Session to make: one line of money (mode payment) or a plan's price
    (mode subscription), for one customer's email, naming the record in its metadata."""

    mode: Literal["payment", "subscription"]
    customer_email: str
    reference: str  # client_reference_id
    success_url: str
    cancel_url: str
    expires_at: datetime
    metadata: dict[str, str] = field(default_factory=dict)
    name: str = ""  # payment mode: what the line is called on Stripe's page
    amount_minor: int = 0
    currency: str = ""
    price_id: str = ""  # subscription mode: the plan's Stripe price


@dataclass(frozen=True)
class CheckoutSessionInfo:
    """What Stripe says about a Checkout Session; `data` is its object as a webhook carries it."""

    id: str
    url: str
    status: str  # open, complete or expired
    payment_status: str
    expires_at: datetime
    data: dict[str, Any]


class PaymentGateway(Protocol):
    """The calls the app makes to its payment provider."""

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo:
        """Look up a payment; PaymentError if unknown or unreachable."""

    def refund(
        self, payment_intent_id: str, amount_minor: int, *, idempotency_key: str
    ) -> RefundInfo:
        """Refund part or all of a payment; the key makes a retry return the same refund."""

    def list_refunds(self, payment_intent_id: str) -> list[RefundInfo]:
        """Every refund of a payment, whoever made it (the app or Stripe's dashboard)."""

    def pause_subscription(self, subscription_id: str) -> None:
        """Stop collecting payments until resumed."""

    def resume_subscription(self, subscription_id: str) -> None:
        """Collect payments again."""

    def cancel_subscription(self, subscription_id: str) -> None:
        """End the subscription for good."""

    def check_access(self) -> None:
        """Make sure the key works for reading payments; PaymentError saying why not."""

    def create_checkout_session(
        self, request: CheckoutRequest, *, idempotency_key: str
    ) -> CheckoutSessionInfo:
        """A new Checkout Session; the key makes a retry return the same session."""

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSessionInfo:
        """A Checkout Session as it is now, its subscription (if any) expanded."""

    def expire_checkout_session(self, session_id: str) -> CheckoutSessionInfo:
        """Close an open session so it can no longer be paid; one already closed is returned."""

    def list_events(self, since: datetime, types: frozenset[str]) -> list[dict[str, Any]]:
        """Stripe's events of `types` created at or after `since`, oldest first."""

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any] | None:
        """A subscription as Stripe holds it now; None when Stripe has no such subscription."""


@dataclass(frozen=True)
class StripeAccess:
    """How a studio reaches Stripe: a key, and with Connect the account acted for."""

    api_key: str
    account: str | None = None


def require_gateway(gateway: PaymentGateway | None, nothing_done: str) -> PaymentGateway:
    """`gateway`, or a PaymentError saying Stripe is not configured and `nothing_done`."""
    if gateway is None:
        raise PaymentError(
            f"Stripe is not configured, so {nothing_done}. "
            "An admin can set STRIPE_API_KEY to enable Stripe."
        )
    return gateway


@dataclass(frozen=True)
class _Operation:
    """How to talk about one kind of call when it fails."""

    noun: str  # "refund"
    thing: str  # what Stripe may not know: "payment"
    nothing_done: str  # "nothing was refunded"
    maybe_done: str  # "the refund may have gone through"
    retry_is_safe: str  # why trying again cannot do it twice


_REFUND = _Operation(
    "refund",
    "payment",
    "nothing was refunded",
    "the refund may have gone through",
    "a refund Stripe already made is found and recorded, not repeated",
)
_CHECK = _Operation(
    "key check",
    "account",
    "the key was not saved",
    "the key was not saved",
    "checking again changes nothing",
)
_LOOKUP = _Operation(
    "request",
    "payment",
    "nothing was changed",
    "nothing was changed",
    "looking again changes nothing",
)


_LINK = _Operation(
    "payment link",
    "payment link",
    "no payment link was made",
    "a payment link may have been made",
    "Stripe answers a retry with the link it already made, not a second one",
)
_LINK_LOOKUP = _Operation(
    "request",
    "payment link",
    "nothing was changed",
    "nothing was changed",
    "looking again changes nothing",
)
_LINK_EXPIRE = _Operation(
    "request to expire the payment link",
    "payment link",
    "the link was not expired",
    "Stripe may have expired it already",
    "expiring it again is harmless",
)


_READ = _Operation(
    "request",
    "account",
    "nothing was changed",
    "nothing was changed",
    "reading again changes nothing",
)


def _subscription_change(verb: str) -> _Operation:
    return _Operation(
        f"request to {verb} the subscription",
        "subscription",
        "nothing was changed",
        f"Stripe may have {verb}d it already",
        f"asking Stripe to {verb} it again is harmless",
    )


def _scrub(text: str) -> str:
    """Stripe's own wording, with anything shaped like an API key taken out."""
    return _KEY_PATTERN.sub("[key]", " ".join(text.split()))[:300]


def _never_reached(exc: BaseException) -> bool:
    """Whether a network failure certainly happened before Stripe saw the request."""
    cause: BaseException | None = exc
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ConnectionRefusedError | socket.gaierror):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def _plain(exc: stripe.StripeError, op: _Operation) -> PaymentError:
    """The PaymentError to show for a Stripe failure; never includes the API key."""
    if isinstance(exc, stripe.APIConnectionError):
        if _never_reached(exc):
            return PaymentError(
                f"Stripe couldn't be reached; {op.nothing_done}. Try again in a minute."
            )
        return PaymentError(
            f"The connection to Stripe broke off before it answered, so {op.maybe_done}. "
            f"Try again in a minute: {op.retry_is_safe}.",
            maybe_done=True,
        )
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return PaymentError(
            f"Stripe did not accept the app's API key, so {op.nothing_done}. "
            "An admin needs to check STRIPE_API_KEY."
        )
    if isinstance(exc, stripe.RateLimitError):
        return PaymentError(f"Stripe is busy right now; {op.nothing_done}. Try again in a minute.")
    if isinstance(exc, stripe.IdempotencyError):
        return PaymentError(
            f"Stripe is holding an earlier attempt of this {op.noun} with different details; "
            f"{op.nothing_done} now. Reopen the record and try again in a minute."
        )
    if isinstance(exc, stripe.InvalidRequestError) and exc.http_status == 404:
        return PaymentError(f"Stripe has no record of this {op.thing}, so {op.nothing_done}.")
    if isinstance(exc, stripe.CardError | stripe.InvalidRequestError):
        reason = _scrub(exc.user_message or "") or "no reason given"
        return PaymentError(f"Stripe refused the {op.noun}: {reason}")
    return PaymentError(
        f"Stripe had a problem with the {op.noun}, so {op.maybe_done}. "
        f"Try again in a minute: {op.retry_is_safe}.",
        maybe_done=True,
    )


def _checkout_params(request: CheckoutRequest) -> dict[str, Any]:
    """Stripe's parameters for a Checkout Session; the metadata rides on the payment too."""
    if request.mode == "payment":
        line: dict[str, Any] = {
            "quantity": 1,
            "price_data": {
                "currency": request.currency.lower(),
                "unit_amount": request.amount_minor,
                "product_data": {"name": request.name},
            },
        }
        extra: dict[str, Any] = {"payment_intent_data": {"metadata": request.metadata}}
    else:
        line = {"quantity": 1, "price": request.price_id}
        extra = {"subscription_data": {"metadata": request.metadata}}
    return {
        "mode": request.mode,
        "line_items": [line],
        "customer_email": request.customer_email,
        "client_reference_id": request.reference,
        "metadata": request.metadata,
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
        "expires_at": int(request.expires_at.timestamp()),
        **extra,
    }


def _session_info(session: stripe.checkout.Session) -> CheckoutSessionInfo:
    return CheckoutSessionInfo(
        id=session.id,
        url=session.url or "",
        status=session.status or "open",
        payment_status=session.payment_status,
        expires_at=datetime.fromtimestamp(session.expires_at, UTC),
        data=session.to_dict(),
    )


def _refund_info(refund: stripe.Refund) -> RefundInfo:
    return RefundInfo(id=refund.id, amount_minor=refund.amount, status=refund.status or "pending")


class StripeGateway:
    """PaymentGateway over Stripe's API with the official client; failures become PaymentError."""

    def __init__(
        self,
        api_key: str,
        api_base: str | None = None,
        *,
        stripe_account: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_network_retries: int = DEFAULT_NETWORK_RETRIES,
    ) -> None:
        self._client = stripe.StripeClient(
            api_key,
            stripe_account=stripe_account,
            base_addresses={"api": api_base.rstrip("/")} if api_base else None,
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout),
        )

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo:
        """Look up a payment; PaymentError if unknown or unreachable."""
        try:
            intent = self._client.v1.payment_intents.retrieve(payment_intent_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404 or exc.code == "resource_missing":
                raise PaymentError(
                    f"Stripe has no payment {_scrub(payment_intent_id)}; "
                    "check the id (it starts with pi_)."
                ) from None
            raise _plain(exc, _LOOKUP) from None
        except stripe.StripeError as exc:
            raise _plain(exc, _LOOKUP) from None
        return PaymentIntentInfo(
            id=intent.id,
            status=intent.status,
            amount_minor=intent.amount,
            currency=intent.currency.upper(),
        )

    def refund(
        self, payment_intent_id: str, amount_minor: int, *, idempotency_key: str
    ) -> RefundInfo:
        """Refund part or all of a payment; the key makes a retry return the same refund."""
        try:
            # No `reason`: it is optional for Stripe, and the test stand-in rejects it.
            refund = self._client.v1.refunds.create(
                {"payment_intent": payment_intent_id, "amount": amount_minor},
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _plain(exc, _REFUND) from None
        info = _refund_info(refund)
        if not info.active:
            raise PaymentError(f"Stripe refused the refund: it is {info.status}.")
        return info

    def list_refunds(self, payment_intent_id: str) -> list[RefundInfo]:
        """Every refund of a payment, whoever made it (the app or Stripe's dashboard)."""
        try:
            listing = self._client.v1.refunds.list(
                {"payment_intent": payment_intent_id, "limit": 100}
            )
            return [_refund_info(refund) for refund in listing.auto_paging_iter()]
        except stripe.StripeError as exc:
            raise _plain(exc, _REFUND) from None

    def pause_subscription(self, subscription_id: str) -> None:
        """Stop collecting payments until resumed (invoices meanwhile are voided)."""
        try:
            self._client.v1.subscriptions.update(
                subscription_id, {"pause_collection": {"behavior": "void"}}
            )
        except stripe.StripeError as exc:
            raise _plain(exc, _subscription_change("pause")) from None

    def resume_subscription(self, subscription_id: str) -> None:
        """Collect payments again."""
        try:
            # An empty string is how Stripe's API unsets a field.
            self._client.v1.subscriptions.update(subscription_id, {"pause_collection": ""})
        except stripe.StripeError as exc:
            raise _plain(exc, _subscription_change("resume")) from None

    def cancel_subscription(self, subscription_id: str) -> None:
        """End the subscription for good; one Stripe already cancelled counts as done."""
        try:
            self._client.v1.subscriptions.cancel(subscription_id)
        except stripe.InvalidRequestError as exc:
            # A retry after a cancel whose answer was lost finds it cancelled: that is success.
            if not self._is_cancelled(subscription_id):
                raise _plain(exc, _subscription_change("cancel")) from None
        except stripe.StripeError as exc:
            raise _plain(exc, _subscription_change("cancel")) from None

    def check_access(self) -> None:
        """Make sure the key works for reading payments; PaymentError saying why not."""
        try:
            self._client.v1.payment_intents.list({"limit": 1})
        except stripe.AuthenticationError:
            raise PaymentError(
                "Stripe did not accept this key; copy it again from Stripe."
            ) from None
        except stripe.PermissionError:
            raise PaymentError(
                "This key can't read payments; give the restricted key read access to "
                "PaymentIntents (and write access to Refunds, Checkout and Subscriptions)."
            ) from None
        except stripe.StripeError as exc:
            raise _plain(exc, _CHECK) from None

    def create_checkout_session(
        self, request: CheckoutRequest, *, idempotency_key: str
    ) -> CheckoutSessionInfo:
        """A new Checkout Session; the key makes a retry return the same session."""
        try:
            session = self._client.v1.checkout.sessions.create(
                _checkout_params(request),  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _plain(exc, _LINK) from None
        return _session_info(session)

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSessionInfo:
        """A Checkout Session as it is now, its subscription (if any) expanded."""
        try:
            session = self._client.v1.checkout.sessions.retrieve(
                session_id, {"expand": ["subscription"]}
            )
        except stripe.StripeError as exc:
            raise _plain(exc, _LINK_LOOKUP) from None
        return _session_info(session)

    def expire_checkout_session(self, session_id: str) -> CheckoutSessionInfo:
        """Close an open session so it can no longer be paid; one already closed is returned."""
        try:
            return _session_info(self._client.v1.checkout.sessions.expire(session_id))
        except stripe.InvalidRequestError as exc:
            # Stripe refuses to expire a session that is no longer open: say what it is instead.
            if exc.http_status == 404:
                raise _plain(exc, _LINK_EXPIRE) from None
            closed = self.retrieve_checkout_session(session_id)
            if closed.status == "open":
                raise _plain(exc, _LINK_EXPIRE) from None
            return closed
        except stripe.StripeError as exc:
            raise _plain(exc, _LINK_EXPIRE) from None

    def list_events(self, since: datetime, types: frozenset[str]) -> list[dict[str, Any]]:
        """Stripe's events of `types` created at or after `since`, oldest first (Stripe keeps
        30 days of them)."""
        try:
            listing = self._client.v1.events.list(
                {"created": {"gte": int(since.timestamp())}, "limit": 100}
            )
            # Filtered here: Stripe's `types` filter takes at most 20, and older API stand-ins
            # none.
            found = [e.to_dict() for e in listing.auto_paging_iter() if e.type in types]
        except stripe.StripeError as exc:
            raise _plain(exc, _READ) from None
        # Stripe lists newest first; reversed, events of the same second keep Stripe's order.
        found.reverse()
        return sorted(found, key=lambda e: int(e.get("created") or 0))

    def retrieve_subscription(self, subscription_id: str) -> dict[str, Any] | None:
        """A subscription as Stripe holds it now; None when Stripe has no such subscription."""
        try:
            return self._client.v1.subscriptions.retrieve(subscription_id).to_dict()
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            raise _plain(exc, _READ) from None
        except stripe.StripeError as exc:
            raise _plain(exc, _READ) from None

    def _is_cancelled(self, subscription_id: str) -> bool:
        try:
            subscription = self._client.v1.subscriptions.retrieve(subscription_id)
        except stripe.StripeError:
            return False
        return subscription.status == "canceled"


class Gateways:
    """The Stripe gateway of each studio's access, built once and shared by every request."""

    def __init__(self, api_base: str | None, **options: float | int) -> None:
        self._api_base, self._options = api_base, options
        self._built: dict[StripeAccess, StripeGateway] = {}
        self._lock = threading.Lock()

    def get(self, access: StripeAccess | None) -> PaymentGateway | None:
        """The gateway for `access`; None when the studio has no Stripe account."""
        if access is None:
            return None
        with self._lock:
            found = self._built.get(access)
            if found is None:
                found = self._built[access] = self.build(access, **self._options)
            return found

    def build(self, access: StripeAccess, **options: float | int) -> StripeGateway:
        """A new gateway for `access` (a short `timeout` suits checking a key within Slack's 3 s)."""
        return StripeGateway(
            access.api_key,
            self._api_base,
            stripe_account=access.account,
            **options,  # type: ignore[arg-type]
        )


def gateways_from_settings(settings: Settings) -> Gateways:
    """The gateways of every studio, reaching STRIPE_API_BASE (Stripe itself when unset)."""
    return Gateways(settings.stripe_api_base)
