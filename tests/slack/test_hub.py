"""The customers hub as a modal, end to end: signed requests in, what reached Slack asserted."""

from __future__ import annotations

import json
import logging
import re

from sqlalchemy import select

from bot.local import SlackUser
from core.demo.customers import load_demo_customers
from core.models import CustomerStatus, HistoryEntry, StaffMember
from core.services.customer_search import COUNT_CAP
from tests.slack.conftest import ADMIN, STAFF, TEAM, World
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
    fill_form,
    forged_choice,
    hub_state,
    is_view,
    numbered,
    offered,
    open_hub,
    row_menu,
    rows,
    seed,
    text_of,
    uid_of,
    updated,
    watch_logs,
)

PEOPLE = [("Zoe", "Adams"), ("Adam", "Smith"), ("Zoë", "Ørsted"), ("Bea", "Zoeller")]


# ----------------------------------------------------------------- opening and searching


def test_customers_opens_the_hub_listing_everyone(world: World) -> None:
    seed(world.db, PEOPLE)
    view = open_hub(world.staff)
    assert view["type"] == "modal"
    assert rows(view) == ["Adam Smith", "Bea Zoeller", "Zoe Adams", "Zoë Ørsted"]
    shown = text_of(view)
    assert "1–4 of 4" in shown
    for label in ("Active", "Archived", "+ Create Customer", "Name A→Z ▲"):
        assert label in shown
    assert "adam.smith.101@example.com" in shown
    assert "+44 7700 900101" in shown
    assert hub_state(view) == {"tab": "active", "q": "", "sort": "name_asc", "page": 1}


def test_customers_with_text_opens_the_hub_filtered(world: World) -> None:
    seed(world.db, PEOPLE)
    view = open_hub(world.staff, "zoe")
    # Names are folded for search: "zoe" finds Zoë too, and Zoeller by her surname.
    assert rows(view) == ["Bea Zoeller", "Zoe Adams", "Zoë Ørsted"]
    assert view["state"]["values"]["hub_search"]["hub.search"]["value"] == "zoe"
    assert hub_state(view)["q"] == "zoe"


def test_typing_in_search_updates_the_list_with_the_view_hash(world: World) -> None:
    seed(world.db, PEOPLE)
    driver = world.staff
    view = open_hub(driver)
    r = driver.type("ada", into="Search")
    call = after(driver, r, "views.update")
    # The hash makes Slack drop this update if a later keystroke's update landed first.
    assert call.params["hash"] == view["hash"]
    assert call.params["view_id"] == view["id"]
    view = driver.current_view("modal") or {}
    assert rows(view) == ["Adam Smith", "Zoe Adams"]
    assert hub_state(view)["q"] == "ada"
    # What the person typed stays in the box.
    assert view["state"]["values"]["hub_search"]["hub.search"]["value"] == "ada"

    r = driver.type("", into="Search")
    view = updated(driver, r)
    assert len(rows(view)) == 4


def test_a_hash_conflict_means_a_newer_keystroke_won(world: World) -> None:
    seed(world.db, PEOPLE)
    driver = world.staff
    view = open_hub(driver)
    world.api.fail("views.update", "hash_conflict")
    with watch_logs() as logs:
        r = acked(driver.type("zo", into="Search"))
        call = world.api.wait_for("views.update", since=r.mark)
        assert call.error == "hash_conflict"
        logs.wait_for("a newer update of the view won")
        assert logs.at_least(logging.WARNING) == []
    # No error reached the person: the list simply stays as the newer update left it.
    shown = driver.current_view("modal") or {}
    assert shown["hash"] == view["hash"]
    assert "error" not in text_of(shown).lower()
    assert world.api.calls("views.open", since=r.mark) == []
    assert world.api.calls("chat.postEphemeral", since=r.mark) == []
    # The next keystroke goes through as usual.
    shown = updated(driver, driver.type("zoe", into="Search"))
    assert rows(shown) == ["Bea Zoeller", "Zoe Adams", "Zoë Ørsted"]


