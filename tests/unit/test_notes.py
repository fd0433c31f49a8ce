"""Notes on SQLite and PostgreSQL: limits, author/admin rights, tenancy, search, paging, history,
and notes taken from Slack messages (once per message and customer, even racing)."""

# ruff: noqa: F811 - tests take the imported `pool` fixture as a parameter

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select

from core.actor import Actor
from core.db import Database
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.models import NOTE_MAX, Note, Role
from core.services.account import list_history
from core.services.customers import CustomerInput, CustomerRecord, create_customer
from core.services.notes import (
    MessageSource,
    NoteRow,
    add_message_note,
    add_note,
    delete_note,
    edit_note,
    get_note,
    list_notes,
)
from tests.concurrency import held_open, pool, wait_until_blocked  # noqa: F401
from tests.conftest import MutableClock

T = TypeVar("T")
_serial = itertools.count(1)


def run(db: Database, action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with db.unit_of_work() as uow:
        return action(uow, *args, **kwargs)


def customer(db: Database, actor: Actor, first: str = "Ada") -> CustomerRecord:
    data = CustomerInput(
        first_name=first,
        last_name="Lovelace",
        email=f"notes{next(_serial)}@example.com",
        mobile="+44 7700 900123",
    )
    return run(db, create_customer, actor, data, send_welcome=False)


def note_count(db: Database) -> int:
    with db.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Note)) or 0


def history_actions(db: Database, actor: Actor, uid: str) -> list[tuple[str, dict[str, Any], str]]:
    page = run(db, list_history, actor, uid, page_size=100)
    return [(row.action, row.changes, row.detail) for row in page.rows]


@pytest.fixture
def colleague() -> Actor:
    return Actor(team_id="T0001", user_id="UCOLLEAGUE", role=Role.STAFF)


# --- adding and limits ---------------------------------------------------------------------


def test_add_note_keeps_trimmed_content_with_author_and_times(
    db: Database, staff: Actor, clock: MutableClock
) -> None:
    ada = customer(db, staff)
    note = run(db, add_note, staff, ada.uid, "  Allergic to nuts.\r\nPrefers mornings.  \n")
    assert note.content == "Allergic to nuts.\nPrefers mornings."
    assert (note.customer_uid, note.author, note.updated_by) == (ada.uid, "USTAFF", "USTAFF")
    assert note.created_at == note.updated_at == clock.current
    assert run(db, get_note, staff, note.id) == note


def test_note_of_exactly_the_maximum_length_is_kept(db: Database, staff: Actor) -> None:
    ada = customer(db, staff)
    note = run(db, add_note, staff, ada.uid, "x" * NOTE_MAX)
    assert len(note.content) == NOTE_MAX == 3000


def test_note_over_the_maximum_is_refused_saying_by_how_much(db: Database, staff: Actor) -> None:
    ada = customer(db, staff)
    # Surrounding white space does not count: the limit applies to what would be stored.
    with pytest.raises(ValidationFailed) as caught:
        run(db, add_note, staff, ada.uid, "  " + "x" * 3214 + "  ")
    assert caught.value.errors == {
        "content": "A note can be at most 3,000 characters (this one has 3,214); "
        "shorten it or split it into two notes."
    }
    assert note_count(db) == 0


@pytest.mark.parametrize("blank", ["", "   ", "\n\t \r\n", "\x00\x07"])
def test_blank_note_is_refused(db: Database, staff: Actor, blank: str) -> None:
    ada = customer(db, staff)
    with pytest.raises(ValidationFailed) as caught:
        run(db, add_note, staff, ada.uid, blank)
    assert caught.value.errors == {"content": "Write something in the note."}
    assert note_count(db) == 0


def test_invisible_control_characters_are_dropped(db: Database, staff: Actor) -> None:
    ada = customer(db, staff)
    # PostgreSQL cannot store NUL at all; tabs and line breaks are content and stay.
    note = run(db, add_note, staff, ada.uid, "Paid\x00 in\x1b cash\tat the desk\nThanks")
    assert note.content == "Paid in cash\tat the desk\nThanks"


def test_adding_records_the_note_in_the_customers_history(db: Database, staff: Actor) -> None:
    ada = customer(db, staff)
    note = run(db, add_note, staff, ada.uid, "Allergic to nuts.")
    assert history_actions(db, staff, ada.uid)[0] == (
        "note added",
        {"content": [None, "Allergic to nuts."]},
        f"note #{note.id}",
    )


