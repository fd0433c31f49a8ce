"""Shortcuts end to end through signed requests: Find customer, New customer, Add to customer
notes (once per message, with its author and link on the Notes tab and in the history), New
customer from a message, Slack's retries, and who may use them."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from bot.local import Message, SlackDriver
from bot.local.slack_api import SlackUser
from core.models import NOTE_MAX, Customer, Note
from tests.slack.conftest import ADMIN, STAFF, TEAM, World
from tests.slack.details_helpers import go_to_tab, open_details, row_texts
from tests.slack.helpers import FORM, HUB, acked, after, is_view, seed, text_of

ADD = "shortcut.add_to_notes"
FROM_MESSAGE = "shortcut.customer_from_message"
NOTE_FORM = "message_note.submit"
DONE = "message_note.done"
AUTHOR = "UAUTHOR"


def _said(world: World, text: str) -> Message:
    """A message by a colleague, Ana Author, in the driver's channel."""
    world.api.add_user(SlackUser(AUTHOR, "ana", team_id=TEAM, real_name="Ana Author"))
    return world.api.say("C0LOCAL", AUTHOR, text)


def _note_form(driver: SlackDriver, message: Message) -> dict[str, object]:
    after(driver, driver.message_shortcut(ADD, message), "views.open")
    return driver.wait_for_view(is_view(NOTE_FORM))


def _notes(world: World) -> int:
    with world.db.unit_of_work(readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Note)) or 0


def test_add_to_customer_notes_keeps_the_message_author_and_link(world: World) -> None:
    seed(world.db, [("Zoë", "Adams"), ("Zed", "Other")])
    message = _said(
        world, "Zoë called: her knee is better, back to *Vinyasa* on Monday &amp; Friday"
    )
    driver = world.staff
    form = _note_form(driver, message)
    link = world.api.permalink("C0LOCAL", message.ts)
    shown = text_of(form)
    assert f"From a message by <@{AUTHOR}>" in str(form) and link in str(form)
    assert "Add to customer notes" in shown
    typed = form["blocks"][2]["element"]["initial_value"]  # type: ignore[index]
    assert typed == "Zoë called: her knee is better, back to *Vinyasa* on Monday & Friday"
    options = driver.block_suggestion("zo", action_id="message_note.customer")
    assert next(o["text"]["text"] for o in options).startswith("Zoë Adams · ")
    driver.choose("Zoë Adams", menu="message_note.customer")
    driver.type("Knee better; back to Vinyasa Mon & Fri.", into="Note")
    acked(driver.submit())
    done = driver.wait_for_view(is_view(DONE, "Added note #"))
    assert "Zoë Adams's notes" in text_of(done)

    driver.close()
    open_details(driver, "Zoë Adams")
    view = go_to_tab(driver, "Notes")
    (card,) = row_texts(view, "note_")
    assert "Knee better; back to Vinyasa Mon &amp; Fri." in card
    assert f"by <@{STAFF}>" in card and f"from a message by <@{AUTHOR}> · <{link}|link>" in card
    history = go_to_tab(driver, "Account")
    entry = next(b["text"]["text"] for b in history["blocks"] if "Note added" in str(b))
    assert f"From a message by: <@{AUTHOR}>" in entry and f"<{link}|open in Slack>" in entry