def test_empty_state_says_what_to_do(world: World) -> None:
    seed(world.db, PEOPLE)
    driver = world.staff
    view = open_hub(driver, "zzz")
    assert rows(view) == []
    assert "No active customers match 'zzz' — clear the search or create one" in text_of(view)
    assert "No customers" in text_of(view)
    # Nothing to page through.
    assert "hub.page.next" not in str(view)


def test_empty_workspace_invites_to_create(world: World) -> None:
    view = open_hub(world.staff)
    assert "No customers yet — add your first with + Create Customer" in text_of(view)


def test_search_button_submits_the_search(world: World) -> None:
    seed(world.db, PEOPLE)
    driver = world.staff
    open_hub(driver)
    # The live update of the keystroke was lost; pressing Search still filters.
    world.api.fail("views.update", "hash_conflict")
    r = driver.type("smith", into="Search")
    world.api.wait_for("views.update", since=acked(r).mark)
    before = world.api.mark()
    acked(driver.submit())
    view = driver.current_view("modal") or {}
    assert view["callback_id"] == HUB
    assert rows(view) == ["Adam Smith"]
    assert hub_state(view)["q"] == "smith"
    assert len(world.api.stack(driver.user_id)) == 1
    # Answered in the submission response itself: no extra Web API call.
    assert world.api.calls(since=before) == []


# ----------------------------------------------------------------- tabs, sort, pages


def test_active_and_archived_tabs(world: World) -> None:
    archive(world.db, seed(world.db, PEOPLE)[3])
    driver = world.staff
    view = open_hub(driver)
    assert rows(view) == ["Adam Smith", "Zoe Adams", "Zoë Ørsted"]
    tabs = {e["text"]["text"]: e.get("style") for e in view["blocks"][0]["elements"]}
    assert tabs["Active"] == "primary" and tabs["Archived"] is None

    view = updated(driver, driver.click("Archived"))
    assert rows(view) == ["Bea Zoeller"]
    assert "1 archived customer" in text_of(view)
    tabs = {e["text"]["text"]: e.get("style") for e in view["blocks"][0]["elements"]}
    assert tabs["Archived"] == "primary" and tabs["Active"] is None
    assert hub_state(view)["tab"] == "archived"

    view = updated(driver, driver.click("Active"))
    assert rows(view) == ["Adam Smith", "Zoe Adams", "Zoë Ørsted"]


def test_empty_archived_tab_explains_itself(world: World) -> None:
    seed(world.db, PEOPLE)
    driver = world.staff
    open_hub(driver)
    view = updated(driver, driver.click("Archived"))
    assert rows(view) == []
    assert "No archived customers" in text_of(view)


def test_sort_toggles_between_a_to_z_and_z_to_a(world: World) -> None:
    seed(world.db, PEOPLE)
    driver = world.staff
    view = open_hub(driver)
    ascending = rows(view)
    assert ascending == sorted(ascending, key=str.casefold)

    view = updated(driver, driver.click("hub.sort"))
    assert rows(view) == list(reversed(ascending))
    assert "Name Z→A ▼" in text_of(view)
    assert hub_state(view)["sort"] == "name_desc"

    view = updated(driver, driver.click("hub.sort"))
    assert rows(view) == ascending
    assert "Name A→Z ▲" in text_of(view)


def test_pagination_with_previous_and_next(world: World) -> None:
    seed(world.db, numbered(25))
    driver = world.staff
    view = open_hub(driver)
    assert "1–10 of 25" in text_of(view)
    assert rows(view) == [f"Cust{i:03d} Test" for i in range(1, 11)]
    assert "◀ Previous" not in text_of(view)

    view = updated(driver, driver.click("Next ▶"))
    assert "11–20 of 25" in text_of(view)
    assert rows(view) == [f"Cust{i:03d} Test" for i in range(11, 21)]
    assert "Page 2 of 3" in text_of(view)

    view = updated(driver, driver.click("Next ▶"))
    assert "21–25 of 25" in text_of(view)
    assert rows(view) == [f"Cust{i:03d} Test" for i in range(21, 26)]
    assert "Next ▶" not in text_of(view)

    view = updated(driver, driver.click("◀ Previous"))
    assert "11–20 of 25" in text_of(view)
    assert hub_state(view)["page"] == 2