def test_history_keeps_a_clipped_copy_of_long_notes(db: Database, staff: Actor) -> None:
    ada = customer(db, staff)
    run(db, add_note, staff, ada.uid, "word " * 500)
    _, changes, _ = history_actions(db, staff, ada.uid)[0]
    added = changes["content"][1]
    assert len(added) <= 280
    assert added.endswith("…")
    assert added.startswith("word word")


# --- editing and deleting: the author or an admin --------------------------------------------


def test_author_edits_and_history_shows_before_and_after(
    db: Database, staff: Actor, clock: MutableClock
) -> None:
    ada = customer(db, staff)
    note = run(db, add_note, staff, ada.uid, "Prefers mornings.")
    clock.advance(minutes=5)
    edited = run(db, edit_note, staff, note.id, " Prefers evenings. ")
    assert edited.content == "Prefers evenings."
    assert edited.created_at == note.created_at
    assert edited.updated_at == clock.current
    assert run(db, get_note, staff, note.id) == edited
    assert history_actions(db, staff, ada.uid)[0] == (
        "note edited",
        {"content": ["Prefers mornings.", "Prefers evenings."]},
        f"note #{note.id}",
    )


def test_edit_that_changes_nothing_adds_no_history(db: Database, staff: Actor) -> None:
    ada = customer(db, staff)
    note = run(db, add_note, staff, ada.uid, "Prefers mornings.")
    assert run(db, edit_note, staff, note.id, "Prefers mornings.  ") == note
    assert [a for a, _, _ in history_actions(db, staff, ada.uid)] == ["note added", "created"]


def test_edit_is_validated_like_adding(db: Database, staff: Actor) -> None:
    ada = customer(db, staff)
    note = run(db, add_note, staff, ada.uid, "Prefers mornings.")
    with pytest.raises(ValidationFailed) as caught:
        run(db, edit_note, staff, note.id, "y" * (NOTE_MAX + 1))
    assert "this one has 3,001" in caught.value.errors["content"]
    with pytest.raises(ValidationFailed):
        run(db, edit_note, staff, note.id, "  ")
    assert run(db, get_note, staff, note.id) == note


def test_admin_may_edit_and_delete_someone_elses_note(
    db: Database, staff: Actor, admin: Actor
) -> None:
    ada = customer(db, staff)
    note = run(db, add_note, staff, ada.uid, "Prefers mornings.")
    edited = run(db, edit_note, admin, note.id, "Prefers evenings.")
    assert (edited.author, edited.updated_by) == ("USTAFF", "UADMIN")
    deleted = run(db, delete_note, admin, note.id)
    assert deleted == edited
    assert note_count(db) == 0


def test_other_staff_may_neither_edit_nor_delete(
    db: Database, staff: Actor, colleague: Actor
) -> None:
    ada = customer(db, staff)
    note = run(db, add_note, staff, ada.uid, "Prefers mornings.")
    with pytest.raises(Forbidden) as edit_refused:
        run(db, edit_note, colleague, note.id, "Prefers evenings.")
    assert edit_refused.value.message == "Only the note's author or an admin can edit it."
    with pytest.raises(Forbidden) as delete_refused:
        run(db, delete_note, colleague, note.id)
    assert delete_refused.value.message == "Only the note's author or an admin can delete it."
    assert run(db, get_note, colleague, note.id) == note  # reading is for every staff member
    assert [a for a, _, _ in history_actions(db, staff, ada.uid)] == ["note added", "created"]


def test_edit_based_on_an_older_version_is_refused(
    db: Database, staff: Actor, admin: Actor, clock: MutableClock
) -> None:
    ada = customer(db, staff)
    note = run(db, add_note, staff, ada.uid, "Prefers mornings.")
    clock.advance(minutes=1)
    newer = run(db, edit_note, admin, note.id, "Prefers evenings.")
    with pytest.raises(Conflict) as caught:
        run(db, edit_note, staff, note.id, "Mornings!", expected_updated_at=note.updated_at)
    assert (caught.value.changed_by, caught.value.changed_at) == ("UADMIN", newer.updated_at)
    latest = run(db, edit_note, staff, note.id, "Mornings!", expected_updated_at=newer.updated_at)
    assert latest.content == "Mornings!"


def test_author_deletes_and_history_keeps_what_was_deleted(db: Database, staff: Actor) -> None:
    ada = customer(db, staff)
    note = run(db, add_note, staff, ada.uid, "Prefers mornings.")
    assert run(db, delete_note, staff, note.id) == note
    with pytest.raises(NotFound):
        run(db, get_note, staff, note.id)
    with pytest.raises(NotFound):
        run(db, delete_note, staff, note.id)
    assert history_actions(db, staff, ada.uid)[0] == (
        "note deleted",
        {"content": ["Prefers mornings.", None]},
        f"note #{note.id} by USTAFF",
    )


