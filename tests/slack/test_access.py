"""Who may use the app: staff and admins in; strangers, guests and other workspaces out."""

from __future__ import annotations

from sqlalchemy import select

from bot.local import AppResponse, SlackDriver, SlackUser
from core.actor import Actor
from core.models import CustomerStatus, Role, StaffMember
from core.services.staff import add_staff
from tests.slack.conftest import ADMIN, STAFF, TEAM, World
from tests.slack.helpers import (
    ADMIN_ACTOR,
    DELETE,
    FORM,
    HUB,
    JSON,
    acked,
    after,
    archive,
    customer_count,
    customers_home,
    interaction,
    open_hub,
    post_signed,
    rows,
    seed,
    text_of,
    updated,
)

OTHER_TEAM = "T0002"
OTHER_USER = "UOTHER"


def _refused_slash(world: World, driver: SlackDriver, text: str = "") -> str:
    r = acked(driver.slash("/customers", text))
    assert [c.method for c in world.api.calls(since=r.mark) if c.method.startswith("views.")] == []
    message = driver.ephemeral_messages()[-1]
    assert message.ephemeral_to == driver.user_id
    assert driver.messages() == []
    return message.text


def test_non_staff_are_refused_politely_naming_the_admins(world: World) -> None:
    seed(world.db, [("Zoe", "Adams")])
    for text in ["", "zoe", "new", "help", "staff add <@UNOBODY|me>"]:
        reply = _refused_slash(world, world.stranger, text)
        assert reply.startswith("Sorry, Customer Records is only for the business's staff")
        assert (
            "Ask <@UADMIN> to add you: they type `/customers staff add` and mention you." in reply
        )
        assert "Zoe" not in reply
    with world.db.unit_of_work(readonly=True) as uow:
        people = uow.session.scalars(select(StaffMember.slack_user_id)).all()
    assert "UNOBODY" not in people


def test_the_refusal_names_admins_added_in_the_app_too(world: World) -> None:
    with world.db.unit_of_work() as uow:
        add_staff(uow, ADMIN_ACTOR, "U0BOSS", Role.ADMIN)
    reply = _refused_slash(world, world.stranger)
    assert "Ask <@UADMIN> or <@U0BOSS> to add you" in reply


def test_guests_are_refused_even_when_added_as_staff(world: World) -> None:
    seed(world.db, [("Zoe", "Adams")])
    reply = _refused_slash(world, world.guest)
    assert "guest accounts can't use Customer Records" in reply
    # Slack was asked who they are.
    assert world.api.last("users.info").params["user"] == "UGUEST"


def test_guests_see_a_refusal_on_home(world: World) -> None:
    seed(world.db, [("Zoe", "Adams")])
    home = after(world.guest, world.guest.open_home(), "views.publish")
    assert "guest accounts can't use Customer Records" in text_of(home.params["view"])
    assert "Zoe" not in str(home.params["view"])


def test_non_staff_see_a_refusal_on_home(world: World) -> None:
    seed(world.db, [("Zoe", "Adams")])
    driver = world.stranger
    call = after(driver, driver.open_home(), "views.publish")
    assert call.params["user_id"] == "UNOBODY"
    home = driver.wait_for_view(surface="home")
    shown = text_of(home)
    assert "don't have access yet" in shown and "<@UADMIN>" in str(home)
    assert "Zoe" not in str(home)
    assert home.get("callback_id") != HUB


def test_staff_removed_while_the_hub_is_open_are_refused_at_the_next_click(
    world: World,
) -> None:
    seed(world.db, [("Zoe", "Adams")])
    driver = world.staff
    open_hub(driver)
    acked(world.admin.slash("/customers", "staff remove <@USTAFF|ustaff>"))
    r = driver.click("Archived")
    view = updated(driver, r)
    assert view["callback_id"] != HUB
    assert "don't have access yet" in text_of(view)
    assert "Zoe" not in str(view)
    # Their open form is refused too when they press Save.
    acked(world.admin.slash("/customers", "staff add <@USTAFF|ustaff>"))
    open_hub(driver)
    after(driver, driver.click("+ Create Customer"), "views.push")
    driver.wait_for_view(lambda v: v["callback_id"] == FORM)
    for field, value in [
        ("First name", "Zoe"),
        ("Last name", "Twin"),
        ("Email", "twin@example.com"),
        ("Mobile", "+44 7700 900555"),
    ]:
        driver.type(value, into=field)
    acked(world.admin.slash("/customers", "staff remove <@USTAFF|ustaff>"))
    r = acked(driver.submit())
    assert r.data["response_action"] == "update"
    assert "don't have access yet" in text_of(driver.current_view("modal"))
    assert customer_count(world.db, email="twin@example.com") == 0


def test_staff_removed_while_home_is_open_see_a_refusal_there(world: World) -> None:
    seed(world.db, [("Zoe", "Adams")])
    driver = world.staff
    customers_home(driver)
    acked(world.admin.slash("/customers", "staff remove <@USTAFF|ustaff>"))
    call = after(driver, driver.click("Archived", surface="home"), "views.publish")
    home = call.params["view"]
    assert "don't have access yet" in text_of(home)
    assert "Zoe" not in str(home)


