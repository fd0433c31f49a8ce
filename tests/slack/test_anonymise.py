"""Anonymise end to end: the Account tab's button and confirmation, and Delete's offer of it."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.local import SlackDriver
from core.models import Booking, Customer
from tests.slack.conftest import World
from tests.slack.details_helpers import (
    customer_id,
    details_after,
    go_to_tab,
    notice_of,
    open_details,
    seed_history,
)
from tests.slack.helpers import (
    DELETE,
    DETAILS,
    HUB,
    JSON,
    acked,
    after,
    forged_action,
    is_view,
    open_hub,
    row_menu,
    rows,
    seed,
    text_of,
)

ANONYMISE = "customer_anonymise.submit"
PEOPLE = [("Zoe", "Adams"), ("Adam", "Smith")]


def _people(world: World) -> dict[str, str]:
    """Zoe Adams with paid bookings (Stripe and manual), Adam Smith with nothing bought."""
    uids = {c.full_name: c.uid for c in seed(world.db, PEOPLE)}
    seed_history(world.db, uids["Zoe Adams"], bookings=4)
    return uids


def _bookings(world: World, uid: str) -> int:
    with world.db.unit_of_work(readonly=True) as uow:
        owner = customer_id(uow, uid)
        query = select(func.count()).select_from(Booking).where(Booking.customer_id == owner)
        return uow.session.scalar(query) or 0


def _anonymised(world: World, uid: str) -> bool:
    with world.db.unit_of_work(readonly=True) as uow:
        found = uow.session.scalar(select(Customer.anonymised_at).where(Customer.uid == uid))
        return found is not None


def _buttons(view: JSON) -> list[str]:
    return [
        element["text"]["text"]
        for block in view["blocks"]
        for element in block.get("elements", [])
        if element.get("type") == "button"
    ]


def _account(driver: SlackDriver) -> JSON:
    open_details(driver, "Zoe Adams", text="Zoe")
    return go_to_tab(driver, "Account", "Account History")


def test_an_admin_anonymises_from_the_account_tab(world: World) -> None:
    uids = _people(world)
    zoe = uids["Zoe Adams"]
    driver = world.admin
    _account(driver)

    after(driver, driver.click("Anonymise"), "views.push")
    confirm = driver.wait_for_view(is_view(ANONYMISE, "Anonymise Zoe Adams"))
    shown = text_of(confirm)
    assert "Erased for good" in shown and "Kept for the accounts" in shown
    assert "cannot be undone" in shown
    assert len(world.api.stack(driver.user_id)) == 3
    acked(driver.submit())

    view = driver.wait_for_view(is_view(DETAILS, f"Anonymised customer {zoe}"))
    assert "personal details are erased" in notice_of(view)
    assert "Zoe" not in text_of(view).replace(f"customer {zoe}", "")
    assert "Anonymise" not in _buttons(view) and "Edit" not in _buttons(view)
    assert _anonymised(world, zoe) and _bookings(world, zoe) == 4
    # The hub underneath no longer lists them among active customers.
    driver.close()
    driver.wait_for_view(lambda v: v["callback_id"] == HUB and "Zoe Adams" not in rows(v))


def _admin_view(world: World) -> JSON:
    return _account(world.admin)


def test_staff_are_neither_offered_anonymise_nor_allowed_it(world: World) -> None:
    uids = _people(world)
    driver = world.staff
    account = _account(driver)
    assert "Anonymise" not in _buttons(account) and "Anonymise" in _buttons(_admin_view(world))
    press = {"type": "button", "action_id": "customer_details.anonymise", "value": "x"}
    view = details_after(driver, forged_action(driver, account, press), "Only an admin can")
    assert "anonymise a customer" in notice_of(view)
    assert len(world.api.stack(driver.user_id)) == 2
    assert not _anonymised(world, uids["Zoe Adams"])


def test_delete_of_a_customer_with_payments_offers_anonymise_instead(world: World) -> None:
    uids = _people(world)
    zoe = uids["Zoe Adams"]
    driver = world.admin
    hub = open_hub(driver, "")

    after(driver, row_menu(driver, hub, "Zoe Adams", "Delete"), "views.push")
    offer = driver.wait_for_view(is_view(ANONYMISE, "cannot be deleted"))
    assert offer["submit"]["text"] == "Anonymise instead"
    assert "Kept for the accounts" in text_of(offer)
    acked(driver.submit())

    hub = driver.wait_for_view(is_view(HUB, f"Anonymised customer {zoe}"))
    assert "Zoe Adams" not in rows(hub)
    assert _anonymised(world, zoe) and _bookings(world, zoe) == 4


def test_delete_without_payments_still_deletes(world: World) -> None:
    _people(world)
    driver = world.admin
    hub = open_hub(driver, "")
    after(driver, row_menu(driver, hub, "Adam Smith", "Delete"), "views.push")
    driver.wait_for_view(is_view(DELETE, "Permanently delete Adam Smith"))
    acked(driver.submit())
    hub = driver.wait_for_view(is_view(HUB, "Deleted Adam Smith"))
    assert "Adam Smith" not in rows(hub)
