"""Tags and marketing consent end to end through signed requests: the tag picker in Create and
Edit and on the details, the admins' Tags modal (rename, merge, clashing and empty names),
staff refused it, and marketing consent changed from the details."""

from __future__ import annotations

from sqlalchemy import select

from bot.local import SlackDriver
from core.actor import Actor
from core.models import ConsentSource, ConsentState, Customer, HistoryEntry, Role, Tag
from core.services.tags import customer_tags, set_customer_tags
from tests.slack.conftest import ADMIN, TEAM, World
from tests.slack.details_helpers import open_details
from tests.slack.helpers import (
    DETAILS,
    acked,
    after,
    customers_home,
    fill_form,
    forged_action,
    interaction,
    is_view,
    post_signed,
    published,
    seed,
    text_of,
)
from tests.views_check import assert_valid_view

TAGS_FORM = "customer_tags.submit"
CONSENT_FORM = "customer_consent.submit"
TAGS_ADMIN = "tags_admin.submit"
CUSTOMER_FORM = "customer_form.submit"


def _tags(world: World, uid: str) -> list[str]:
    with world.db.unit_of_work(readonly=True) as uow:
        return customer_tags(uow, Actor(TEAM, ADMIN, Role.ADMIN), uid)


def _tag(world: World, uid: str, *names: str) -> None:
    with world.db.unit_of_work() as uow:
        set_customer_tags(uow, Actor(TEAM, ADMIN, Role.ADMIN), uid, list(names))


def _actions(world: World, uid: str) -> list[str]:
    with world.db.unit_of_work(readonly=True) as uow:
        customer = uow.session.scalars(select(Customer.id).where(Customer.uid == uid)).one()
        query = select(HistoryEntry.action).where(HistoryEntry.customer_id == customer)
        return list(uow.session.scalars(query))


def _zoe(world: World) -> str:
    (zoe,) = seed(world.db, [("Zoe", "Adams")])
    return zoe.uid


def test_tags_chosen_in_create_customer_are_saved_with_it(world: World) -> None:
    driver = world.staff
    after(driver, driver.slash("/customers", "new"), "views.open")
    form = driver.wait_for_view(is_view(CUSTOMER_FORM, "Create Customer"))
    assert_valid_view(form)
    fill_form(
        driver,
        {
            "first_name": "Cleo",
            "last_name": "Park",
            "email": "cleo@example.com",
            "mobile": "+44 7700 900555",
        },
    )
    offered = driver.block_suggestion("vip", action_id="tags.pick")
    assert [o["text"]["text"] for o in offered] == ["New tag: vip"]
    driver.choose("vip", menu="Tags")
    driver.choose("Early bird", menu="Tags")
    acked(driver.submit())
    with world.db.unit_of_work(readonly=True) as uow:
        uid = uow.session.scalars(
            select(Customer.uid).where(Customer.email == "cleo@example.com")
        ).one()
    assert _tags(world, uid) == ["Early bird", "vip"]
    assert "tags changed" in _actions(world, uid)


def test_edit_contact_shows_the_tags_held_and_saves_the_change(world: World) -> None:
    uid = _zoe(world)
    _tag(world, uid, "VIP", "Kids")
    driver = world.staff
    open_details(driver, "Zoe Adams")
    after(driver, driver.click("Edit", in_block="details_actions"), "views.push")
    form = driver.wait_for_view(is_view(CUSTOMER_FORM, "Edit Contact"))
    (tags,) = [b for b in form["blocks"] if b.get("block_id") == "tags"]
    assert [o["value"] for o in tags["element"]["initial_options"]] == ["Kids", "VIP"]
    # Existing tags are offered as they are spelled; typing one in another case adds nothing.
    offered = driver.block_suggestion("KID", action_id="tags.pick")
    assert [o["value"] for o in offered] == ["KID", "Kids"]
    offered = driver.block_suggestion("kids", action_id="tags.pick")
    assert [o["value"] for o in offered] == ["Kids"]
    driver.choose("Kids", menu="Tags")  # a multi-select toggles: Kids comes off
    after(driver, driver.submit(), "views.update")
    assert _tags(world, uid) == ["VIP"]
    view = driver.wait_for_view(is_view(DETAILS, "Tags `VIP`"))
    assert "Kids" not in text_of(view)


def test_details_show_tags_and_edit_tags_saves_them(world: World) -> None:
    uid = _zoe(world)
    driver = world.staff
    view = open_details(driver, "Zoe Adams")
    assert "Tags none" in text_of(view)
    assert "Marketing consent Unknown" in text_of(view)
    after(driver, driver.click("Edit tags"), "views.push")
    form = driver.wait_for_view(is_view(TAGS_FORM, "Tags of"))
    assert_valid_view(form)
    assert len(world.api.stack(driver.user_id)) == 3
    driver.choose("Beginner", menu="Tags")
    acked(driver.submit())
    view = driver.wait_for_view(is_view(DETAILS, "Tags saved: Beginner."))
    assert "`Beginner`" in text_of(view)
    assert len(world.api.stack(driver.user_id)) == 2
    assert _tags(world, uid) == ["Beginner"]


def test_a_tag_with_a_separator_is_answered_under_the_field(world: World) -> None:
    uid = _zoe(world)
    driver = world.staff
    open_details(driver, "Zoe Adams")
    after(driver, driver.click("Edit tags"), "views.push")
    driver.wait_for_view(is_view(TAGS_FORM))
    driver.choose("Mums; dads", menu="Tags")
    response = acked(driver.submit())
    assert response.data["response_action"] == "errors"
    assert "they separate tags" in response.data["errors"]["tags"]
    assert _tags(world, uid) == []