def test_when_slack_cannot_say_who_someone_is_they_are_asked_to_retry(world: World) -> None:
    world.api.fail("users.info", "fatal_error")
    reply = _refused_slash(world, world.staff)
    assert reply == "Slack didn't confirm your account just now; try again."
    # The failure is not remembered: the next try goes through.
    open_hub(world.staff)


def test_staff_cannot_delete_even_with_a_forged_confirmation(world: World) -> None:
    (zoe,) = seed(world.db, [("Zoe", "Adams")])
    driver = world.staff
    hub = open_hub(driver)
    # The confirmation modal is never offered to staff; forge its submission anyway.
    forged = {
        **hub,
        "callback_id": DELETE,
        "private_metadata": f'{{"uid": "{zoe.uid}"}}',
        "state": {"values": {}},
    }
    r = acked(post_signed(driver, interaction(driver, "view_submission", forged)))
    assert r.data["response_action"] == "update"
    assert "Only an admin can delete a customer" in text_of(r.data["view"])
    assert customer_count(world.db, uid=zoe.uid) == 1


def _as_other_team(driver: SlackDriver, action: JSON) -> AppResponse:
    """A block_actions from the other workspace on its own hub (as it sees it: its team's)."""
    view = driver.current_view("modal") or {}
    assert view["team_id"] == view["app_installed_team_id"] == OTHER_TEAM
    payload = {**interaction(driver, "block_actions", view), "actions": [action]}
    return post_signed(driver, payload)


def test_another_workspace_sees_none_of_our_customers(world: World) -> None:
    (zoe,) = seed(world.db, [("Zoe", "Adams")])
    archive(world.db, *seed(world.db, [("Bea", "Zoeller")], mobile_start=200))
    with world.db.unit_of_work() as uow:
        add_staff(uow, Actor(OTHER_TEAM, ADMIN, Role.ADMIN), OTHER_USER)
    world.api.add_user(SlackUser(OTHER_USER, "other", team_id=OTHER_TEAM))
    other = world.staff.as_user(OTHER_USER, team_id=OTHER_TEAM)

    view = open_hub(other)
    assert rows(view) == []
    assert "No customers yet" in text_of(view)
    view = open_hub(other, "zoe")
    assert rows(view) == []
    assert "No active customers match 'zoe'" in text_of(view)

    typed = {
        "type": "plain_text_input",
        "action_id": "hub.search",
        "block_id": "hub_search",
        "value": "z",
        "action_ts": "1.0",
    }
    view = updated(other, _as_other_team(other, typed))
    assert rows(view) == []
    tab = {
        "type": "button",
        "action_id": "hub.tab.archived",
        "block_id": "hub_tabs",
        "value": "archived",
        "action_ts": "1.0",
    }
    view = updated(other, _as_other_team(other, tab))
    assert rows(view) == []
    assert "No archived customers match 'z'" in text_of(view)

    # Row actions naming our customer's UID find nothing there.
    for verb in ("edit", "manage", "archive", "activate"):
        action = {
            "type": "overflow",
            "action_id": "customer.row_menu",
            "block_id": f"row_{zoe.uid}",
            "selected_option": {
                "text": {"type": "plain_text", "text": verb},
                "value": f"{verb}|{zoe.uid}",
            },
            "action_ts": "1.0",
        }
        view = updated(other, _as_other_team(other, action))
        assert f"No customer with UID {zoe.uid} exists" in text_of(view)
        assert "Zoe" not in str(view)
    assert len(world.api.stack(OTHER_USER)) == 1
    assert customer_count(world.db, uid=zoe.uid, status=CustomerStatus.ACTIVE) == 1

    # Their Home is empty too.
    home = customers_home(other)
    assert "Zoe" not in str(home)
    assert "No customers yet" in text_of(home)

    # Our own staff still see her.
    assert rows(open_hub(world.staff)) == ["Zoe Adams"]


def test_a_configured_admin_of_one_workspace_is_not_staff_of_another_by_accident(
    world: World,
) -> None:
    # Staff of T0001 are not staff of T0002.
    world.api.add_user(SlackUser(STAFF, "ustaff", team_id=TEAM))
    elsewhere = world.staff.as_user(STAFF, team_id=OTHER_TEAM)
    reply = _refused_slash(world, elsewhere)
    assert "don't have access yet" in reply


def test_ids_longer_than_slack_ever_sends_are_ignored_or_refused_plainly(world: World) -> None:
    long_id = "T" + "A" * 40
    status = world.admin.as_user(ADMIN, team_id=long_id).slash("/customers").status
    assert status == 200
    with world.db.unit_of_work(readonly=True) as uow:
        assert uow.session.scalar(select(StaffMember).where(StaffMember.team_id == long_id)) is None
    reply = world.admin.slash("/customers", f"staff add <@U{'B' * 40}>")
    assert reply.status == 200
    assert "Mention the person with @" in reply.text
    with world.db.unit_of_work(readonly=True) as uow:
        added = uow.session.scalars(select(StaffMember.slack_user_id)).all()
    assert all(len(user_id) <= 32 for user_id in added)
