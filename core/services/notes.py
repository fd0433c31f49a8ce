"""Internal notes about a customer (the Notes tab)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select

from core.actor import Actor
from core.db import UnitOfWork
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.models import NOTE_MAX, Customer, Note
from core.services import history
from core.services.customers import find_customer, load_for_change, lock_owner
from core.services.paging import Page
from core.services.tabs import fetch_customer_page
from core.text import clean_multiline

NOTE_ADDED = "note added"
NOTE_EDITED = "note edited"
NOTE_DELETED = "note deleted"


@dataclass(frozen=True)
class NoteRow:
    """One note; `author` and `updated_by` are Slack user ids."""

    id: int
    customer_uid: str
    author: str
    content: str
    created_at: datetime
    updated_at: datetime
    updated_by: str


def _row(note: Note, customer_uid: str) -> NoteRow:
    return NoteRow(
        id=note.id,
        customer_uid=customer_uid,
        author=note.author,
        content=note.content,
        created_at=note.created_at,
        updated_at=note.updated_at,
        updated_by=note.updated_by,
    )


def _content(raw: str) -> str:
    content = clean_multiline(raw)
    if not content:
        raise ValidationFailed({"content": "Write something in the note."})
    if len(content) > NOTE_MAX:
        raise ValidationFailed(
            {
                "content": f"A note can be at most {NOTE_MAX:,} characters "
                f"(this one has {len(content):,}); shorten it or split it into two notes."
            }
        )
    return content


def _query(actor: Actor, note_id: int, uid: str | None) -> Select[Note, str]:
    query = (
        select(Note, Customer.uid)
        .join(Customer, Customer.id == Note.customer_id)
        .where(Note.id == note_id, Note.team_id == actor.team_id)
    )
    if uid is not None:
        query = query.where(Customer.uid == uid)
    return query.execution_options(populate_existing=True)


def _find(uow: UnitOfWork, actor: Actor, note_id: int, uid: str | None) -> tuple[Note, str]:
    found = uow.session.execute(_query(actor, note_id, uid)).first()
    if found is None:
        raise NotFound(f"Note #{note_id} no longer exists here; it may have been deleted.")
    return found


def _for_change(
    uow: UnitOfWork, actor: Actor, note_id: int, uid: str | None, verb: str
) -> tuple[Note, Customer]:
    note, customer = lock_owner(uow, lambda: _find(uow, actor, note_id, uid)[0])
    if not (actor.is_admin or note.author == actor.user_id):
        raise Forbidden(f"Only the note's author or an admin can {verb} it.")
    return note, customer


def add_note(uow: UnitOfWork, actor: Actor, uid: str, content: str) -> NoteRow:
    """Add a note by the acting staff member to customer `uid`."""
    customer = load_for_change(uow, actor, uid)
    text = _content(content)
    now = uow.now()
    note = Note(
        team_id=actor.team_id,
        customer_id=customer.id,
        author=actor.user_id,
        content=text,
        created_at=now,
        updated_at=now,
        updated_by=actor.user_id,
    )
    uow.session.add(note)
    uow.session.flush()
    history.record(
        uow,
        actor.user_id,
        customer,
        NOTE_ADDED,
        changes={"content": [None, history.clip(text)]},
        detail=f"note #{note.id}",
    )
    return _row(note, customer.uid)


def get_note(uow: UnitOfWork, actor: Actor, note_id: int, *, uid: str | None = None) -> NoteRow:
    """One note of the actor's workspace (of customer `uid` when given)."""
    note, customer_uid = _find(uow, actor, note_id, uid)
    return _row(note, customer_uid)


def edit_note(
    uow: UnitOfWork,
    actor: Actor,
    note_id: int,
    content: str,
    *,
    uid: str | None = None,
    expected_updated_at: datetime | None = None,
) -> NoteRow:
    """Replace a note's content; only its author or an admin, and not over someone's newer edit."""
    note, customer = _for_change(uow, actor, note_id, uid, "edit")
    if expected_updated_at is not None and note.updated_at != expected_updated_at:
        raise Conflict(
            "Someone else changed this note meanwhile; reopen it to see their version.",
            changed_by=note.updated_by,
            changed_at=note.updated_at,
        )
    text = _content(content)
    if text == note.content:
        return _row(note, customer.uid)
    before = note.content
    note.content = text
    note.updated_at = uow.now()
    note.updated_by = actor.user_id
    history.record(
        uow,
        actor.user_id,
        customer,
        NOTE_EDITED,
        changes={"content": [history.clip(before), history.clip(text)]},
        detail=f"note #{note.id}",
    )
    uow.session.flush()
    return _row(note, customer.uid)


def delete_note(uow: UnitOfWork, actor: Actor, note_id: int, *, uid: str | None = None) -> NoteRow:
    """Delete a note for good (only its author or an admin); returns what was deleted."""
    note, customer = _for_change(uow, actor, note_id, uid, "delete")
    deleted = _row(note, customer.uid)
    uow.session.delete(note)
    history.record(
        uow,
        actor.user_id,
        customer,
        NOTE_DELETED,
        changes={"content": [history.clip(note.content), None]},
        detail=f"note #{note.id} by {note.author}",
    )
    uow.session.flush()
    return deleted


def list_notes(
    uow: UnitOfWork,
    actor: Actor,
    uid: str,
    *,
    query: str = "",
    page: int = 1,
    page_size: int = 5,
) -> Page[NoteRow]:
    """A customer's notes, newest first; `query` matches content (any case or accents) or ID."""
    customer = find_customer(uow, actor, uid)
    notes, total, page, page_size = fetch_customer_page(
        uow, Note, customer.id, Note.content, query, page=page, page_size=page_size
    )
    return Page([_row(note, customer.uid) for note in notes], total, page, page_size)
