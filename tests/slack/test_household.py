"""Linked people end to end: Link someone from the details, open a linked person with one
click, Unlink, the payer on the booking form, the figures, and strangers kept out."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from bot.local import SlackDriver
from core.actor import Actor
from core.models import CustomerLink, Event, EventOccurrence, HistoryEntry, Relation, Role
from core.services.household import LINKED, UNLINKED, link_customers
from tests.slack.conftest import STAFF, TEAM, World
from tests.slack.details_helpers import NOW, details_after, open_details
from tests.slack.helpers import (
    DETAILS,
    JSON,
    acked,
    after,
    forged_action,
    interaction,
    is_view,
    post_signed,
    seed,
    text_of,
)

FORM = "household.submit"
STAFF_ACTOR = Actor(TEAM, STAFF, Role.STAFF)


def _family(world: World) -> dict[str, str]:
    made = seed(world.db, [("Sam", "Adams"), ("Zoe", "Adams"), ("Kim", "Jones")])
    return {c.first_name: c.uid for c in made}


def _links(world: World) -> int:
    with world.db.unit_of_work(readonly=True) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(CustomerLink)) or 0)


def _history(world: World, action: str) -> list[str]:
    with world.db.unit_of_work(readonly=True) as uow:
        query = select(HistoryEntry.customer_uid).where(HistoryEntry.action == action)
        return sorted(uow.session.scalars(query))


def _link_form(driver: SlackDriver) -> JSON:
    after(driver, driver.click("Link someone"), "views.push")
    return driver.wait_for_view(is_view(FORM, "Link someone to"))


def _household_of(view: JSON) -> list[str]:
    return [
        block["elements"][0]["text"]["text"]
        for block in view["blocks"]
        if str(block.get("block_id", "")).startswith("household_")
    ]


def test_link_open_the_linked_person_and_unlink(world: World) -> None:
    uids = _family(world)
    driver = world.staff
    view = open_details(driver, "Zoe Adams", text="Zoe")
    shown = text_of(view)
    assert "Household" in shown and "no one linked yet" in shown
    assert "No visits yet" in shown and "Nothing yet" in shown

    _link_form(driver)
    driver.choose("Sam Adams", menu="household.person")
    driver.choose("child", menu="household.relation")
    acked(driver.submit())
    view = driver.wait_for_view(is_view(DETAILS, "Linked: Zoe Adams is now Child of Sam Adams."))
    assert _household_of(view) == ["Child of Sam Adams"]
    assert len(world.api.stack(driver.user_id)) == 2
    assert _history(world, LINKED) == sorted([uids["Sam"], uids["Zoe"]])

    # One click opens Sam, in the same view, with the link in his words.
    view = details_after(driver, driver.click("Child of Sam Adams"), "Sam Adams", "Parent of Zoe")
    assert _household_of(view) == ["Parent of Zoe Adams"]

    # Unlink asks first; cancelled, nothing is sent.
    assert driver.click("Unlink", confirm=False) is None
    view = details_after(driver, driver.click("Unlink"), "Unlinked Zoe Adams.")
    assert "no one linked yet" in text_of(view)
    assert _links(world) == 0
    assert _history(world, UNLINKED) == sorted([uids["Sam"], uids["Zoe"]])


def test_the_form_refuses_a_second_link_under_the_picker(world: World) -> None:
    uids = _family(world)
    with world.db.unit_of_work() as uow:
        link_customers(uow, STAFF_ACTOR, uids["Sam"], uids["Zoe"], Relation.PARENT)
    driver = world.staff
    open_details(driver, "Zoe Adams", text="Zoe")
    _link_form(driver)
    # The picker never offers the customer themselves.
    offered = driver.block_suggestion("adams", action_id="household.person")
    assert [o["value"] for o in offered] == [uids["Sam"]]
    driver.choose("Sam Adams", menu="household.person")
    driver.choose("partner", menu="household.relation")
    acked(driver.submit())
    assert "already linked: Child of Sam Adams" in driver.errors()["person"]
    assert _links(world) == 1


def test_booking_a_child_shows_the_parent_who_pays(world: World) -> None:
    uids = _family(world)
    with world.db.unit_of_work() as uow:
        link_customers(uow, STAFF_ACTOR, uids["Zoe"], uids["Sam"], Relation.CHILD)
        yoga = Event(
            team_id=TEAM,
            key="yoga",
            name="Morning Yoga",
            timezone="Europe/London",
            price_minor=1200,
            credit_price=1,
            capacity=20,
        )
        uow.session.add(yoga)
        uow.session.flush()
        uow.session.add(
            EventOccurrence(
                team_id=TEAM,
                event_id=yoga.id,
                starts_at=NOW + timedelta(days=2),
                duration_minutes=60,
                timezone=yoga.timezone,
                capacity=20,
                price_minor=1200,
            )
        )
    driver = world.staff
    open_details(driver, "Zoe Adams", text="Zoe")
    after(driver, driver.click("Book an Event"), "views.push")
    form = driver.wait_for_view(lambda v: v.get("callback_id") == "book_event.submit")
    assert "Paid for by *Sam Adams* (parent)." in json.dumps(form["blocks"])


def test_strangers_can_neither_see_nor_change_a_household(world: World) -> None:
    uids = _family(world)
    with world.db.unit_of_work() as uow:
        link_customers(uow, STAFF_ACTOR, uids["Sam"], uids["Zoe"], Relation.PARENT)
    view = open_details(world.staff, "Sam Adams", text="Sam")
    stranger = world.stranger
    unlink = {"type": "button", "action_id": "household.unlink", "value": uids["Zoe"]}
    reply = forged_action(stranger, view, unlink)
    assert "don't have access yet" in reply.text + json.dumps(
        [c.params for c in world.api.calls()], default=str
    )
    assert _links(world) == 1
    payload = interaction(stranger, "block_suggestion", view)
    payload.update(action_id="household.person", block_id="person", value="adams")
    answer = post_signed(stranger, payload)
    assert "Zoe" not in answer.text and "Sam" not in answer.text
