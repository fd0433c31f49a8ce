"""Keeping one record per person, end to end: the form's possible-match warning, the
duplicates list (`/customers duplicates`, Home), Not a duplicate, Compare & merge."""

from __future__ import annotations

from sqlalchemy import func, select

from core.actor import Actor
from core.models import Customer, NotDuplicate, Role
from core.services.account import list_history
from core.services.customers import CustomerInput, create_customer
from tests.slack.conftest import ADMIN, TEAM, World
from tests.slack.helpers import (
    acked,
    after,
    customer_count,
    customers_home,
    fill_form,
    is_view,
    open_hub,
    seed,
    text_of,
)

FORM = "customer_form.submit"
LIST = "duplicates.view"
MERGE = "merge.submit"
ADMIN_ACTOR = Actor(TEAM, ADMIN, Role.ADMIN)


def _twin(world: World, first: str, last: str, email: str, mobile: str) -> str:
    with world.db.unit_of_work() as uow:
        data = CustomerInput(first_name=first, last_name=last, email=email, mobile=mobile)
        return create_customer(uow, ADMIN_ACTOR, data, send_welcome=False).uid


def test_create_warns_of_a_possible_match_keeps_what_was_typed_and_creates_anyway(
    world: World,
) -> None:
    (zoe,) = seed(world.db, [("Zoë", "Adams")])
    driver = world.admin
    open_hub(driver)
    after(driver, driver.click("+ Create Customer"), "views.push")
    driver.wait_for_view(is_view(FORM, "Create Customer"))
    typed = {
        "first_name": "Zoe",
        "last_name": "Adams",
        "email": "zoe@elsewhere.org",
        "mobile": "07700 900100",  # Zoë's, typed the national way
        "password": "Tr1cky&Secret",
    }
    fill_form(driver, typed)
    response = acked(driver.submit())
    assert response.data["response_action"] == "update"
    form = driver.wait_for_view(is_view(FORM, "Looks like"))
    shown = text_of(form)
    assert "Zoë Adams" in shown and "zoë.adams.100@…" in shown and "same mobile" in shown
    assert "Create anyway" in shown
    # Everything typed is still there, the password too (same block and action ids).
    values = {
        block_id: next(iter(actions.values())).get("value")
        for block_id, actions in form["state"]["values"].items()
        if block_id in typed
    }
    assert values["email"] == "zoe@elsewhere.org" and values["password"] == "Tr1cky&Secret"
    assert customer_count(world.db) == 1

    # Saving again without the tick: the match under Mobile, nothing saved.
    response = acked(driver.submit())
    assert response.data["response_action"] == "errors"
    errors = driver.errors()
    assert "Looks like Zoë Adams" in errors["mobile"] and "duplicate_ok" in errors
    assert customer_count(world.db) == 1

    # Open shows Zoë's details over the form, which is still there beneath.
    after(driver, driver.click("Open"), "views.push")
    details = driver.wait_for_view(is_view("customer_details.view", zoe.uid))
    assert len(world.api.stack(driver.user_id)) == 3
    driver.close()
    assert driver.wait_for_view(is_view(FORM, "Looks like"))["id"] == form["id"]

    driver.choose("Create anyway", menu="customer_form.duplicate_ok")
    acked(driver.submit())
    driver.wait_for_view(is_view("hub.view", "Created Zoe Adams"))
    assert customer_count(world.db) == 2
    assert details["id"] != form["id"]


