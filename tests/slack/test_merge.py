"""The Account tab end to end: Archive with Undo, Merge (admins only) and Account History."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.local import SlackDriver
from core.actor import Actor
from core.models import Booking, Customer, CustomerStatus, Note, Role
from core.services.account import merge_customers
from core.services.customers import (
    CustomerInput,
    archive_customer,
    delete_customer,
    edit_contact,
    get_customer,
)
from core.services.notes import add_note
from tests.conftest import MutableClock
from tests.slack.conftest import ADMIN, STAFF, TEAM, World
from tests.slack.details_helpers import (
    customer_id,
    details_after,
    go_to_tab,
    notice_of,
    open_details,
    row_texts,
    seed_history,
    state_of,
)
from tests.slack.helpers import (
    DETAILS,
    HUB,
    JSON,
    acked,
    after,
    forged_action,
    interaction,
    is_view,
    open_hub,
    post_signed,
    rows,
    seed,
    text_of,
)

MERGE = "merge.submit"
PEOPLE = [("Zoe", "Adams"), ("Zoe", "Adamson"), ("Adam", "Smith"), ("Old", "Archived")]
ADMIN_ACTOR = Actor(TEAM, ADMIN, Role.ADMIN)


def _count(world: World, model: type[Booking] | type[Note], uid: str) -> int:
    with world.db.unit_of_work(readonly=True) as uow:
        owner = customer_id(uow, uid)
        query = select(func.count()).select_from(model).where(model.customer_id == owner)
        return uow.session.scalar(query) or 0


def _people(world: World) -> dict[str, str]:
    made = seed(world.db, PEOPLE)
    uids = {c.full_name: c.uid for c in made}
    seed_history(world.db, uids["Zoe Adams"], bookings=4)
    with world.db.unit_of_work() as uow:
        add_note(uow, ADMIN_ACTOR, uids["Zoe Adams"], "Moves with the merge")
        archive_customer(uow, ADMIN_ACTOR, uids["Old Archived"])
    return uids


def _account(driver: SlackDriver, name: str = "Zoe Adams") -> JSON:
    open_details(driver, name, text=name)
    return go_to_tab(driver, "Account", "Account History")


def _merge_modal(world: World, driver: SlackDriver) -> None:
    after(driver, driver.click("Merge Customer"), "views.push")
    driver.wait_for_view(is_view(MERGE, "Customer to keep"))
    assert len(world.api.stack(driver.user_id)) == 3
    driver.type("Same mobile, signed up twice", into="merge.reason")


def test_staff_are_told_only_an_admin_can_merge(world: World) -> None:
    _people(world)
    driver = world.staff
    account = _account(driver)
    assert "Merge Customer" not in text_of(account), "only admins are offered Merge"
    merge = {"type": "button", "action_id": "customer_details.merge", "value": "x"}
    view = details_after(driver, forged_action(driver, account, merge), "Only an admin can merge")
    assert "ask an admin" in notice_of(view)
    assert len(world.api.stack(driver.user_id)) == 2


def test_candidates_leave_out_the_customer_itself_and_archived_ones(world: World) -> None:
    uids = _people(world)
    driver = world.admin
    _account(driver)
    _merge_modal(world, driver)
    offered = driver.block_suggestion("zoe", action_id="merge.target")
    assert [o["value"] for o in offered] == [uids["Zoe Adamson"]]
    assert driver.block_suggestion("archived", action_id="merge.target") == []
    # Staff asking for options with a forged request get none.
    modal = driver.current_view()
    assert modal is not None
    payload = interaction(world.staff, "block_suggestion", modal)
    payload.update(action_id="merge.target", block_id="target", value="zoe")
    assert acked(post_signed(world.staff, payload)).data == {"options": []}


def test_merge_previews_counts_and_moves_everything(world: World) -> None:
    uids = _people(world)
    source, target = uids["Zoe Adams"], uids["Zoe Adamson"]
    driver = world.admin
    _account(driver)
    _merge_modal(world, driver)
    _pick(world, driver, "adamson", target)
    preview = driver.wait_for_view(is_view(MERGE, "This cannot be undone"))
    shown = text_of(preview)
    assert "Keep:" in shown and target in shown
    fields = {
        f["text"].split("\n")[0].strip("*"): f["text"].split("\n")[1]
        for b in preview["blocks"]
        if b.get("fields")
        for f in b["fields"]
    }
    assert fields["Bookings"] == "4" and fields["Notes"] == "1" and fields["Passes"] == "1"
    assert fields["Appointments"] == "1" and fields["Videos"] == "1"
    assert fields["Subscriptions"] == "1"
    acked(driver.submit())
    view = driver.wait_for_view(is_view(DETAILS, "Merged Zoe Adams into Zoe Adamson"))
    assert len(world.api.stack(driver.user_id)) == 2
    assert f"merged into UID {target}" in text_of(view)
    assert "moved 4 bookings" in notice_of(view)
    assert state_of(view)["tab"] == "account" and "Merge Customer" not in text_of(view)
    assert "Activate Customer" in text_of(view)
    history = "\n".join(row_texts(view, "history_"))
    assert "Merged into" in history and f"merged into Zoe Adamson (UID {target})" in history
    assert _count(world, Booking, source) == 0 and _count(world, Booking, target) == 4
    assert _count(world, Note, target) == 1
    with world.db.unit_of_work(readonly=True) as uow:
        assert get_customer(uow, ADMIN_ACTOR, source).status is CustomerStatus.ARCHIVED
    # The hub underneath no longer lists the merged customer as active.
    driver.close()
    driver.wait_for_view(lambda v: v["callback_id"] == HUB and "Zoe Adams" not in rows(v))
    # The kept customer's details show what came with the merge.
    details_after_open = open_details(driver, "Zoe Adamson", text="Adamson")
    assert "1–4 of 4 bookings" in text_of(details_after_open)


def test_the_kept_customer_opens_from_the_merged_one(world: World) -> None:
    uids = _people(world)
    with world.db.unit_of_work() as uow:
        merge_customers(
            uow, ADMIN_ACTOR, uids["Zoe Adams"], uids["Zoe Adamson"], reason="Same person"
        )
    driver = world.staff
    open_hub(driver, "Zoe Adams")
    after(driver, driver.click("Archived"), "views.update")
    driver.wait_for_view(is_view(HUB, "Zoe Adams"))
    after(driver, driver.click("Zoe Adams"), "views.push")
    driver.wait_for_view(is_view(DETAILS, f"merged into UID {uids['Zoe Adamson']}"))
    view = details_after(driver, driver.click("Open kept customer"), "Zoe Adamson", "1–4 of 4")
    assert state_of(view)["tab"] == "bookings"


def _send_pick(world: World, driver: SlackDriver, option: dict[str, object]) -> None:
    """Choose `option` in the customer-to-keep select, as Slack reports it to the app."""
    view = driver.current_view()
    assert view is not None
    value = {"type": "external_select", "selected_option": option}
    world.api.set_value(view["id"], "target", "merge.target", value)
    payload = interaction(driver, "block_actions", driver.current_view() or {})
    payload["actions"] = [{"action_id": "merge.target", "block_id": "target", **value}]
    after(driver, post_signed(driver, payload), "views.update")


def _pick(world: World, driver: SlackDriver, query: str, uid: str) -> None:
    """Type `query` into the customer-to-keep select and pick the customer `uid` it offers."""
    offered = driver.block_suggestion(query, action_id="merge.target")
    (option,) = [o for o in offered if o["value"] == uid]
    _send_pick(world, driver, option)


def _choose_forged(world: World, driver: SlackDriver, uid: str) -> None:
    """Put a customer in the select that the search would never offer."""
    view = driver.current_view()
    assert view is not None
    option = {"text": {"type": "plain_text", "text": uid}, "value": uid}
    world.api.set_value(
        view["id"],
        "target",
        "merge.target",
        {"type": "external_select", "selected_option": option},
    )


def test_merge_refusals_show_under_the_select(world: World) -> None:
    uids = _people(world)
    (theirs,) = seed(world.db, [("Other", "Tenant")], team_id="T0002", mobile_start=500)
    driver = world.admin
    _account(driver)
    _merge_modal(world, driver)
    cases = [
        (uids["Zoe Adams"], "a customer cannot be merged into itself"),
        (uids["Old Archived"], "Old Archived is archived; activate them first"),
        ("NOSUCHUID123", "No customer with UID NOSUCHUID123 exists"),
        (theirs.uid, f"No customer with UID {theirs.uid} exists"),
    ]
    for uid, reason in cases:
        _choose_forged(world, driver, uid)
        response = acked(driver.submit())
        assert response.data["response_action"] == "errors"
        assert reason in driver.errors()["target"]
    # Merged into someone else since the modal opened.
    with world.db.unit_of_work() as uow:
        merge_customers(
            uow, ADMIN_ACTOR, uids["Adam Smith"], uids["Zoe Adamson"], reason="Same person"
        )
    _choose_forged(world, driver, uids["Adam Smith"])
    response = acked(driver.submit())
    assert "Adam Smith was merged into Zoe Adamson" in driver.errors()["target"]
    assert _count(world, Booking, uids["Zoe Adams"]) == 4


def test_a_customer_merged_meanwhile_is_refused(world: World) -> None:
    uids = _people(world)
    driver = world.admin
    _account(driver)
    _merge_modal(world, driver)
    _pick(world, driver, "adamson", uids["Zoe Adamson"])
    driver.wait_for_view(is_view(MERGE, "This cannot be undone"))
    with world.db.unit_of_work() as uow:
        merge_customers(
            uow, ADMIN_ACTOR, uids["Zoe Adams"], uids["Adam Smith"], reason="Same person"
        )
    acked(driver.submit())
    assert "Zoe Adams was already merged into Adam Smith" in driver.errors()["target"]
    assert _count(world, Booking, uids["Adam Smith"]) == 4


def test_picking_an_unmergeable_customer_explains_in_the_modal(world: World) -> None:
    uids = _people(world)
    driver = world.admin
    _account(driver)
    _merge_modal(world, driver)
    offered = driver.block_suggestion("adamson", action_id="merge.target")
    # The customer is archived after the options were offered.
    with world.db.unit_of_work() as uow:
        archive_customer(uow, ADMIN_ACTOR, uids["Zoe Adamson"])
    _send_pick(world, driver, offered[0])
    shown = driver.wait_for_view(is_view(MERGE, "is archived"))
    assert "This cannot be undone" not in text_of(shown)


# ----------------------------------------------------------------- archive and history


def test_archive_and_undo_from_the_account_tab(world: World) -> None:
    uids = _people(world)
    driver = world.staff
    _account(driver)
    response = driver.click("Archive Customer")
    view = details_after(driver, response, "Archived Zoe Adams.")
    assert "Activate Customer" in text_of(view) and "hidden from the active list" in text_of(view)
    undo = next(b for b in view["blocks"] if b.get("block_id") == "notice")["accessory"]
    assert undo["action_id"] == "customer_details.undo"
    hub = world.api.wait_for(
        "views.update", lambda c: c.params["view"]["callback_id"] == HUB, since=response.mark
    )
    assert "Zoe Adams" not in rows(hub.params["view"])
    view = details_after(driver, driver.click("Undo"), "Activated Zoe Adams.")
    assert "Archive Customer" in text_of(view)
    with world.db.unit_of_work(readonly=True) as uow:
        assert get_customer(uow, ADMIN_ACTOR, uids["Zoe Adams"]).status is CustomerStatus.ACTIVE
    history = "\n".join(row_texts(view, "history_"))
    assert "Activated" in history and "Status: archived → active" in history
    assert "Status: active → archived" in history and f"by <@{STAFF}>" in history


def test_account_history_searches_as_you_type(world: World) -> None:
    _people(world)
    driver = world.staff
    _account(driver)
    details_after(driver, driver.click("Archive Customer"), "Archived Zoe Adams.")
    view = details_after(driver, driver.type("archived", into="customer_details.search"), "1 entry")
    assert "Status: active → archived" in "\n".join(row_texts(view, "history_"))
    view = details_after(driver, driver.type("qqq", into="customer_details.search"), "match")
    assert "no entries match 'qqq' — clear the search" in text_of(view)


def test_a_forged_undo_for_another_customer_is_ignored(world: World) -> None:
    uids = _people(world)
    driver = world.staff
    _account(driver)
    response = driver.click("Archive Customer")
    view = details_after(driver, response, "Archived Zoe Adams.")
    # The hub underneath is refreshed too; wait for it so the check below sees only new calls.
    world.api.wait_for(
        "views.update", lambda c: c.params["view"]["callback_id"] == HUB, since=response.mark
    )
    payload = interaction(driver, "block_actions", view)
    payload["actions"] = [
        {
            "type": "button",
            "action_id": "customer_details.undo",
            "block_id": "notice",
            "value": f"archive|{uids['Adam Smith']}",
        }
    ]
    response = acked(post_signed(driver, payload))
    assert not world.api.calls("views.update", since=response.mark)
    with world.db.unit_of_work(readonly=True) as uow:
        status = get_customer(uow, ADMIN_ACTOR, uids["Adam Smith"]).status
    assert status is CustomerStatus.ACTIVE


def test_account_history_pages_and_shows_before_and_after(
    world: World, clock: MutableClock
) -> None:
    uids = _people(world)
    uid = uids["Adam Smith"]
    with world.db.unit_of_work() as uow:
        for i in range(12):
            clock.advance(minutes=1)
            record = get_customer(uow, ADMIN_ACTOR, uid)
            data = CustomerInput(
                first_name="Adam",
                last_name=f"Smith{i}",
                email=record.email,
                mobile=record.mobile,
                password="Str0ng!Passw0rd" if i == 11 else "",
            )
            edit_contact(uow, ADMIN_ACTOR, uid, data, expected_version=record.version)
    driver = world.staff
    open_details(driver, "Adam Smith11", text="Smith11")
    view = go_to_tab(driver, "Account", "1–10 of 13 entries")
    entries = row_texts(view, "history_")
    assert len(entries) == 10
    assert "Last name: Smith10 → Smith11" in entries[0] and "• Password changed" in entries[0]
    assert "Str0ng" not in text_of(view)
    assert f"by <@{ADMIN}>" in entries[0] and "14 Mar 2026, 09:42 GMT" in entries[0]
    view = details_after(driver, driver.click("Next ▶"), "11–13 of 13 entries")
    entries = row_texts(view, "history_")
    assert "Last name: Smith → Smith0" in entries[1] and "Created" in entries[2]
    assert state_of(view) == {"tab": "account", "q": "", "page": 2}


def test_details_of_a_customer_deleted_meanwhile_say_so(world: World) -> None:
    uids = _people(world)
    driver = world.staff
    # Zoe Adamson holds no payments, so she can be deleted.
    _account(driver, "Zoe Adamson")
    with world.db.unit_of_work() as uow:
        delete_customer(uow, ADMIN_ACTOR, uids["Zoe Adamson"])
    after(driver, driver.click("Archive Customer"), "views.update")
    gone = driver.wait_for_view(is_view("customer_details.gone", "No customer with UID"))
    assert uids["Zoe Adamson"] in text_of(gone)
    with world.db.unit_of_work(readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Customer)) == 3
