"""Each studio its own Stripe account, end to end: an admin pastes a key in Home's Stripe
section, it is checked with Stripe, stored encrypted and shown masked; payments and refunds of
that studio use that key only; staff can't change it; a disconnected studio has no Stripe."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.local import SlackDriver, SlackUser
from core.actor import Actor
from core.adapters.payments import PaymentGateway, gateways_from_settings
from core.models import Role, Workspace, WorkspaceAuditEntry
from core.services.catalog_import import import_catalog
from core.services.staff import add_staff
from core.services.stripe_account import stripe_access
from tests.conftest import MutableClock
from tests.slack.commerce_helpers import open_form
from tests.slack.conftest import TEAM, World, running_world
from tests.slack.details_helpers import go_to_tab, open_details
from tests.slack.helpers import (
    JSON,
    acked,
    after,
    customers_home,
    forged_action,
    interaction,
    post_signed,
    published,
    seed,
    text_of,
)
from tests.stripe_server import StripeStandIn, stripe_process, stripe_server  # noqa: F401
from tests.views_check import assert_valid_view

STRIPE = "stripe_account.submit"
OURS = "sk_test_studioOurs12345678"
THEIRS = "sk_test_studioTheirs87654321"
OTHER_TEAM, OTHER_ADMIN = "T0002", "UOTHERADMIN"
PASSES = """
pass_types:
  - {key: ten, name: 10-class pass, credits: 10, validity_days: 90, price: 100}
