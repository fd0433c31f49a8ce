"""A Stripe payment intent pays for one purchase, once, across every workspace.

On SQLite and PostgreSQL; the race itself is in test_capacity_races.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import select

from core.actor import Actor
from core.db import Database
from core.errors import Conflict, DomainError, ValidationFailed
from core.migrations.runner import alembic_config
from core.models import PaymentIntentUse
from core.services.bookings import book_event
from core.services.checkout import StripePayment
from core.services.passes import assign_pass
from core.services.refunds import refund_booking
from tests.unit import history_rows
from tests.unit.commerce_helpers import FakeStripeGateway, new_customers, open_shop

MON = "2026-03-16 07:00"


def test_an_intent_recorded_in_one_workspace_is_refused_in_another(
    db: Database, staff: Actor, other_tenant: Actor
) -> None:
    stripe = FakeStripeGateway()
    paid = StripePayment(stripe.add("pi_Shared", 1200))
    ours, theirs = open_shop(db, staff), open_shop(db, other_tenant)
    (uid,), (their_uid,) = new_customers(db, staff), new_customers(db, other_tenant)
    with db.unit_of_work() as uow:
        book_event(uow, staff, uid, ours.session("yoga", MON), paid, gateway=stripe)
    with db.unit_of_work() as uow, pytest.raises(Conflict) as refused:
        book_event(uow, other_tenant, their_uid, theirs.session("yoga", MON), paid, gateway=stripe)
    assert refused.value.message == (
        "pi_Shared already pays for a booking in another workspace; "
        "one payment pays for one purchase."
    )


def test_an_intent_pays_for_one_row_of_any_kind_in_a_workspace(db: Database, staff: Actor) -> None:
    stripe = FakeStripeGateway()
    paid = StripePayment(stripe.add("pi_Pass", 10000))
    shop = open_shop(db, staff)
    a, b = new_customers(db, staff, 2)
    with db.unit_of_work() as uow:
        held = assign_pass(uow, staff, a, shop.pass_types["ten"], payment=paid, gateway=stripe)
    with db.unit_of_work() as uow, pytest.raises(Conflict) as refused:
        assign_pass(uow, staff, b, shop.pass_types["ten"], payment=paid, gateway=stripe)
    assert refused.value.message.startswith(
        f"pi_Pass already pays for pass #{held.id} (10-class pass) of Person0 Test;"
    )


@pytest.mark.parametrize(
    ("amount", "currency", "status", "problem"),
    [
        (1500, "gbp", "succeeded", "pi_Odd is for £15.00 but this costs £12.00."),
        (1200, "eur", "succeeded", "Payment pi_Odd is in EUR, but this workspace takes GBP."),
        (1200, "gbp", "processing", "Stripe says payment pi_Odd is 'processing', not succeeded"),
    ],
)
def test_an_intent_must_match_the_price_currency_and_be_paid(
    db: Database, staff: Actor, amount: int, currency: str, status: str, problem: str
) -> None:
    stripe = FakeStripeGateway()
    stripe.add("pi_Odd", amount, currency=currency, status=status)
    shop = open_shop(db, staff)
    (uid,) = new_customers(db, staff)
    with db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        book_event(
            uow, staff, uid, shop.session("yoga", MON), StripePayment("pi_Odd"), gateway=stripe
        )
    assert refused.value.errors["payment_intent_id"].startswith(problem)
    with db.unit_of_work(readonly=True) as uow:
        assert uow.session.scalars(select(PaymentIntentUse)).all() == []


def test_the_migration_claims_existing_intents_for_their_first_row(
    db: Database, staff: Actor, other_tenant: Actor
) -> None:
    """Rows sharing an intent before 0007: the first keeps it, the others can't refund it."""
    with db.unit_of_work() as uow:
        now = uow.now()
        bookings = []
        for actor in (staff, other_tenant):
            shop = history_rows.shop(uow, actor.team_id, now + timedelta(days=3))
            owner = history_rows.customer(uow, actor)
            bookings.append(
                history_rows.booking(uow, shop, owner, now, stripe_payment_intent_id="pi_Legacy")
            )
        first, second = (b.id for b in bookings)
    config = alembic_config(db.engine)
    command.downgrade(config, "0005")
    command.upgrade(config, "head")

    with db.unit_of_work(readonly=True) as uow:
        [use] = uow.session.scalars(select(PaymentIntentUse)).all()
        assert (use.payment_intent_id, use.team_id, use.kind, use.row_id) == (
            "pi_Legacy",
            staff.team_id,
            "booking",
            first,
        )
        assert (use.amount_minor, use.currency) == (1200, "GBP")
    with pytest.raises(DomainError) as refused:
        refund_booking(db, other_tenant, second, amount_minor=None, gateway=FakeStripeGateway())
    assert refused.value.message.startswith(
        f"pi_Legacy pays for another purchase, not booking #{second}"
    )