def test_next_reads_on_after_the_last_row_shown(world: World) -> None:
    seed(world.db, numbered(25))
    driver = world.staff
    open_hub(driver)
    view = updated(driver, driver.click("Next ▶"))
    assert rows(view)[-1] == "Cust020 Test"
    # Someone adds a customer who sorts first while this page is on screen: Next still
    # continues after the last row shown, where skipping 20 rows would repeat Cust020.
    seed(world.db, [("Aaron", "Aardvark")], mobile_start=900)
    view = updated(driver, driver.click("Next ▶"))
    assert rows(view) == [f"Cust{i:03d} Test" for i in range(21, 26)]
    view = updated(driver, driver.click("◀ Previous"))
    assert rows(view) == [f"Cust{i:03d} Test" for i in range(11, 21)]
    # The edge rows steer one render only; the kept state is the page number.
    kept = json.loads(view["private_metadata"])
    assert (kept["page"], kept["after"], kept["before"]) == (2, "", "")


def test_a_large_match_count_is_labelled_as_an_estimate(world: World) -> None:
    with world.db.unit_of_work() as uow:
        load_demo_customers(uow, TEAM, COUNT_CAP + 200, seed=7)
    driver = world.staff
    view = open_hub(driver, "a")
    shown = text_of(view)
    assert re.search(r"1–10 of about [\d,]+ active customers", shown), shown
    assert re.search(r"Page 1 of about [\d,]+", shown), shown
    # A few matches are counted exactly.
    view = updated(driver, driver.type("cust-none-like-this", into="Search"))
    assert "about" not in text_of(view)


def test_a_new_search_or_sort_starts_at_page_one(world: World) -> None:
    seed(world.db, numbered(25))
    driver = world.staff
    open_hub(driver)
    view = updated(driver, driver.click("Next ▶"))
    assert hub_state(view)["page"] == 2
    view = updated(driver, driver.click("hub.sort"))
    assert hub_state(view)["page"] == 1
    assert rows(view)[0] == "Cust025 Test"


def test_search_tab_sort_and_page_survive_every_action(world: World) -> None:
    seed(world.db, numbered(25))
    driver = world.admin
    open_hub(driver)
    updated(driver, driver.type("cust0", into="Search"))
    updated(driver, driver.click("hub.sort"))
    view = updated(driver, driver.click("Next ▶"))
    expected = {"tab": "active", "q": "cust0", "sort": "name_desc", "page": 2}
    assert hub_state(view) == expected
    assert rows(view) == [f"Cust{i:03d} Test" for i in range(15, 5, -1)]

    def check(view: JSON) -> None:
        assert hub_state(view) == expected
        assert "Name Z→A ▼" in text_of(view)
        assert view["state"]["values"]["hub_search"]["hub.search"]["value"] == "cust0"

    # Archive and its Undo.
    view = updated(driver, row_menu(driver, view, "Cust010 Test", "Archive"))
    assert "Archived Cust010 Test." in text_of(view)
    check(view)
    assert "11–20 of 24" in text_of(view)
    view = updated(driver, driver.click("Undo"))
    assert "Activated Cust010 Test." in text_of(view)
    check(view)
    assert "11–20 of 25" in text_of(view)

    # Create (the form stacks on the hub; saving updates the hub underneath).
    after(driver, driver.click("+ Create Customer"), "views.push")
    fill_form(
        driver,
        {
            "first_name": "Cust026",
            "last_name": "Test",
            "email": "c26@example.com",
            "mobile": "+44 7700 900999",
        },
    )
    view = updated(driver, driver.submit())
    assert "Created Cust026 Test" in text_of(view)
    check(view)

    # Edit Contact.
    after(driver, row_menu(driver, view, "Cust015 Test", "Edit Contact"), "views.push")
    driver.type("Renamed", into="Last name")
    view = updated(driver, driver.submit())
    assert "Saved Cust015 Renamed's contact details." in text_of(view)
    check(view)