def test_a_retried_shortcut_and_a_retried_submission_note_once(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    seed(world.db, [("Zoë", "Adams")])
    message = _said(world, "Zoë wants the 7am class")
    driver = world.staff
    trigger = world.api.issue_trigger_id(STAFF)
    first = driver.message_shortcut(ADD, message, trigger_id=trigger)
    after(driver, first, "views.open")
    form = driver.wait_for_view(is_view(NOTE_FORM))
    # Slack thought the first delivery was missed: the same trigger again, which opens nothing.
    with caplog.at_level(logging.WARNING):
        retried = acked(driver.message_shortcut(ADD, message, trigger_id=trigger, retry_num=1))
        world.api.wait_for("views.open", since=retried.mark)
    opened = [c for c in world.api.calls("views.open", since=first.mark) if c.ok]
    assert len(opened) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert (driver.current_view() or {})["id"] == form["id"]

    driver.choose("Zoë Adams", menu="message_note.customer")
    submitted = driver.current_view()
    assert submitted is not None
    acked(driver.submit())
    driver.wait_for_view(is_view(DONE, "Added note #"))
    # The same submission delivered again (a retry, or a second press that got through).
    again = acked(driver.resubmit(submitted))
    assert "already in Zoë Adams's notes" in text_of(again.data["view"])
    # And the shortcut run again later, saved again on the same customer: still one note.
    form = _note_form(driver, message)
    driver.choose("Zoë Adams", menu="message_note.customer")
    acked(driver.submit())
    assert "already in" in text_of(driver.wait_for_view(is_view(DONE)))
    assert _notes(world) == 1


def test_a_long_message_is_cut_to_a_note_and_the_form_says_so(world: World) -> None:
    seed(world.db, [("Zoë", "Adams")])
    message = _said(world, "Long story. " * 400)
    form = _note_form(world.staff, message)
    assert len(form["blocks"][2]["element"]["initial_value"]) == NOTE_MAX  # type: ignore[index]
    assert f"The message has {len(message.text.strip()):,} characters" in text_of(form)


def test_without_a_permalink_the_note_is_kept_without_one(world: World) -> None:
    (zoe,) = seed(world.db, [("Zoë", "Adams")])
    # A message Slack won't link to (a conversation the app isn't in): the stand-in has none.
    unseen = Message("G0PRIVATE", "1773480600.000100", "Zoë asked for a refund", [], "user", AUTHOR)
    driver = world.staff
    form = _note_form(driver, unseen)
    assert "slack.test/archives" not in str(form)
    driver.choose("Zoë Adams", menu="message_note.customer")
    acked(driver.submit())
    driver.wait_for_view(is_view(DONE, "Added note #"))
    with world.db.unit_of_work(readonly=True) as uow:
        kept = uow.session.execute(
            select(
                Note.source_message, Note.source_author, Note.source_permalink, Customer.uid
            ).join(Customer, Customer.id == Note.customer_id)
        ).one()
    assert tuple(kept) == ("G0PRIVATE/1773480600.000100", AUTHOR, None, zoe.uid)


def test_the_form_asks_for_a_customer_and_keeps_what_was_typed(world: World) -> None:
    seed(world.db, [("Zoë", "Adams")])
    driver = world.staff
    _note_form(driver, _said(world, "hello"))
    driver.type("Typed with care", into="Note")
    assert driver.submit() is None  # Slack's client asks for the required picker first
    # A submission that arrives without it anyway is answered under the picker.
    response = acked(driver.submit(client_checks=False))
    assert response.data["errors"] == {"uid": "Choose the customer."}
    assert driver.errors() == {"uid": "Choose the customer."}
    typed = driver.current_view()
    assert typed is not None and "Typed with care" in str(typed["state"])
    assert _notes(world) == 0


def test_new_customer_from_a_message_fills_in_create_customer(world: World) -> None:
    message = _said(
        world,
        "Walk-in today. Name: Zoë Adams, <mailto:zoe.adams@example.com|zoe.adams@example.com>, "
        "mobile 07700 900123",
    )
    driver = world.staff
    after(driver, driver.message_shortcut(FROM_MESSAGE, message), "views.open")
    form = driver.wait_for_view(is_view(FORM, "Create Customer"))
    initial = {
        b["block_id"]: b["element"].get("initial_value")
        for b in form["blocks"]
        if b.get("type") == "input"
    }
    assert initial == {
        "first_name": "Zoë",
        "last_name": "Adams",
        "email": "zoe.adams@example.com",
        "mobile": "+44 7700 900123",
        # The tag picker starts empty: a message holds no tags.
        "tags": None,
    }
    assert "Filled in from the message: name, email, mobile" in text_of(form)
    acked(driver.submit())
    hub = driver.wait_for_view(is_view(HUB, "Created Zoë Adams"))
    assert "zoe.adams@example.com" in text_of(hub)
    with world.db.unit_of_work(readonly=True) as uow:
        made = uow.session.execute(
            select(Customer.first_name, Customer.mobile, Customer.updated_by)
        ).one()
    assert tuple(made) == ("Zoë", "+447700900123", STAFF)


def test_the_authors_name_is_not_the_customers_and_the_form_validates_as_usual(
    world: World,
) -> None:
    seed(world.db, [("Zed", "Taken")])
    # Ana Author writes her own name before the address of someone she hasn't named.
    message = _said(world, "Ana Author zed.taken.100@example.com")
    driver = world.staff
    after(driver, driver.message_shortcut(FROM_MESSAGE, message), "views.open")
    form = driver.wait_for_view(is_view(FORM, "Create Customer"))
    first = next(b for b in form["blocks"] if b.get("block_id") == "first_name")
    assert "initial_value" not in first["element"]
    driver.type("Zed", into="First name")
    driver.type("Again", into="Last name")
    driver.type("+44 7700 900555", into="Mobile")
    response = acked(driver.submit())
    assert "already uses this email" in response.data["errors"]["email"]


@pytest.mark.parametrize(
    ("callback_id", "callback", "needle"),
    [
        ("shortcut.find_customer", HUB, "Zoë Adams"),
        ("shortcut.new_customer", FORM, "Create Customer"),
    ],
)
def test_global_shortcuts_open_the_hub_and_create_customer(
    world: World, callback_id: str, callback: str, needle: str
) -> None:
    seed(world.db, [("Zoë", "Adams")])
    driver = world.admin
    call = after(driver, driver.global_shortcut(callback_id), "views.open")
    assert call.params["view"]["callback_id"] == callback
    driver.wait_for_view(is_view(callback, needle))


@pytest.mark.parametrize("who", ["guest", "stranger"])
def test_shortcuts_refuse_guests_and_non_staff(world: World, who: str) -> None:
    seed(world.db, [("Zoë", "Adams")])
    message = _said(world, "zoe@example.com")
    driver: SlackDriver = getattr(world, who)
    refusal = "guest accounts can't use" if who == "guest" else "don't have access yet"
    for send in (
        lambda: driver.global_shortcut("shortcut.find_customer"),
        lambda: driver.message_shortcut(ADD, message),
        lambda: driver.message_shortcut(FROM_MESSAGE, message),
    ):
        call = after(driver, send(), "views.open")
        assert call.params["view"]["callback_id"] == "access.refused"
        assert refusal in text_of(driver.wait_for_view(is_view("access.refused")))
        assert "Zoë" not in str(call.params)
        driver.close()
    assert _notes(world) == 0 and ADMIN
