"""The hub on the App Home tab (its Customers page): updated in place with views.publish."""

from __future__ import annotations

from bot.local import SlackDriver
from tests.slack.conftest import World
from tests.slack.helpers import (
    DELETE,
    DETAILS,
    FORM,
    HUB,
    JSON,
    acked,
    after,
    archive,
    customer_count,
    customers_home,
    fill_form,
    forged_choice,
    hub_state,
    is_view,
    numbered,
    offered,
    published,
    row_menu,
    rows,
    seed,
    text_of,
    uid_of,
)

PEOPLE = [("Zoe", "Adams"), ("Adam", "Smith"), ("Bea", "Zoeller")]


def _home(driver: SlackDriver) -> JSON:
    return customers_home(driver)


def test_customers_on_home_is_the_hub(world: World) -> None:
    seed(world.db, PEOPLE)
    home = _home(world.staff)
    assert home["type"] == "home"
    assert home["callback_id"] == HUB
    assert [b["type"] for b in home["blocks"][:2]] == ["actions", "header"]
    assert rows(home) == ["Adam Smith", "Bea Zoeller", "Zoe Adams"]
    assert "1–3 of 3" in text_of(home)
    # Home has no submit button; no modal was opened.
    assert world.api.calls("views.open") == []


def test_messages_tab_is_left_alone(world: World) -> None:
    r = world.staff.send_event(
        {"type": "app_home_opened", "user": "USTAFF", "channel": "DUSTAFF", "tab": "messages"}
    )
    acked(r)
    assert world.api.calls("views.publish", since=r.mark) == []


def test_actions_on_home_update_it_with_views_publish(world: World) -> None:
    seed(world.db, numbered(12))
    driver = world.staff
    _home(driver)

    r = acked(driver.click("Next ▶", surface="home"))
    home = published(driver, r)
    assert world.api.calls("views.update", since=r.mark) == []
    assert rows(home) == ["Cust011 Test", "Cust012 Test"]

    home = published(driver, driver.click("hub.sort", surface="home"))
    assert rows(home)[0] == "Cust012 Test"

    before = home["hash"]
    call = after(driver, driver.type("cust01", into="Search", surface="home"), "views.publish")
    # As in the modal, the hash keeps a late keystroke from overwriting a newer one.
    assert call.params["hash"] == before
    home = driver.wait_for_view(surface="home")
    assert rows(home) == ["Cust012 Test", "Cust011 Test", "Cust010 Test"]

    home = published(driver, row_menu(driver, home, "Cust011 Test", "Archive", surface="home"))
    assert "Archived Cust011 Test." in text_of(home)
    assert rows(home) == ["Cust012 Test", "Cust010 Test"]
    home = published(driver, driver.click("Undo", surface="home"))
    assert rows(home) == ["Cust012 Test", "Cust011 Test", "Cust010 Test"]

    home = published(driver, driver.click("Archived", surface="home"))
    assert hub_state(home) == {"tab": "archived", "q": "cust01", "sort": "name_desc", "page": 1}
    assert world.api.calls("views.update") == []


def test_create_from_home_opens_a_modal_and_republishes_home(world: World) -> None:
    driver = world.staff
    _home(driver)
    r = driver.click("+ Create Customer", surface="home")
    after(driver, r, "views.open")
    driver.wait_for_view(is_view(FORM, "Create Customer"))
    fill_form(
        driver,
        {
            "first_name": "Zoe",
            "last_name": "Adams",
            "email": "zoe@example.com",
            "mobile": "+44 7700 900123",
        },
    )
    r = driver.submit()
    home = published(driver, r)
    assert world.api.stack(driver.user_id) == []
    assert "Created Zoe Adams. Their portal login is on its way by email." in text_of(home)
    assert rows(home) == ["Zoe Adams"]


def test_edit_manage_and_delete_from_home(world: World) -> None:
    seed(world.db, PEOPLE)
    driver = world.admin
    home = _home(driver)

    after(driver, row_menu(driver, home, "Zoe Adams", "Edit Contact", surface="home"), "views.open")
    driver.wait_for_view(is_view(FORM, "Edit Contact"))
    driver.type("Adamson", into="Last name")
    home = published(driver, driver.submit())
    assert "Saved Zoe Adamson's contact details." in text_of(home)

    after(driver, row_menu(driver, home, "Zoe Adamson", "Manage", surface="home"), "views.open")
    assert "zoe.adams.100@example.com" in text_of(
        driver.wait_for_view(is_view(DETAILS, "Zoe Adamson"))
    )
    driver.close()

    after(driver, row_menu(driver, home, "Zoe Adamson", "Delete", surface="home"), "views.open")
    driver.wait_for_view(is_view(DELETE, "Zoe Adamson"))
    home = published(driver, driver.submit())
    assert "Deleted Zoe Adamson and their history permanently." in text_of(home)
    assert rows(home) == ["Adam Smith", "Bea Zoeller"]
    assert customer_count(world.db, last_name="Adamson") == 0


def test_staff_delete_from_home_is_refused(world: World) -> None:
    seed(world.db, PEOPLE)
    driver = world.staff
    home = _home(driver)
    row = f"row_{uid_of(home, 'Zoe Adams')}"
    assert "Delete" not in offered(home, row), "only admins are offered Delete"
    zoe = uid_of(home, "Zoe Adams")
    r = forged_choice(driver, home, "customer.row_menu", row, f"delete|{zoe}")
    home = published(driver, r)
    assert "Only an admin can delete a customer" in text_of(home)
    assert world.api.calls("views.open", since=r.mark) == []
    assert customer_count(world.db) == 3


def test_reopening_home_keeps_the_previous_state(world: World) -> None:
    archive(world.db, seed(world.db, PEOPLE)[2])
    driver = world.staff
    _home(driver)
    published(driver, driver.click("Archived", surface="home"))
    published(driver, driver.type("zoe", into="Search", surface="home"))
    home = _home(driver)
    assert hub_state(home) == {"tab": "archived", "q": "zoe", "sort": "name_asc", "page": 1}
    assert rows(home) == ["Bea Zoeller"]
    assert home["state"]["values"]["hub_search"]["hub.search"]["value"] == "zoe"