# ----------------------------------------------------------------- the row menu


def test_row_menu_offers_the_spec_actions(world: World) -> None:
    archive(world.db, seed(world.db, PEOPLE)[3])
    driver = world.admin
    open_hub(driver)
    menu = next(e for e in driver.find_elements() if e.action_id == "customer.row_menu")
    assert [o["text"]["text"] for o in menu.options] == [
        "Manage",
        "Edit Contact",
        "Archive",
        "Delete",
    ]
    updated(driver, driver.click("Archived"))
    menu = next(e for e in driver.find_elements() if e.action_id == "customer.row_menu")
    assert [o["text"]["text"] for o in menu.options] == [
        "Manage",
        "Edit Contact",
        "Activate",
        "Delete",
    ]
    # Staff see what their role allows: no Delete.
    open_hub(world.staff)
    menu = next(e for e in world.staff.find_elements() if e.action_id == "customer.row_menu")
    assert [o["text"]["text"] for o in menu.options] == ["Manage", "Edit Contact", "Archive"]


def test_manage_opens_the_customer_details(world: World) -> None:
    (zoe, *_) = seed(world.db, PEOPLE)
    driver = world.staff
    view = open_hub(driver)
    after(driver, row_menu(driver, view, "Zoe Adams", "Manage"), "views.push")
    details = driver.wait_for_view(is_view(DETAILS))
    shown = text_of(details)
    assert zoe.uid in shown and "Zoe Adams" in shown
    assert "mailto:zoe.adams.100@example.com" in str(details)
    assert "tel:+447700900100" in str(details)
    # Stacked on the hub: closing it goes back to the list.
    driver.close()
    assert (driver.current_view("modal") or {})["callback_id"] == HUB


def test_the_name_button_opens_details_too(world: World) -> None:
    seed(world.db, PEOPLE)
    driver = world.staff
    open_hub(driver)
    after(driver, driver.click("Zoe Adams"), "views.push")
    assert "Zoe Adams" in text_of(driver.wait_for_view(is_view(DETAILS)))


def test_edit_contact_opens_the_form_pre_populated(world: World) -> None:
    seed(world.db, PEOPLE)
    driver = world.admin
    view = open_hub(driver)
    after(driver, row_menu(driver, view, "Zoë Ørsted", "Edit Contact"), "views.push")
    form = driver.wait_for_view(is_view(FORM, "Edit Contact"))
    values = {k: next(iter(v.values())).get("value") for k, v in form["state"]["values"].items()}
    assert values == {
        "first_name": "Zoë",
        "last_name": "Ørsted",
        "email": "zoë.ørsted.102@example.com",
        "mobile": "+44 7700 900102",
        "password": None,
        # A multi-select holds options, not a typed value.
        "tags": None,
    }
    assert "Leave blank to keep the current password" in text_of(form)


def test_archive_acts_at_once_and_undo_restores(world: World) -> None:
    (zoe, *_) = seed(world.db, PEOPLE)
    driver = world.staff
    view = open_hub(driver)
    view = updated(driver, row_menu(driver, view, "Zoe Adams", "Archive"))
    assert "Zoe Adams" not in rows(view)
    assert "Archived Zoe Adams." in text_of(view)
    assert customer_count(world.db, uid=zoe.uid, status=CustomerStatus.ARCHIVED) == 1
    assert world.api.calls("views.push") == []  # no confirmation asked

    view = updated(driver, driver.click("Undo"))
    assert "Zoe Adams" in rows(view)
    assert "Activated Zoe Adams." in text_of(view)
    assert customer_count(world.db, uid=zoe.uid, status=CustomerStatus.ACTIVE) == 1

    view = updated(driver, driver.click("Archived"))
    assert rows(view) == []