"""


@pytest.fixture
def stripe_world(
    database_url: str,
    clock: MutableClock,
    stripe_server: StripeStandIn,  # noqa: F811
) -> Iterator[World]:
    """A world whose studios have no Stripe until an admin connects one."""
    settings = {
        "stripe_api_base": stripe_server.url,
        "token_encryption_key": Fernet.generate_key().decode(),
    }
    with running_world(database_url, clock, **settings) as world:
        yield world


def _home(driver: SlackDriver) -> JSON:
    return customers_home(driver)


def _open(driver: SlackDriver, button: str = "Connect Stripe") -> JSON:
    _home(driver)
    after(driver, driver.click(button, surface="home"), "views.open")
    modal = driver.wait_for_view(lambda v: v["callback_id"] == STRIPE)
    assert_valid_view(modal)
    return modal


def _connect(driver: SlackDriver, key: str, secret: str = "") -> JSON:
    _open(driver)
    driver.type(key, into="Secret or restricted key")
    if secret:
        driver.type(secret, into="Webhook signing secret")
    return published(driver, driver.submit())


def _workspace(world: World, team_id: str = TEAM) -> Workspace:
    with world.db.unit_of_work(readonly=True) as uow:
        row = uow.session.get(Workspace, team_id)
        assert row is not None
        uow.session.expunge(row)
        return row


def test_an_admin_connects_a_key_that_stripe_accepts_and_it_is_kept_encrypted(
    stripe_world: World,
    stripe_server: StripeStandIn,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = stripe_world.admin
    assert "Stripe: not connected" in text_of(_home(admin))
    modal = _open(admin)
    assert f"/stripe/webhook/{TEAM}" in text_of(modal)
    admin.type("pk_live_publishable123", into="Secret or restricted key")
    admin.type("nope", into="Webhook signing secret")
    acked(admin.submit())
    errors = admin.errors()
    assert "publishable key" in errors["stripe_key"] and "whsec_" in errors["webhook_secret"]
    # The stand-in, like Stripe, refuses a key it does not know.
    admin.type("rk_test_unknownKey1234", into="Secret or restricted key")
    admin.type("whsec_abcdefgh12345678", into="Webhook signing secret")
    acked(admin.submit())
    assert "did not accept this key" in admin.errors()["stripe_key"]
    assert _workspace(stripe_world).stripe_key is None

    admin.type(OURS, into="Secret or restricted key")
    home = published(admin, admin.submit())
    shown = text_of(home)
    assert "Stripe connected with key sk_test_…5678." in shown
    assert "key `sk_test_…5678`" in shown and "Webhook signing secret set" in shown
    row = _workspace(stripe_world)
    assert row.stripe_key is not None and OURS not in row.stripe_key
    assert row.stripe_webhook_secret is not None and "whsec_" not in row.stripe_webhook_secret
    assert ("GET", "/v1/payment_intents", OURS, "") in stripe_server.calls()
    with stripe_world.db.unit_of_work(readonly=True) as uow:
        audit = uow.session.execute(
            select(WorkspaceAuditEntry.action, WorkspaceAuditEntry.detail)
        ).all()
    assert [tuple(a) for a in audit] == [
        ("stripe connected", "key sk_test_…5678, webhook signing secret")
    ]
    assert OURS not in caplog.text and "whsec_abcdefgh12345678" not in caplog.text
    assert OURS not in str(stripe_world.api.calls)


def test_each_studio_pays_and_is_offered_stripe_through_its_own_account_only(
    stripe_world: World,
    stripe_server: StripeStandIn,  # noqa: F811
) -> None:
    world = stripe_world
    with world.db.unit_of_work() as uow:
        add_staff(uow, Actor(OTHER_TEAM, OTHER_ADMIN, Role.ADMIN), OTHER_ADMIN, Role.ADMIN)
    world.api.add_user(SlackUser(OTHER_ADMIN, "them", team_id=OTHER_TEAM))
    them = world.admin.as_user(OTHER_ADMIN, team_id=OTHER_TEAM)
    seed(world.db, [("Zoë", "Adams")])
    seed(world.db, [("Zoë", "Adams")], team_id=OTHER_TEAM)
    for team in (TEAM, OTHER_TEAM):
        with world.db.unit_of_work() as uow:
            import_catalog(uow, team, PASSES, source="catalog.yaml")
    _connect(world.admin, OURS)

    def pass_form(driver: SlackDriver) -> str:
        open_details(driver, "Zoë Adams")
        go_to_tab(driver, "Passes")
        return text_of(open_form(driver, "Assign Pass", "assign_pass.submit"))

    assert "Stripe" in pass_form(world.admin) and "Stripe" not in pass_form(them)

    _connect(them, THEIRS)
    stripe_server.request("DELETE", "/_test/calls")
    intent = stripe_server.payment(1000)
    gateway = world_gateway(world, OTHER_TEAM)
    assert gateway.retrieve_payment_intent(intent).amount_minor == 1000
    keys = {
        key for _, path, key, _ in stripe_server.calls() if path.startswith("/v1/payment_intents/")
    }
    assert keys == {THEIRS}


def world_gateway(world: World, team_id: str) -> PaymentGateway:
    """The gateway a request of `team_id` would use."""
    with world.db.unit_of_work(readonly=True) as uow:
        access = stripe_access(uow, team_id)
    gateway = gateways_from_settings(world.db.settings).get(access)
    assert gateway is not None
    return gateway


def test_staff_see_the_account_but_a_forged_save_or_disconnect_changes_nothing(
    stripe_world: World,
) -> None:
    world = stripe_world
    staff = world.staff
    _connect(world.admin, OURS)
    home = _home(staff)
    shown = text_of(home)
    assert "key `sk_test_…5678`" in shown
    assert not {"stripe_account.open", "stripe_account.disconnect"} & {
        e.action_id for e in staff.find_elements("home")
    }
    before = _workspace(world).stripe_key
    press = {
        "type": "button",
        "action_id": "stripe_account.disconnect",
        "block_id": "stripe_section",
    }
    home = published(staff, forged_action(staff, home, press))
    assert "Only an admin can connect the studio's Stripe account." in text_of(home)
    modal = _open(world.admin, "Change Stripe key")
    typed = {"stripe_key": {"stripe_account.key": {"type": "plain_text_input", "value": THEIRS}}}
    forged = {**modal, "state": {"values": typed}}
    response = acked(post_signed(staff, interaction(staff, "view_submission", forged)))
    assert "Only an admin can" in response.text
    assert _workspace(world).stripe_key == before


def test_disconnecting_leaves_the_studio_without_stripe(stripe_world: World) -> None:
    admin = stripe_world.admin
    _connect(admin, OURS, "whsec_abcdefgh12345678")
    home = published(admin, admin.click("Disconnect Stripe", surface="home"))
    assert "Stripe disconnected." in text_of(home) and "not connected" in text_of(home)
    row = _workspace(stripe_world)
    assert (row.stripe_key, row.stripe_webhook_secret, row.stripe_key_hint) == (None, None, "")
