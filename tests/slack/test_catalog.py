"""The catalog's events end to end: admins add, repeat, edit and archive them from Home; staff
only read them; every bad field is answered under itself and every change is audited."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, time

import pytest
from sqlalchemy import select

from bot.local import SlackDriver
from core.actor import Actor
from core.errors import DomainError, Forbidden, ValidationFailed
from core.models import Booking, Event, EventOccurrence, Role, WorkspaceAuditEntry
from core.services.bookings import book_event
from core.services.catalog_export import export_catalog
from core.services.catalog_import import import_catalog
from core.services.checkout import ManualPayment
from core.services.events import EventDraft, add_event
from tests.slack.commerce_helpers import open_form
from tests.slack.conftest import TEAM, World
from tests.slack.details_helpers import open_details
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
from tests.views_check import assert_valid_view

EVENT = "catalog_event.submit"
ADMIN = Actor(TEAM, "UADMIN", Role.ADMIN)


def _home(driver: SlackDriver) -> JSON:
    return customers_home(driver)


def _open_add(driver: SlackDriver) -> JSON:
    _home(driver)
    after(driver, driver.click("Add event", surface="home"), "views.open")
    modal = driver.wait_for_view(lambda v: v["callback_id"] == EVENT)
    assert_valid_view(modal)
    return modal


def _fill(driver: SlackDriver, **values: str) -> None:
    """Fill the event modal: text fields by label, pickers by label."""
    pickers = {"day": "Day", "start": "Starts", "end": "Ends", "until": "Repeats until"}
    texts = {"name": "Name", "capacity": "Capacity", "price": "Price", "credits": "Credits"}
    texts["location"] = "Location"
    for field, value in values.items():
        if field in pickers:
            driver.pick(value, into=pickers[field])
        else:
            driver.type(value, into=texts[field])


def _yoga(driver: SlackDriver, **changes: str) -> None:
    wanted = {
        "name": "Sunrise Yoga",
        "day": "2026-03-20",
        "start": "07:00",
        "end": "08:15",
        "capacity": "12",
        "price": "12.50",
        "location": "Studio 1",
        **changes,
    }
    _fill(driver, **wanted)


def _occurrences(world: World) -> list[EventOccurrence]:
    with world.db.unit_of_work(readonly=True) as uow:
        rows = list(
            uow.session.scalars(select(EventOccurrence).order_by(EventOccurrence.starts_at))
        )
        uow.session.expunge_all()
        return rows


def _audit(world: World) -> list[tuple[str, str, str]]:
    with world.db.unit_of_work(readonly=True) as uow:
        query = select(
            WorkspaceAuditEntry.actor, WorkspaceAuditEntry.action, WorkspaceAuditEntry.detail
        ).order_by(WorkspaceAuditEntry.id)
        return [tuple(row) for row in uow.session.execute(query)]  # type: ignore[misc]


def _book(world: World, occurrence_id: int, count: int) -> None:
    people = seed(world.db, [(f"Guest{n}", "Test") for n in range(count)])
    with world.db.unit_of_work() as uow:
        for person in people:
            book_event(uow, ADMIN, person.uid, occurrence_id, ManualPayment())


def _menu(driver: SlackDriver, occurrence_id: int, verb: str) -> JSON:
    _home(driver)
    block = f"event_{occurrence_id}"
    response = driver.choose(verb, menu="catalog.event_menu", in_block=block, surface="home")
    if verb == "Edit":
        after(driver, response, "views.open")
        return driver.wait_for_view(lambda v: v["callback_id"] == EVENT)
    return published(driver, response)


def test_an_admin_adds_an_event_and_home_and_the_booking_form_offer_it(world: World) -> None:
    admin = world.admin
    modal = _open_add(admin)
    assert "In Europe/London." in text_of(modal)
    _yoga(admin)
    home = published(admin, admin.submit())
    assert_valid_view(home)
    shown = text_of(home)
    assert "Added Sunrise Yoga, 20 Mar 2026, 07:00 GMT." in shown
    assert "Sunrise Yoga" in shown and "Studio 1" in shown
    assert "0 of 12 booked (12 left) · £12.50 or 1 CR" in shown
    (one,) = _occurrences(world)
    assert (one.duration_minutes, one.capacity, one.price_minor) == (75, 12, 1250)
    assert (one.location, one.archived, one.timezone) == ("Studio 1", False, "Europe/London")
    ((actor, action, detail),) = _audit(world)
    assert (actor, action) == ("UADMIN", "event added")
    assert detail == "Sunrise Yoga, 20 Mar 2026, 07:00 GMT; 12 places, £12.50 or 1 CR, at Studio 1"

    seed(world.db, [("Zoë", "Adams")])
    open_details(admin, "Zoë Adams")
    form = open_form(admin, "Book an Event", "book_event.submit")
    assert "Sunrise Yoga · 20 Mar 2026, 07:00 GMT · 12 places left" in text_of(form)


def test_each_bad_field_is_answered_under_it_and_what_was_typed_stays(world: World) -> None:
    admin = world.admin
    _open_add(admin)
    _yoga(admin, end="06:30", capacity="0", price="-3", credits="lots")
    admin.choose("Monday", menu="Repeats weekly on")
    admin.pick("2026-03-01", into="Repeats until")
    response = acked(admin.submit())
    assert response.data["response_action"] == "errors"
    errors = admin.errors()
    assert set(errors) == {"end", "capacity", "price", "credits", "repeat_until"}
    assert "after the start" in errors["end"]
    assert "at least 1" in errors["capacity"]
    assert "can't be negative" in errors["price"]
    assert "whole number" in errors["credits"]
    assert "before the first event's day" in errors["repeat_until"]
    modal = admin.current_view("modal")
    assert modal is not None and modal["callback_id"] == EVENT
    assert modal["state"]["values"]["price"]["catalog_event.price"]["value"] == "-3"
    assert _occurrences(world) == [] and _audit(world) == []

    _yoga(admin, credits="2")
    admin.pick("2026-04-30", into="Repeats until")
    home = published(admin, admin.submit())
    assert "Added Sunrise Yoga, 7 dates from" in text_of(home)


def test_a_weekly_event_is_made_as_dated_events_and_too_many_are_refused(world: World) -> None:
    admin = world.admin
    _open_add(admin)
    _yoga(admin, day="2026-03-16")
    admin.choose("Monday", menu="Repeats weekly on")
    admin.choose("Wednesday", menu="Repeats weekly on")
    admin.pick("2028-12-31", into="Repeats until")
    acked(admin.submit())
    assert "at most 200" in admin.errors()["repeat_until"]
    assert _occurrences(world) == []

    admin.pick("2026-04-01", into="Repeats until")
    home = published(admin, admin.submit())
    made = _occurrences(world)
    # Mondays and Wednesdays from 16 Mar to 1 Apr: 16, 18, 23, 25, 30 Mar and 1 Apr.
    assert [o.starts_at.day for o in made] == [16, 18, 23, 25, 30, 1]
    assert len({o.event_id for o in made}) == 1
    assert "Added Sunrise Yoga, 6 dates from 16 Mar 2026, 07:00 GMT" in text_of(home)
    # After the clocks go forward the wall-clock time stays 07:00: 06:00 UTC.
    assert made[-1].starts_at.hour == 6 and made[0].starts_at.hour == 7

    # Each date is its own event: editing one leaves the others as they were.
    modal = _menu(admin, made[1].id, "Edit")
    assert "Edit event" in text_of(modal) and "Repeats" not in text_of(modal)
    _fill(admin, capacity="30", location="Park")
    home = published(admin, admin.submit())
    assert "30 places" in text_of(home) and "at Park" in text_of(home)
    after_edit = _occurrences(world)
    assert [o.capacity for o in after_edit] == [12, 30, 12, 12, 12, 12]
    assert [o.location for o in after_edit][:3] == ["Studio 1", "Park", "Studio 1"]


def test_editing_refuses_a_capacity_below_the_places_booked(world: World) -> None:
    admin = world.admin
    _open_add(admin)
    _yoga(admin)
    published(admin, admin.submit())
    (one,) = _occurrences(world)
    _book(world, one.id, 3)
    _menu(admin, one.id, "Edit")
    _fill(admin, capacity="2", start="18:00", end="19:00")
    acked(admin.submit())
    assert "3 places are already booked" in admin.errors()["capacity"]
    assert _occurrences(world)[0].capacity == 12

    _fill(admin, capacity="3")
    home = published(admin, admin.submit())
    assert "3 of 3 booked (0 left)" in text_of(home)
    (stored,) = _occurrences(world)
    assert (stored.capacity, stored.starts_at.hour) == (3, 18)
    (_, (_, action, detail)) = _audit(world)
    assert action == "event changed"
    assert (
        "07:00 GMT for 75 min, 12 places" in detail and "18:00 GMT for 60 min, 3 places" in detail
    )


def test_an_archived_event_keeps_its_bookings_and_cannot_be_booked(world: World) -> None:
    admin = world.admin
    _open_add(admin)
    _yoga(admin)
    published(admin, admin.submit())
    (one,) = _occurrences(world)
    _book(world, one.id, 1)
    home = _menu(admin, one.id, "Archive")
    assert "Archived Sunrise Yoga on 20 Mar 2026, 07:00 GMT" in text_of(home)
    assert "No upcoming events." in text_of(home)
    assert _occurrences(world)[0].archived
    with world.db.unit_of_work(readonly=True) as uow:
        assert len(uow.session.scalars(select(Booking)).all()) == 1
    assert _audit(world)[-1][1] == "event archived"

    (late,) = seed(world.db, [("Late", "Comer")])
    open_details(admin, "Late Comer")
    after(admin, admin.click("Book an Event"), "views.push")
    offered = {"book_event.submit", "commerce.result"}
    form = admin.wait_for_view(lambda v: v["callback_id"] in offered)
    assert "Sunrise Yoga" not in text_of(form)
    refused = ""
    with world.db.unit_of_work() as uow:
        try:
            book_event(uow, ADMIN, late.uid, one.id, ManualPayment())
        except DomainError as exc:
            refused = exc.message
    assert "is archived and can't be booked" in refused


def test_staff_see_the_catalog_read_only_and_forged_changes_are_refused(world: World) -> None:
    admin, staff = world.admin, world.staff
    modal = _open_add(admin)
    _yoga(admin)
    published(admin, admin.submit())
    (one,) = _occurrences(world)

    home = _home(staff)
    shown = text_of(home)
    assert "Sunrise Yoga" in shown and "Read only: your admins change the catalog." in shown
    ids = [e.action_id for e in staff.find_elements("home")]
    assert "catalog.event_add" not in ids and "catalog.event_menu" not in ids

    press = {"type": "button", "action_id": "catalog.event_add", "block_id": "catalog_section"}
    home = published(staff, forged_action(staff, home, press))
    assert "Only an admin can change the catalog." in text_of(home)
    menu = {
        "type": "overflow",
        "action_id": "catalog.event_menu",
        "block_id": f"event_{one.id}",
        "selected_option": {"text": {"type": "plain_text", "text": "Archive"}},
    }
    menu["selected_option"]["value"] = f"archive|{one.id}"
    home = published(staff, forged_action(staff, home, menu))
    assert "Only an admin can change the catalog." in text_of(home)
    assert not _occurrences(world)[0].archived

    values = {"name": {"catalog_event.name": {"type": "plain_text_input", "value": "Mine"}}}
    forged = {**modal, "state": {"values": values}}
    response = acked(post_signed(staff, interaction(staff, "view_submission", forged)))
    assert "Only an admin can" in response.text
    with world.db.unit_of_work(readonly=True) as uow:
        assert uow.session.scalars(select(Event.name)).all() == ["Sunrise Yoga"]


def _catalog_rows(world: World, team_id: str) -> list[tuple[object, ...]]:
    """Each dated event of `team_id` as people see it: what, when (local), where, for how much."""
    with world.db.unit_of_work(readonly=True) as uow:
        rows = uow.session.execute(
            select(
                Event.name,
                Event.credit_price,
                EventOccurrence.starts_at,
                EventOccurrence.duration_minutes,
                EventOccurrence.capacity,
                EventOccurrence.price_minor,
                EventOccurrence.location,
                EventOccurrence.archived,
                EventOccurrence.timezone,
            )
            .join(Event, Event.id == EventOccurrence.event_id)
            .where(Event.team_id == team_id)
            .order_by(EventOccurrence.starts_at)
        ).all()
    return [tuple(row) for row in rows]


def test_what_slack_edits_exports_and_imports_into_a_fresh_workspace_unchanged(
    world: World,
) -> None:
    admin = world.admin
    _open_add(admin)
    _yoga(admin, day="2026-03-16", price="0", credits="2")
    admin.choose("Monday", menu="Repeats weekly on")
    admin.choose("Wednesday", menu="Repeats weekly on")
    admin.pick("2026-03-25", into="Repeats until")
    published(admin, admin.submit())
    _, second, third, _ = _occurrences(world)
    _menu(admin, second.id, "Edit")
    _fill(admin, capacity="30", location="Park", start="18:00", end="19:30", price="9.99")
    published(admin, admin.submit())
    _menu(admin, third.id, "Archive")

    with world.db.unit_of_work(readonly=True) as uow:
        text = export_catalog(uow, TEAM)
    fresh = "T0FRESH"
    with world.db.unit_of_work() as uow:
        summary = import_catalog(uow, fresh, text, source="export.yaml")
    assert (summary.events, summary.occurrences_added) == (1, 4)
    ours, theirs = _catalog_rows(world, TEAM), _catalog_rows(world, fresh)
    assert theirs == ours
    assert [row[6] for row in ours] == ["Studio 1", "Park", "Studio 1", "Studio 1"]
    assert [row[7] for row in ours] == [False, False, True, False]
    assert ours[0][5] == 0 and ours[1][3:6] == (90, 30, 999) and ours[0][1] == 2
    # The imported catalog exports as the same file: keys travel with it.
    with world.db.unit_of_work(readonly=True) as uow:
        again = export_catalog(uow, fresh)
    assert again == text


def test_an_empty_form_and_a_time_the_clocks_skip_are_answered_field_by_field(
    world: World,
) -> None:
    with world.db.unit_of_work() as uow, pytest.raises(ValidationFailed) as empty:
        add_event(uow, ADMIN, EventDraft())
    assert set(empty.value.errors) == {"name", "day", "start", "end", "capacity", "price"}
    skipped = EventDraft(
        name="Night Owls",
        day=date(2026, 3, 29),
        start=time(1, 30),
        end=time(2, 45),
        capacity="5",
        price="5",
    )
    with world.db.unit_of_work() as uow, pytest.raises(ValidationFailed) as gap:
        add_event(uow, ADMIN, skipped)
    assert "does not exist in Europe/London" in gap.value.errors["start"]
    with world.db.unit_of_work() as uow, pytest.raises(Forbidden):
        add_event(uow, Actor(TEAM, "USTAFF", Role.STAFF), replace(skipped, start=time(3, 0)))
    assert _occurrences(world) == []


@pytest.mark.parametrize(
    ("field", "typed", "problem"),
    [
        ("capacity", "--5", "whole number"),
        ("capacity", "²", "whole number"),
        ("capacity", "-5", "at least 1"),
        ("credits", "1.5", "whole number"),
        ("price", "12abc", "amount such as £12.50"),
        ("price", "1e3", "amount such as £12.50"),
        ("price", "9.999", "at most 2 decimal places"),
    ],
)
def test_numbers_are_read_strictly(world: World, field: str, typed: str, problem: str) -> None:
    draft = EventDraft(
        name="Yoga",
        day=date(2026, 3, 20),
        start=time(7, 0),
        end=time(8, 0),
        capacity="5",
        price="£1,200.50",
    )
    with world.db.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        add_event(uow, ADMIN, replace(draft, **{field: typed}))
    assert list(refused.value.errors) == [field]
    assert problem in refused.value.errors[field]
    with world.db.unit_of_work() as uow:
        add_event(uow, ADMIN, draft)
    assert [o.price_minor for o in _occurrences(world)] == [120050]


def test_weekdays_that_are_not_text_are_ignored(world: World) -> None:
    """Found by fuzzing: a weekday option whose value was a list (only a forged request can
    send one) failed the submission instead of being ignored."""
    admin = world.admin
    _open_add(admin)
    _yoga(admin)
    modal = admin.current_view("modal")
    assert modal is not None
    junk = [{"text": {"type": "plain_text", "text": "x"}, "value": v} for v in ([], {}, 3, None)]
    boxes = {"type": "checkboxes", "selected_options": junk}
    values = {**modal["state"]["values"], "repeat_days": {"catalog_event.repeat_days": boxes}}
    forged = {**modal, "state": {"values": values}}
    response = post_signed(admin, interaction(admin, "view_submission", forged))
    assert response.status == 200 and not response.text.strip(), response.text
    (one,) = _occurrences(world)
    assert one.capacity == 12


def test_twenty_people_booked_at_once_into_five_places_get_five(world: World) -> None:
    admin = world.admin
    _open_add(admin)
    _yoga(admin, capacity="5")
    published(admin, admin.submit())
    (one,) = _occurrences(world)
    people = seed(world.db, [(f"Racer{n:02d}", "Guest") for n in range(20)])
    open_details(admin, "Racer00 Guest")
    open_form(admin, "Book an Event", "book_event.submit", "5 places left")
    admin.choose("Sunrise Yoga", menu="Session")
    form = admin.current_view("modal")
    assert form is not None and form["callback_id"] == "book_event.submit"
    meta = json.loads(form["private_metadata"])
    payloads = []
    for person in people:
        mine = {**meta, "details": {**meta["details"], "uid": person.uid}}
        view = {**form, "private_metadata": json.dumps(mine)}
        payloads.append(interaction(admin, "view_submission", view))
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda payload: post_signed(admin, payload), payloads))
    assert all(response.status == 200 for response in responses)
    refusals = [r.data["errors"] for r in responses if r.data.get("response_action") == "errors"]
    assert all("is full (5 of 5 places taken)" in e["occurrence_id"] for e in refusals)
    with world.db.unit_of_work(readonly=True) as uow:
        booked = uow.session.scalars(
            select(Booking.customer_id).where(Booking.occurrence_id == one.id)
        ).all()
    assert len(booked) == len(set(booked)) == 5
    # Each is answered at once (closed, or refused under the session) unless it outlasts
    # Slack's 3 s, when its result follows in the form's place.
    closed = [r for r in responses if not r.text.strip()]
    assert len(closed) <= 5