def test_archived_customer_shows_on_the_archived_tab(world: World) -> None:
    seed(world.db, PEOPLE)
    driver = world.staff
    view = open_hub(driver)
    updated(driver, row_menu(driver, view, "Adam Smith", "Archive"))
    view = updated(driver, driver.click("Archived"))
    assert rows(view) == ["Adam Smith"]


def test_activate_on_the_archived_tab(world: World) -> None:
    (zoe, *_) = seed(world.db, PEOPLE)
    archive(world.db, zoe)
    driver = world.staff
    open_hub(driver)
    view = updated(driver, driver.click("Archived"))
    assert rows(view) == ["Zoe Adams"]
    view = updated(driver, row_menu(driver, view, "Zoe Adams", "Activate"))
    assert rows(view) == []
    assert "Activated Zoe Adams." in text_of(view)
    assert hub_state(view)["tab"] == "archived"
    assert customer_count(world.db, uid=zoe.uid, status=CustomerStatus.ACTIVE) == 1
    # Undo archives her again.
    view = updated(driver, driver.click("Undo"))
    assert rows(view) == ["Zoe Adams"]


def test_admin_deletes_after_confirming(world: World) -> None:
    (zoe, *_) = seed(world.db, PEOPLE)
    driver = world.admin
    view = open_hub(driver)
    updated(driver, row_menu(driver, view, "Zoe Adams", "Archive"))
    view = updated(driver, driver.click("Undo"))

    # Asked first; keeping the customer changes nothing.
    after(driver, row_menu(driver, view, "Zoe Adams", "Delete"), "views.push")
    confirm = driver.wait_for_view(is_view(DELETE, "Permanently delete", "Zoe Adams"))
    assert confirm["submit"]["text"] == "Delete permanently"
    assert confirm["close"]["text"] == "Keep customer"
    assert "cannot be restored" in text_of(confirm)
    driver.close()
    assert customer_count(world.db, uid=zoe.uid) == 1

    view = driver.current_view("modal") or {}
    after(driver, row_menu(driver, view, "Zoe Adams", "Delete"), "views.push")
    driver.wait_for_view(is_view(DELETE))
    view = updated(driver, driver.submit())
    assert view["callback_id"] == HUB
    assert "Zoe Adams" not in rows(view)
    assert "Deleted Zoe Adams and their history permanently." in text_of(view)

    assert customer_count(world.db, uid=zoe.uid) == 0
    with world.db.unit_of_work(readonly=True) as uow:
        trail = uow.session.execute(
            select(HistoryEntry.action, HistoryEntry.customer_id, HistoryEntry.actor).where(
                HistoryEntry.customer_uid == zoe.uid
            )
        ).all()
    # Their history is gone; one audit entry with the UID remains.
    assert [tuple(entry) for entry in trail] == [("deleted", None, ADMIN)]


def test_staff_cannot_delete(world: World) -> None:
    (zoe, *_) = seed(world.db, PEOPLE)
    driver = world.staff
    view = open_hub(driver)
    row = f"row_{uid_of(view, 'Zoe Adams')}"
    assert "Delete" not in offered(view, row), "only admins are offered Delete"
    r = forged_choice(driver, view, "customer.row_menu", row, f"delete|{zoe.uid}")
    view = updated(driver, r)
    assert "Only an admin can delete a customer" in text_of(view)
    assert "Zoe Adams" in rows(view)
    assert world.api.calls("views.push", since=r.mark) == []
    assert world.api.calls("views.open", since=r.mark) == []
    assert customer_count(world.db, uid=zoe.uid) == 1


# ----------------------------------------------------------------- the slash command


def test_customers_new_opens_create_directly(world: World) -> None:
    driver = world.staff
    call = after(driver, driver.slash("/customers", "new"), "views.open")
    assert call.params["view"]["callback_id"] == FORM
    form = driver.wait_for_view(is_view(FORM, "Create Customer"))
    assert form["submit"]["text"] == "Save"
    fill_form(
        driver,
        {
            "first_name": "Zoe",
            "last_name": "Adams",
            "email": "zoe@example.com",
            "mobile": "07700 900123",
        },
    )
    acked(driver.submit())
    # Opened on its own, the form turns into the hub showing the new customer and a confirmation.
    view = driver.wait_for_view(is_view(HUB, "Created Zoe Adams"))
    assert rows(view) == ["Zoe Adams"]
    assert customer_count(world.db, email="zoe@example.com") == 1


