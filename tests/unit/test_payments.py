"""StripeGateway through the real `stripe` client against the Stripe stand-in on loopback."""

# ruff: noqa: F811 - tests take the imported stand-in fixtures as parameters

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest

from core.adapters.payments import (
    PaymentError,
    StripeAccess,
    StripeGateway,
    gateways_from_settings,
)
from tests.conftest import make_settings
from tests.stripe_server import (
    API_KEY,
    HOST,
    StripeStandIn,
    stripe_process,  # noqa: F401 - a fixture
    stripe_server,  # noqa: F401 - a fixture
)

SECRET = "sk_test_51SecretThatMustNeverShowUp"


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound (so nothing else takes it), not listening."""
    with socket.socket() as placeholder:
        placeholder.bind((HOST, 0))
        yield placeholder.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections (the kernel's backlog) but never answers."""
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_reads_a_payment_intent(stripe_server: StripeStandIn) -> None:
    intent_id = stripe_server.payment(1200)

    info = stripe_server.gateway().retrieve_payment_intent(intent_id)

    assert (info.id, info.status, info.amount_minor, info.currency) == (
        intent_id,
        "succeeded",
        1200,
        "GBP",
    )


def test_unknown_payment_intent_is_named_plainly(stripe_server: StripeStandIn) -> None:
    with pytest.raises(PaymentError, match=r"Stripe has no payment pi_missing; check the id"):
        stripe_server.gateway().retrieve_payment_intent("pi_missing")


def test_refunds_part_of_a_payment_and_lists_it(stripe_server: StripeStandIn) -> None:
    intent_id = stripe_server.payment(1200)
    gateway = stripe_server.gateway()

    refund = gateway.refund(intent_id, 500, idempotency_key="k-1")

    assert refund.id.startswith("re_")
    assert (refund.amount_minor, refund.status, refund.active) == (500, "succeeded", True)
    assert gateway.list_refunds(intent_id) == [refund]
    # The stand-in holds exactly what was asked for (no `reason` sent: it would reject one).
    assert [(r["id"], r["amount"]) for r in stripe_server.refunds(intent_id)] == [(refund.id, 500)]


def test_refund_of_an_unknown_payment_is_refused_plainly(stripe_server: StripeStandIn) -> None:
    with pytest.raises(PaymentError) as caught:
        stripe_server.gateway().refund("pi_missing", 100, idempotency_key="k-1")

    assert caught.value.message == "Stripe has no record of this payment, so nothing was refunded."


def test_unreachable_stripe_means_nothing_was_refunded(refused_port: int) -> None:
    # One automatic retry, as in production (with fewer of them): both are refused.
    gateway = StripeGateway(
        API_KEY, f"http://{HOST}:{refused_port}", timeout=2, max_network_retries=1
    )

    with pytest.raises(PaymentError) as caught:
        gateway.refund("pi_123", 100, idempotency_key="k-1")

    assert caught.value.message == (
        "Stripe couldn't be reached; nothing was refunded. Try again in a minute."
    )


def test_a_stripe_that_never_answers_may_have_refunded(silent_port: int) -> None:
    gateway = StripeGateway(
        API_KEY, f"http://{HOST}:{silent_port}", timeout=0.3, max_network_retries=0
    )

    with pytest.raises(PaymentError) as caught:
        gateway.refund("pi_123", 100, idempotency_key="k-1")

    message = caught.value.message
    assert message.startswith("The connection to Stripe broke off before it answered")
    assert "the refund may have gone through" in message
    assert "found and recorded, not repeated" in message


def test_a_rejected_key_is_reported_without_the_key(
    stripe_server: StripeStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # The stand-in only accepts keys that start with sk_.
    wrong = "rk_test_" + SECRET
    gateway = StripeGateway(wrong, stripe_server.url, max_network_retries=0)

    with pytest.raises(PaymentError) as caught:
        gateway.refund("pi_123", 100, idempotency_key="k-1")

    assert caught.value.message == (
        "Stripe did not accept the app's API key, so nothing was refunded. "
        "An admin needs to check STRIPE_API_KEY."
    )
    assert caught.value.__suppress_context__
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(gateway)
    assert SECRET not in caplog.text


def test_the_key_stays_out_of_logs_of_a_working_call(
    stripe_server: StripeStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gateway = StripeGateway("sk_test_" + SECRET, stripe_server.url, max_network_retries=0)

    gateway.refund(stripe_server.payment(900), 900, idempotency_key="k-1")

    assert SECRET not in caplog.text


def test_cancels_a_subscription_and_a_second_cancel_is_harmless(
    stripe_server: StripeStandIn,
) -> None:
    subscription_id = stripe_server.subscription()
    gateway = stripe_server.gateway()

    gateway.cancel_subscription(subscription_id)
    gateway.cancel_subscription(subscription_id)

    assert stripe_server.subscription_status(subscription_id) == "canceled"


def test_cancelling_an_unknown_subscription_is_refused(stripe_server: StripeStandIn) -> None:
    with pytest.raises(PaymentError, match="no record of this subscription, so nothing was"):
        stripe_server.gateway().cancel_subscription("sub_missing")


def test_stand_in_lacks_pause_collection(stripe_server: StripeStandIn) -> None:
    """localstripe 1.15 implements no `pause_collection`; real Stripe does.

    What this pins down is the failure path: the stand-in answers 500, and the gateway turns
    that into a plain PaymentError that does not claim the pause surely failed."""
    subscription_id = stripe_server.subscription()

    for action in (
        stripe_server.gateway().pause_subscription,
        stripe_server.gateway().resume_subscription,
    ):
        with pytest.raises(PaymentError, match="Stripe had a problem with the request to"):
            action(subscription_id)
    assert stripe_server.subscription_status(subscription_id) == "active"


def test_gateways_share_one_gateway_per_access_and_none_without_one(
    stripe_server: StripeStandIn,
) -> None:
    gateways = gateways_from_settings(
        make_settings("sqlite://", stripe_api_key=API_KEY, stripe_api_base=stripe_server.url)
    )
    assert gateways.get(None) is None
    gateway = gateways.get(StripeAccess(API_KEY))
    assert gateway is not None and gateways.get(StripeAccess(API_KEY)) is gateway
    assert gateways.get(StripeAccess(API_KEY, "acct_other")) is not gateway
    intent_id = stripe_server.payment(700)

    assert gateway.retrieve_payment_intent(intent_id).amount_minor == 700
