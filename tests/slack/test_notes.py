"""Notes on a customer's details end to end: add, view, edit, delete, permissions, limits."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.local import SlackDriver
from core.actor import Actor
from core.models import Note, Role
from core.services.notes import add_note, edit_note
from tests.conftest import MutableClock
from tests.slack.conftest import ADMIN, STAFF, TEAM, World
from tests.slack.details_helpers import details_after, go_to_tab, notice_of, open_details, row_texts
from tests.slack.helpers import (
    DETAILS,
    acked,
    after,
    interaction,
    is_view,
    post_signed,
    seed,
    text_of,
)

NOTE_FORM = "note_form.submit"
NOTE_VIEW = "note.details"


def _note(world: World, uid: str, text: str, author: str = ADMIN) -> int:
    role = Role.ADMIN if author == ADMIN else Role.STAFF
    with world.db.unit_of_work() as uow:
        return add_note(uow, Actor(TEAM, author, role), uid, text).id


def _count(world: World) -> int:
    with world.db.unit_of_work(readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Note)) or 0


def _notes_tab(world: World, driver_name: str = "staff") -> tuple[str, SlackDriver]:
    (zoe,) = seed(world.db, [("Zoe", "Adams")])
    driver = getattr(world, driver_name)
    open_details(driver, "Zoe Adams")
    go_to_tab(driver, "Notes")
    return zoe.uid, driver


def test_add_a_note_and_read_it_on_the_tab(world: World) -> None:
    _, driver = _notes_tab(world)
    after(driver, driver.click("Add Note"), "views.push")
    form = driver.wait_for_view(is_view(NOTE_FORM, "Add Note"))
    assert len(world.api.stack(driver.user_id)) == 3
    assert form["blocks"][0]["element"]["multiline"] is True
    driver.type("Allergic to lavender.\nPrefers the back row.", into="Note")
    acked(driver.submit())
    view = driver.wait_for_view(is_view(DETAILS, "Added note #"))
    assert len(world.api.stack(driver.user_id)) == 2
    (card,) = row_texts(view, "note_")
    assert "Allergic to lavender.\nPrefers the back row." in card
    assert f"by <@{driver.user_id}>" in card and "14 Mar 2026, 09:30 GMT" in card
    assert "1 note" in text_of(view)


def test_view_shows_the_whole_note(world: World) -> None:
    uid, driver = _notes_tab(world)
    long_text = "Called about her knee. " * 130
    _note(world, uid, long_text.strip())
    view = details_after(driver, driver.click("Notes", in_block="details_tabs"), "Note #")
    assert "…" in row_texts(view, "note_")[0]
    after(driver, driver.click("View"), "views.push")
    full = driver.wait_for_view(is_view(NOTE_VIEW))
    assert long_text.strip() in "".join(b["text"]["text"] for b in full["blocks"][1:])
    assert f"<@{ADMIN}>" in full["blocks"][0]["elements"][0]["text"]
    driver.close()
    assert (driver.current_view() or {})["callback_id"] == DETAILS


def test_edit_own_note(world: World, clock: MutableClock) -> None:
    uid, driver = _notes_tab(world)
    note_id = _note(world, uid, "First draft", author=STAFF)
    clock.advance(hours=2)
    details_after(driver, driver.click("Notes", in_block="details_tabs"), "First draft")
    after(driver, driver.click("note.edit"), "views.push")
    form = driver.wait_for_view(is_view(NOTE_FORM, f"Edit Note #{note_id}"))
    assert form["blocks"][0]["element"]["initial_value"] == "First draft"
    driver.type("Second draft", into="Note")
    acked(driver.submit())
    view = driver.wait_for_view(is_view(DETAILS, f"Saved note #{note_id}."))
    card = row_texts(view, "note_")[0]
    assert "Second draft" in card and f"edited 14 Mar 2026, 11:30 GMT by <@{STAFF}>" in card


def test_staff_cannot_edit_or_delete_an_admins_note(world: World) -> None:
    uid, driver = _notes_tab(world)
    _note(world, uid, "Admin's note")
    details_after(driver, driver.click("Notes", in_block="details_tabs"), "Admin's note")
    view = details_after(driver, driver.click("note.edit"), "Only the note's author or an admin")
    assert "Only the note's author or an admin can edit it" in notice_of(view)
    assert len(world.api.stack(driver.user_id)) == 2
    view = details_after(driver, driver.click("Delete"), "can delete it")
    assert "Only the note's author or an admin can delete it." in notice_of(view)
    assert _count(world) == 1


def test_admin_edits_a_staff_note(world: World) -> None:
    uid, driver = _notes_tab(world, "admin")
    note_id = _note(world, uid, "Staff wrote this", author=STAFF)
    details_after(driver, driver.click("Notes", in_block="details_tabs"), "Staff wrote this")
    after(driver, driver.click("note.edit"), "views.push")
    driver.wait_for_view(is_view(NOTE_FORM))
    driver.type("Corrected by admin", into="Note")
    acked(driver.submit())
    view = driver.wait_for_view(is_view(DETAILS, f"Saved note #{note_id}."))
    assert f"by <@{STAFF}>" in row_texts(view, "note_")[0]


def test_delete_asks_first(world: World) -> None:
    uid, driver = _notes_tab(world)
    note_id = _note(world, uid, "Mine to delete", author=STAFF)
    view = details_after(driver, driver.click("Notes", in_block="details_tabs"), "Mine to delete")
    delete = next(
        e
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "note.delete"
    )
    assert delete["confirm"]["confirm"]["text"] == "Delete"
    # Cancelling Slack's confirm dialog sends nothing.
    assert driver.click("Delete", confirm=False) is None
    assert _count(world) == 1
    view = details_after(driver, driver.click("Delete"), f"Deleted note #{note_id}.")
    assert "No notes yet" in text_of(view)
    assert _count(world) == 0


def test_a_note_over_3000_characters_is_refused_under_the_field(world: World) -> None:
    _, driver = _notes_tab(world)
    after(driver, driver.click("Add Note"), "views.push")
    driver.wait_for_view(is_view(NOTE_FORM))
    driver.type("x" * 3001, into="Note")
    # Slack's client refuses it first, under the field…
    assert driver.submit() is None
    assert driver.errors() == {"content": "Please enter no more than 3000 characters."}
    # …and the app does too when a client lets it through.
    response = acked(driver.submit(client_checks=False))
    assert response.data["response_action"] == "errors"
    assert "at most 3,000 characters (this one has 3,001)" in driver.errors()["content"]
    form = driver.current_view()
    assert form is not None and form["callback_id"] == NOTE_FORM
    assert form["state"]["values"]["content"]["note_form.content"]["value"] == "x" * 3001
    assert _count(world) == 0
    driver.type("x" * 3000, into="Note")
    acked(driver.submit())
    driver.wait_for_view(is_view(DETAILS, "Added note #"))


def test_a_blank_note_is_refused(world: World) -> None:
    _, driver = _notes_tab(world)
    after(driver, driver.click("Add Note"), "views.push")
    driver.wait_for_view(is_view(NOTE_FORM))
    driver.type("   \n  ", into="Note")
    acked(driver.submit())
    assert driver.errors() == {"content": "Write something in the note."}


def test_a_concurrent_edit_is_not_silently_overwritten(world: World, clock: MutableClock) -> None:
    uid, driver = _notes_tab(world, "admin")
    note_id = _note(world, uid, "Original")
    details_after(driver, driver.click("Notes", in_block="details_tabs"), "Original")
    after(driver, driver.click("note.edit"), "views.push")
    driver.wait_for_view(is_view(NOTE_FORM))
    clock.advance(minutes=1)
    with world.db.unit_of_work() as uow:
        edit_note(uow, Actor(TEAM, STAFF, Role.ADMIN), note_id, "Colleague's version")
    driver.type("My version", into="Note")
    response = acked(driver.submit())
    assert response.data["response_action"] == "update"
    form = driver.wait_for_view(is_view(NOTE_FORM, "Someone else changed this note"))
    assert form["state"]["values"]["content"]["note_form.content"]["value"] == "My version"
    acked(driver.submit())
    view = driver.wait_for_view(is_view(DETAILS, f"Saved note #{note_id}."))
    assert "My version" in row_texts(view, "note_")[0]


def test_search_and_pages_of_notes(world: World) -> None:
    uid, driver = _notes_tab(world)
    for i in range(7):
        _note(world, uid, f"Note number {i} {'knee' if i % 2 else 'shoulder'}")
    view = details_after(driver, driver.click("Notes", in_block="details_tabs"), "1–5 of 7 notes")
    assert len(row_texts(view, "note_")) == 5
    view = details_after(driver, driver.click("Next ▶"), "6–7 of 7 notes")
    view = details_after(driver, driver.type("knee", into="customer_details.search"), "of 3 notes")
    assert all("knee" in card for card in row_texts(view, "note_"))
    view = details_after(driver, driver.type("elbow", into="customer_details.search"), "No notes")
    assert "No notes match 'elbow' — clear the search" in text_of(view)


def test_a_forged_note_id_of_another_tenant_is_not_found(world: World) -> None:
    uid, driver = _notes_tab(world)
    (theirs,) = seed(world.db, [("Secret", "Person")], team_id="T0002", mobile_start=500)
    with world.db.unit_of_work() as uow:
        secret = add_note(uow, Actor("T0002", "UOTHER", Role.ADMIN), theirs.uid, "Their secret")
    _note(world, uid, "Ours")
    view = details_after(driver, driver.click("Notes", in_block="details_tabs"), "Ours")
    for action in ("note.view", "note.edit", "note.delete"):
        payload = interaction(driver, "block_actions", view)
        payload["actions"] = [
            {"type": "button", "action_id": action, "block_id": "x", "value": str(secret.id)}
        ]
        response = acked(post_signed(driver, payload))
        call = world.api.wait_for("views.update", since=response.mark)
        shown = text_of(call.params["view"])
        assert f"Note #{secret.id} no longer exists here" in shown
        assert "Their secret" not in shown
        assert not world.api.calls("views.push", since=response.mark)
        view = driver.wait_for_view(is_view(DETAILS))
    assert _count(world) == 2
