"""Segments from Slack end to end, through signed requests and the local Slack stand-in:
`/customers segment` re-counting as a filter is typed, Save under a name (and a clash under the
field), Home's saved segment with its count, Open and Delete, a customer opened from the list,
and an admin's Export CSV to their DM."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from bot.app import alert_worker
from bot.local import SlackDriver
from bot.local.slack_api import SlackChannel
from core.actor import Actor
from core.models import (
    Booking,
    BookingState,
    Customer,
    Event,
    EventOccurrence,
    PaymentMethod,
    Role,
    Segment,
)
from core.services.customers import CustomerRecord
from core.services.tags import set_customer_tags
from tests.conftest import MutableClock
from tests.slack.conftest import ADMIN, STAFF, STRANGER, TEAM, World
from tests.slack.helpers import (
    JSON,
    acked,
    after,
    customers_home,
    forged_action,
    published,
    seed,
    text_of,
    updated,
)

LAPSED = "No visit in the last … days"


def _visit(world: World, customer: CustomerRecord, days_ago: int, clock: MutableClock) -> None:
    """A 12.00 class `days_ago` days before now, booked and not cancelled."""
    with world.db.unit_of_work() as uow:
        event = uow.session.scalar(select(Event).where(Event.team_id == TEAM))
        if event is None:
            event = Event(
                team_id=TEAM,
                key="yoga",
                name="Yoga",
                timezone="Europe/London",
                price_minor=1200,
                capacity=10,
            )
            uow.session.add(event)
            uow.session.flush()
        at = clock.current - timedelta(days=days_ago)
        occurrence = EventOccurrence(
            team_id=TEAM,
            event_id=event.id,
            starts_at=at,
            duration_minutes=60,
            timezone="Europe/London",
            capacity=10,
            price_minor=1200,
        )
        uow.session.add(occurrence)
        uow.session.flush()
        owner = uow.session.scalar(select(Customer.id).where(Customer.uid == customer.uid))
        assert owner is not None
        uow.session.add(
            Booking(
                team_id=TEAM,
                customer_id=owner,
                occurrence_id=occurrence.id,
                booked_at=at - timedelta(days=1),
                price_minor=1200,
                currency="GBP",
                state=BookingState.MANUAL,
                payment_method=PaymentMethod.MANUAL,
            )
        )


def _saved(world: World) -> list[tuple[str, str]]:
    with world.db.unit_of_work(readonly=True) as uow:
        return [(s.name, s.created_by) for s in uow.session.scalars(select(Segment))]


def _open(driver: SlackDriver) -> JSON:
    call = after(driver, driver.slash("/customers", "segment"), "views.open")
    view: JSON = call.response["view"]
    assert view["callback_id"] == "segment.submit"
    return driver.wait_for_view(lambda v: v["id"] == view["id"])


def _typed(driver: SlackDriver, text: str, into: str) -> JSON:
    return updated(driver, driver.type(text, into=into))


def test_typing_a_filter_recounts_and_saving_names_it_for_home(
    world: World, clock: MutableClock
) -> None:
    ann, ben, cat = seed(world.db, [("Ann", "Early"), ("Ben", "Lapsed"), ("Cat", "Recent")])
    _visit(world, ben, 90, clock)
    _visit(world, cat, 3, clock)
    opened = _open(world.staff)
    assert "3 customers match" in text_of(opened)

    lapsed = _typed(world.staff, "60", LAPSED)
    assert "1 customer match" in text_of(lapsed)
    assert "Ben Lapsed" in text_of(lapsed) and "Cat Recent" not in text_of(lapsed)
    assert "£12.00" in text_of(lapsed)
    # Staff see no export: the CSV is for admins.
    assert "Export CSV" not in text_of(lapsed)

    world.staff.type("Lapsed two months", into="Name (to save)")
    assert acked(world.staff.submit()).text.strip() == ""
    assert _saved(world) == [("Lapsed two months", world.staff.user_id)]

    # The same name again (another case) is refused under the field, nothing typed lost.
    _open(world.staff)
    _typed(world.staff, "30", LAPSED)
    world.staff.type("LAPSED two months", into="Name (to save)")
    refused = acked(world.staff.submit())
    assert "exists" in refused.data["errors"]["segment.name"]
    assert len(_saved(world)) == 1

    home = customers_home(world.admin)
    assert "Lapsed two months · 1 customer" in text_of(home)
    del ann


def test_home_opens_a_saved_segment_with_its_filters_and_an_admin_exports_it(
    world: World, clock: MutableClock
) -> None:
    ben, cat = seed(world.db, [("Ben", "Lapsed"), ("Cat", "Recent")])
    _visit(world, ben, 90, clock)
    _visit(world, cat, 3, clock)
    _open(world.admin)
    _typed(world.admin, "60", LAPSED)
    world.admin.type("Lapsed", into="Name (to save)")
    acked(world.admin.submit())

    customers_home(world.admin)
    opened = after(world.admin, world.admin.click("Open", surface="home"), "views.open")
    modal = world.admin.wait_for_view(lambda v: v["id"] == opened.response["view"]["id"])
    lapsed = next(b for b in modal["blocks"] if b.get("block_id") == "segment.lapsed")
    assert lapsed["element"]["initial_value"] == "60"
    assert "1 customer match" in text_of(modal)

    shown = updated(world.admin, world.admin.click("Export CSV"))
    world.api.wait_until(lambda: bool(world.api.files()), timeout=10, description="the upload")
    [upload] = world.api.files()
    assert upload.channels == [world.api.dm_channel(ADMIN)]
    assert upload.content is not None
    lines = list(csv.DictReader(io.StringIO(upload.content.decode("utf-8"), newline="")))
    assert [line["uid"] for line in lines] == [ben.uid]
    assert "Sent to your DM" in text_of(shown)
    # The filters typed are still there.
    assert world.admin.current_view("modal") is not None


def test_a_customer_opens_from_the_list_and_home_deletes_a_segment(
    world: World, clock: MutableClock
) -> None:
    (ben,) = seed(world.db, [("Ben", "Lapsed")])
    _visit(world, ben, 90, clock)
    _open(world.staff)
    _typed(world.staff, "60", LAPSED)
    pushed = after(world.staff, world.staff.click("Open"), "views.push")
    assert pushed.response["view"]["callback_id"] == "customer_details.view"
    assert "Ben Lapsed" in text_of(pushed.response["view"])

    world.staff.close()
    world.staff.type("Mine", into="Name (to save)")
    acked(world.staff.submit())
    customers_home(world.staff)
    after_delete = published(world.staff, world.staff.click("Delete", surface="home"))
    assert "Deleted the segment “Mine”" in text_of(after_delete)
    assert _saved(world) == []


def test_a_number_slack_would_not_send_is_shown_as_a_problem_not_counted(world: World) -> None:
    seed(world.db, [("Ann", "Early")])
    view = _open(world.staff)
    forged = {
        "type": "number_input",
        "action_id": "segment.filter",
        "block_id": "segment.lapsed",
        "value": "-3",
        "action_ts": "1.0",
    }
    view["state"] = {"values": {"segment.lapsed": {"segment.filter": forged}}}
    shown = updated(world.staff, forged_action(world.staff, view, forged))
    assert "Enter a whole number" in text_of(shown)
    assert "customers match" not in text_of(shown)


def test_a_weekly_digest_goes_only_to_a_channel_of_staff_and_pauses_when_that_changes(
    world: World, clock: MutableClock
) -> None:
    (ben,) = seed(world.db, [("Ben", "Lapsed")])
    _visit(world, ben, 90, clock)
    world.api.add_channel(SlackChannel("CSTAFF", "staff", (ADMIN, STAFF, world.api.bot_user_id)))
    world.api.add_channel(SlackChannel("CMIXED", "mixed", (ADMIN, STRANGER, world.api.bot_user_id)))
    _open(world.staff)
    _typed(world.staff, "60", LAPSED)
    world.staff.type("Lapsed", into="Name (to save)")
    world.staff.choose_conversation("CMIXED", into="segment.digest")
    refused = acked(world.staff.submit())
    assert "aren't staff" in refused.data["errors"]["segment.digest"]

    world.staff.choose_conversation("CSTAFF", into="segment.digest")
    assert acked(world.staff.submit()).text.strip() == ""
    alert_worker(world.app).drain()
    [posted] = world.api.messages("CSTAFF")
    assert "Lapsed" in posted.text and "1 customer match now" in posted.text
    assert "Ben Lapsed" in posted.text
    home = customers_home(world.staff)
    assert "Posts who is new weekly to" in text_of(home)

    # Someone who isn't staff joins; next week's digest is held back and its author told.
    acked(world.admin.join("CSTAFF", STRANGER))
    clock.advance(days=7)
    alert_worker(world.app).drain()
    assert len(world.api.messages("CSTAFF")) == 1
    told = world.api.messages(world.api.dm_channel(STAFF))
    assert any("digest of the segment *Lapsed*" in m.text and "paused" in m.text for m in told)
    assert "paused: someone in the channel isn't staff" in text_of(customers_home(world.staff))


def test_a_tag_chosen_in_the_modal_recounts(world: World) -> None:
    ann, ben = seed(world.db, [("Ann", "Tagged"), ("Ben", "Plain")])
    with world.db.unit_of_work() as uow:
        set_customer_tags(uow, Actor(TEAM, ADMIN, Role.ADMIN), ann.uid, ["VIP"])
    opened = _open(world.staff)
    assert "2 customers match" in text_of(opened)
    chosen = updated(
        world.staff, world.staff.choose("VIP", menu="segment.filter", in_block="segment.tag")
    )
    assert "1 customer match" in text_of(chosen)
    assert "Ann Tagged" in text_of(chosen) and "Ben Plain" not in text_of(chosen)
    del ben