def test_an_edit_to_another_customers_mobile_is_warned_about(world: World) -> None:
    zoe, ann = seed(world.db, [("Zoë", "Adams"), ("Ann", "Lee")])
    driver = world.admin
    open_hub(driver, "Ann")
    after(driver, driver.click(ann.full_name), "views.push")
    after(driver, driver.click("Edit"), "views.push")
    driver.wait_for_view(is_view(FORM, "Edit Contact"))
    driver.type("+44 7700 900100", into="Mobile")
    response = acked(driver.submit())
    assert response.data["response_action"] == "update"
    form = driver.wait_for_view(is_view(FORM, "Save anyway"))
    # Slack's third window (hub, details, form): no Open on top of it, the UID to look up.
    assert not [b for b in form["blocks"] if "accessory" in b]
    assert "Looks like Zoë Adams" in text_of(form) and f"Look up UID {zoe.uid}" in text_of(form)
    driver.choose("Save anyway", menu="customer_form.duplicate_ok")
    acked(driver.submit())
    with world.db.unit_of_work(readonly=True) as uow:
        mobile = uow.session.scalar(select(Customer.mobile).where(Customer.uid == ann.uid))
    assert mobile == "+447700900100"


def _list(world: World) -> dict[str, str]:
    """Three customers: Zoë twice (same mobile, one mailbox), and Bob alone."""
    zoe = _twin(world, "Zoë", "Adams", "zoe.adams@gmail.com", "+44 7700 900123")
    twin = _twin(world, "Zoe", "Adams", "zoeadams+yoga@gmail.com", "+44 7700 900123")
    bob = _twin(world, "Bob", "Brown", "bob@example.com", "+44 7700 900555")
    return {"zoe": zoe, "twin": twin, "bob": bob}


def test_customers_duplicates_lists_pairs_and_not_a_duplicate_is_remembered(
    world: World,
) -> None:
    uids = _list(world)
    driver = world.admin
    after(driver, driver.slash("/customers", "duplicates"), "views.open")
    report = driver.wait_for_view(is_view(LIST, "strongest evidence first"))
    shown = text_of(report)
    assert uids["zoe"] in shown and uids["twin"] in shown and uids["bob"] not in shown
    assert "same mobile, same email, same name" in shown
    after(driver, driver.click("Not a duplicate"), "views.update")
    report = driver.wait_for_view(is_view(LIST, "won't be suggested again"))
    assert uids["twin"] not in text_of(report)
    with world.db.unit_of_work(readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(NotDuplicate)) == 1
    # Asked again, the pair stays off the list.
    after(driver, driver.slash("/customers", "duplicates"), "views.open")
    again = driver.wait_for_view(is_view(LIST, "No possible duplicates"))
    assert uids["twin"] not in text_of(again)


def test_compare_and_merge_opens_the_preview_and_the_reason_reaches_both_histories(
    world: World,
) -> None:
    uids = _list(world)
    driver = world.admin
    after(driver, driver.slash("/customers", "duplicates"), "views.open")
    driver.wait_for_view(is_view(LIST, "strongest evidence first"))
    after(driver, driver.click("Compare & merge"), "views.push")
    preview = driver.wait_for_view(is_view(MERGE, "This cannot be undone"))
    assert uids["zoe"] in text_of(preview)  # the older record is the one kept
    # No reason: refused under the box, nothing merged.
    response = acked(driver.submit(client_checks=False))
    assert response.data["response_action"] == "errors"
    assert "Say why" in driver.errors()["reason"]
    driver.type("Same mobile; signed up twice", into="merge.reason")
    acked(driver.submit())
    report = driver.wait_for_view(is_view(LIST, "Merged Zoe Adams into Zoë Adams"))
    assert uids["twin"] not in text_of(report)
    with world.db.unit_of_work(readonly=True) as uow:
        for uid in (uids["zoe"], uids["twin"]):
            entries = list_history(uow, ADMIN_ACTOR, uid, page_size=50).rows
            assert any("reason: Same mobile; signed up twice" in e.detail for e in entries)


def test_staff_neither_see_nor_open_the_list(world: World) -> None:
    _list(world)
    staff, admin = world.staff, world.admin
    response = acked(staff.slash("/customers", "duplicates"))
    assert "Only an admin can review duplicates" in response.text
    assert "Review duplicates" not in text_of(customers_home(staff))
    home = customers_home(admin)
    assert "Possible duplicates" in text_of(home)
    after(admin, admin.click("Review duplicates", surface="home"), "views.open")
    admin.wait_for_view(is_view(LIST, "strongest evidence first"))