# --- tenancy and ownership ---------------------------------------------------------------------


def test_another_workspace_can_neither_see_nor_touch_a_note(
    db: Database, staff: Actor, other_tenant: Actor
) -> None:
    ada = customer(db, staff)
    note = run(db, add_note, staff, ada.uid, "Prefers mornings.")
    for attempt in (
        lambda: run(db, get_note, other_tenant, note.id),
        lambda: run(db, edit_note, other_tenant, note.id, "mine now"),
        lambda: run(db, delete_note, other_tenant, note.id),
        lambda: run(db, list_notes, other_tenant, ada.uid),
        lambda: run(db, add_note, other_tenant, ada.uid, "sneaky"),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert run(db, list_notes, staff, ada.uid).rows == [note]


def test_a_note_asked_for_under_another_customer_is_not_found(db: Database, staff: Actor) -> None:
    ada = customer(db, staff)
    grace = customer(db, staff, first="Grace")
    note = run(db, add_note, staff, ada.uid, "Prefers mornings.")
    assert run(db, get_note, staff, note.id, uid=ada.uid) == note
    with pytest.raises(NotFound):
        run(db, get_note, staff, note.id, uid=grace.uid)
    with pytest.raises(NotFound):
        run(db, edit_note, staff, note.id, "moved?", uid=grace.uid)
    with pytest.raises(NotFound):
        run(db, delete_note, staff, note.id, uid=grace.uid)
    assert run(db, list_notes, staff, grace.uid).total == 0
    assert run(db, get_note, staff, note.id) == note


def test_unknown_customer_or_note_is_not_found(db: Database, staff: Actor) -> None:
    with pytest.raises(NotFound):
        run(db, add_note, staff, "NOSUCHUID000", "hello")
    with pytest.raises(NotFound):
        run(db, list_notes, staff, "NOSUCHUID000")
    with pytest.raises(NotFound):
        run(db, edit_note, staff, 999_999, "hello")


# --- listing, paging and search ----------------------------------------------------------------


def add_notes(db: Database, actor: Actor, uid: str, clock: MutableClock, n: int) -> list[NoteRow]:
    notes = []
    for i in range(n):
        clock.advance(minutes=1)
        notes.append(run(db, add_note, actor, uid, f"Note number {i + 1}"))
    return notes


def test_notes_are_listed_newest_first_a_page_at_a_time(
    db: Database, staff: Actor, clock: MutableClock
) -> None:
    ada = customer(db, staff)
    notes = add_notes(db, staff, ada.uid, clock, 12)
    newest_first = notes[::-1]
    first = run(db, list_notes, staff, ada.uid)
    assert (first.rows, first.total, first.page, first.pages) == (newest_first[:5], 12, 1, 3)
    last = run(db, list_notes, staff, ada.uid, page=3)
    assert last.rows == newest_first[10:]
    assert (last.first_index, last.last_index) == (11, 12)
    # A page past the end (after deletions elsewhere) shows the last one that exists.
    assert run(db, list_notes, staff, ada.uid, page=99).rows == newest_first[10:]


def test_notes_made_in_the_same_instant_keep_a_stable_order(db: Database, staff: Actor) -> None:
    ada = customer(db, staff)
    notes = [run(db, add_note, staff, ada.uid, f"Same time {i}") for i in range(4)]
    page = run(db, list_notes, staff, ada.uid, page_size=10)
    assert page.rows == notes[::-1]


def test_empty_list_is_page_one_of_one(db: Database, staff: Actor) -> None:
    ada = customer(db, staff)
    page = run(db, list_notes, staff, ada.uid)
    assert (page.rows, page.total, page.page, page.pages) == ([], 0, 1, 1)


def test_search_ignores_case_and_accents(db: Database, staff: Actor, clock: MutableClock) -> None:
    ada = customer(db, staff)
    zoe = run(db, add_note, staff, ada.uid, "Friend of ZOË Ørsted; café regular.")
    clock.advance(minutes=1)
    run(db, add_note, staff, ada.uid, "Allergic to nuts.")
    for query in ("zoe", "Zoë", "orsted", "CAFE", "  zoë  ørsted "):
        assert run(db, list_notes, staff, ada.uid, query=query).rows == [zoe], query


def test_search_finds_a_note_by_its_id(db: Database, staff: Actor, clock: MutableClock) -> None:
    ada = customer(db, staff)
    notes = add_notes(db, staff, ada.uid, clock, 3)
    target = notes[1]
    assert run(db, list_notes, staff, ada.uid, query=f"#{target.id}").rows == [target]
    by_number = run(db, list_notes, staff, ada.uid, query=str(target.id)).rows
    assert target in by_number


def test_search_treats_wildcards_literally_and_pages_its_matches(
    db: Database, staff: Actor, clock: MutableClock
) -> None:
    ada = customer(db, staff)
    notes = add_notes(db, staff, ada.uid, clock, 7)
    discount = run(db, add_note, staff, ada.uid, "Gets 10% off")
    assert run(db, list_notes, staff, ada.uid, query="%").rows == [discount]
    assert run(db, list_notes, staff, ada.uid, query="_").rows == []
    matches = run(db, list_notes, staff, ada.uid, query="number", page=2)
    assert (matches.rows, matches.total, matches.pages) == (notes[1::-1], 7, 2)
    assert run(db, list_notes, staff, ada.uid, query="nothing like it").total == 0


def test_listing_shows_only_that_customers_notes(db: Database, staff: Actor) -> None:
    ada = customer(db, staff)
    grace = customer(db, staff, first="Grace")
    mine = run(db, add_note, staff, ada.uid, "Ada's note")
    run(db, add_note, staff, grace.uid, "Grace's note")
    assert run(db, list_notes, staff, ada.uid).rows == [mine]
    assert run(db, list_notes, staff, ada.uid, query="note").rows == [mine]


# --- notes taken from a Slack message -----------------------------------------------------

SOURCE = MessageSource(
    "C0FRONT",
    "1773480600.000100",
    "UAUTHOR",
    "https://t0001.slack.test/archives/C0FRONT/p1773480600000100",
)


def test_a_message_note_keeps_its_author_and_link_and_is_in_the_history(
    db: Database, staff: Actor
) -> None:
    ada = customer(db, staff)
    saved = run(db, add_message_note, staff, ada.uid, "Wants the 7am class.", SOURCE)
    assert saved.added and saved.customer_name == "Ada Lovelace"
    note = run(db, get_note, staff, saved.note.id)
    assert (note.author, note.source_author, note.source_permalink) == (
        "USTAFF",
        "UAUTHOR",
        SOURCE.permalink,
    )
    action, changes, detail = history_actions(db, staff, ada.uid)[0]
    assert action == "note added" and detail == f"note #{note.id} from a message"
    assert changes["message_by"] == [None, "UAUTHOR"]
    assert changes["message_link"] == [None, SOURCE.permalink]


def test_the_same_message_is_noted_once_per_customer(db: Database, staff: Actor) -> None:
    ada, grace = customer(db, staff), customer(db, staff, "Grace")
    first = run(db, add_message_note, staff, ada.uid, "Wants the 7am class.", SOURCE)
    again = run(db, add_message_note, staff, ada.uid, "Wants the 7am class (edited).", SOURCE)
    assert not again.added and again.note == first.note
    other = run(db, add_message_note, staff, grace.uid, "Her friend too.", SOURCE)
    assert other.added and other.note.id != first.note.id
    assert note_count(db) == 2
    assert len(history_actions(db, staff, ada.uid)) == 2  # created, one note added


def test_two_submissions_racing_note_the_message_once(
    db: Database, staff: Actor, pool: ThreadPoolExecutor
) -> None:
    ada = customer(db, staff)
    first, release = held_open(
        pool, db, lambda uow: add_message_note(uow, staff, ada.uid, "Once.", SOURCE)
    )
    second = pool.submit(run, db, add_message_note, staff, ada.uid, "Once.", SOURCE)
    wait_until_blocked(db)  # on PostgreSQL the second waits for the customer's lock
    release.set()
    assert first.result(timeout=20).added
    assert not second.result(timeout=20).added
    assert note_count(db) == 1


def test_a_source_not_shaped_like_slacks_is_refused_or_left_out(db: Database, staff: Actor) -> None:
    ada = customer(db, staff)
    with pytest.raises(ValidationFailed) as refused:
        run(db, add_message_note, staff, ada.uid, "x", MessageSource("#general", "yesterday"))
    assert set(refused.value.errors) == {"source"}
    forged = MessageSource("C0FRONT", "1.2", "<@U1>", "javascript:alert(1)")
    saved = run(db, add_message_note, staff, ada.uid, "x", forged)
    assert (saved.note.source_author, saved.note.source_permalink) == ("", "")
    assert note_count(db) == 1


def test_a_message_note_for_another_workspaces_customer_is_not_found(
    db: Database, staff: Actor, other_tenant: Actor
) -> None:
    ada = customer(db, staff)
    with pytest.raises(NotFound):
        run(db, add_message_note, other_tenant, ada.uid, "x", SOURCE)
    assert note_count(db) == 0