def test_marketing_consent_is_changed_from_the_details_and_in_the_history(
    world: World,
) -> None:
    uid = _zoe(world)
    driver = world.staff
    open_details(driver, "Zoe Adams")
    after(driver, driver.click("Change", in_block="details_consent"), "views.push")
    form = driver.wait_for_view(is_view(CONSENT_FORM, "Marketing consent of"))
    assert_valid_view(form)
    driver.choose("Granted", menu="May we send them marketing mail?")
    driver.choose("Staff, on the phone", menu="How did they say so?")
    acked(driver.submit())
    view = driver.wait_for_view(is_view(DETAILS, "Marketing consent: Granted"))
    assert "through staff, on the phone" in text_of(view)
    with world.db.unit_of_work(readonly=True) as uow:
        row = uow.session.scalars(select(Customer).where(Customer.uid == uid)).one()
        assert (row.marketing_consent, row.consent_source) == (
            ConsentState.GRANTED,
            ConsentSource.PHONE,
        )
    assert "consent changed" in _actions(world, uid)


def _open_tags_admin(driver: SlackDriver) -> dict[str, object]:
    customers_home(driver)
    after(driver, driver.click("Manage tags", surface="home"), "views.open")
    modal = driver.wait_for_view(is_view(TAGS_ADMIN))
    assert_valid_view(modal)
    return modal


def test_admin_renames_a_tag_and_a_clashing_or_empty_name_is_refused(world: World) -> None:
    ada, bea = seed(world.db, [("Ada", "Lovelace"), ("Bea", "Hill")])
    _tag(world, ada.uid, "vip", "Regular")
    _tag(world, bea.uid, "vip")
    driver = world.admin
    modal = _open_tags_admin(driver)
    assert "`vip` · 2 customers" in text_of(modal)
    assert "`Regular` · 1 customer" in text_of(modal)

    driver.choose("Regular", menu="Tag")
    driver.type("VIP", into="New name (to rename)")
    response = acked(driver.submit())
    assert response.data["response_action"] == "errors"
    assert "already exists" in response.data["errors"]["new_name"]

    driver.type("", into="New name (to rename)")
    response = acked(driver.submit())
    assert response.data["errors"] == {"new_name": "A tag needs a name."}

    driver.choose("vip", menu="Tag")
    driver.type("VIP", into="New name (to rename)")
    response = acked(driver.submit())
    assert response.data["response_action"] == "update"
    assert "Renamed to “VIP”." in text_of(response.data["view"])
    assert _tags(world, bea.uid) == ["VIP"]
    assert "tag renamed" in _actions(world, bea.uid)


def test_admin_merges_a_tag_into_another(world: World) -> None:
    ada, bea = seed(world.db, [("Ada", "Lovelace"), ("Bea", "Hill")])
    _tag(world, ada.uid, "VIP", "V.I.P.")
    _tag(world, bea.uid, "V.I.P.")
    driver = world.admin
    _open_tags_admin(driver)
    driver.choose("V.I.P.", menu="Tag")
    driver.choose("Merge it into another tag", menu="Do")
    response = acked(driver.submit())
    assert response.data["errors"] == {"target": "Choose the tag to merge it into."}
    driver.choose("VIP", menu="Merge into (to merge)")
    response = acked(driver.submit())
    shown = text_of(response.data["view"])
    assert "Merged into “VIP”, now held by 2 customer(s)." in shown
    assert "V.I.P." not in shown.replace("Merged", "")
    assert _tags(world, ada.uid) == ["VIP"] and _tags(world, bea.uid) == ["VIP"]
    with world.db.unit_of_work(readonly=True) as uow:
        assert list(uow.session.scalars(select(Tag.name))) == ["VIP"]


def test_staff_do_not_see_manage_tags_and_are_refused_if_they_send_it(world: World) -> None:
    uid = _zoe(world)
    _tag(world, uid, "VIP")
    home = customers_home(world.staff)
    assert "Manage tags" not in text_of(home)
    refused = forged_action(
        world.staff,
        home,
        {"type": "button", "action_id": "tags.open", "block_id": "tags_section", "value": "open"},
    )
    home = published(world.staff, refused)
    assert "Only an admin can rename or merge tags" in text_of(home)

    # A Tags modal an admin had open, submitted by staff: refused, nothing renamed.
    modal = _open_tags_admin(world.admin)
    with world.db.unit_of_work(readonly=True) as uow:
        tag_id = uow.session.scalars(select(Tag.id)).one()
    modal = {
        **modal,
        "state": {
            "values": {
                "tag": {
                    "tags_admin.tag": {
                        "type": "static_select",
                        "selected_option": {
                            "text": {"type": "plain_text", "text": "VIP"},
                            "value": str(tag_id),
                        },
                    }
                },
                "new_name": {"tags_admin.new_name": {"type": "plain_text_input", "value": "X"}},
            }
        },
    }
    response = post_signed(world.staff, interaction(world.staff, "view_submission", modal))
    assert response.data["response_action"] == "update"
    assert "Only an admin can rename or merge tags" in text_of(response.data["view"])
    assert _tags(world, uid) == ["VIP"]