def test_help_explains_every_subcommand(world: World) -> None:
    driver = world.staff
    r = acked(driver.slash("/customers", "help"))
    assert [c for c in world.api.calls(since=r.mark) if c.method.startswith("views.")] == []
    (message,) = driver.ephemeral_messages()
    shown = text_of({"blocks": message.blocks})
    for usage in (
        "`/customers`",
        "`/customers zoe`",
        "`/customers new`",
        "`/customers help`",
        "`/customers chart zoe`",
        "`/customers staff list`",
        "`/customers staff add @someone`",
        "`/customers staff remove @someone`",
    ):
        assert usage in shown
    # Only the person who asked sees it.
    assert driver.messages() == []


def test_admin_manages_staff_with_escaped_mentions(world: World) -> None:
    admin = world.admin
    world.api.add_user(SlackUser("U0NEW", "newbie", team_id=TEAM))
    newbie = admin.as_user("U0NEW")
    acked(newbie.slash("/customers"))
    assert "don't have access" in newbie.ephemeral_messages()[-1].text

    acked(admin.slash("/customers", "staff add <@U0NEW|newbie>"))
    assert admin.ephemeral_messages()[-1].text == "<@U0NEW> can now use Customer Records as staff."
    open_hub(newbie)

    acked(admin.slash("/customers", "staff list"))
    listing = admin.ephemeral_messages()[-1].text
    assert "<@UADMIN> — admin (configured in ADMIN_SLACK_USER_IDS)" in listing
    assert "<@U0NEW> — staff" in listing
    assert "<@USTAFF> — staff" in listing

    acked(admin.slash("/customers", "staff add <@U0NEW|newbie> admin"))
    assert admin.ephemeral_messages()[-1].text == "<@U0NEW> can now use Customer Records as admin."

    acked(admin.slash("/customers", "staff remove <@U0NEW|newbie>"))
    assert (
        admin.ephemeral_messages()[-1].text == "<@U0NEW> no longer has access to Customer Records."
    )
    with world.db.unit_of_work(readonly=True) as uow:
        assert (
            uow.session.scalars(
                select(StaffMember).where(StaffMember.slack_user_id == "U0NEW")
            ).all()
            == []
        )
    r = acked(newbie.slash("/customers"))
    assert world.api.calls("views.open", since=r.mark) == []
    assert "don't have access" in newbie.ephemeral_messages()[-1].text


STAFF_MISTAKES = [
    ("staff add @newbie", "Mention the person with @"),
    ("staff remove", "Usage: `/customers staff list`"),
    ("staff promote <@U0NEW|newbie>", "Usage: `/customers staff list`"),
    ("staff add <@UADMIN|admin>", "<@UADMIN> is already an admin by configuration."),
    ("staff remove <@U0NEW|newbie>", "<@U0NEW> didn't have access."),
]


def test_staff_command_mistakes_are_explained(world: World) -> None:
    for text, reply in STAFF_MISTAKES:
        acked(world.admin.slash("/customers", text))
        assert reply in world.admin.ephemeral_messages()[-1].text, text


def test_staff_cannot_manage_staff(world: World) -> None:
    for text in ["staff add <@U0NEW|newbie>", "staff remove <@USTAFF|ustaff>", "staff list"]:
        r = acked(world.staff.slash("/customers", text))
        assert "Only an admin can" in world.staff.ephemeral_messages()[-1].text, text
        assert world.api.calls("views.open", since=r.mark) == []
    with world.db.unit_of_work(readonly=True) as uow:
        people = sorted(uow.session.scalars(select(StaffMember.slack_user_id)).all())
    assert people == ["UGUEST", STAFF]
