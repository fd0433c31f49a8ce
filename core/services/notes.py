"""Internal notes about a customer (the Notes tab)."""

from __future__ import annotations

import re
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
# The shapes Slack gives a conversation id, a user id, a message ts and a permalink; anything
# else in a note's source is dropped rather than stored and shown as a link.
_CHANNEL = re.compile(r"[CDG][A-Z0-9]{1,31}")
_USER = re.compile(r"[UW][A-Z0-9]{1,31}")
_TS = re.compile(r"\d{1,12}\.\d{1,8}")
_PERMALINK = re.compile(r"https://[A-Za-z0-9.-]{1,200}/archives/[A-Za-z0-9/?=&.]{1,290}")


@dataclass(frozen=True)
class MessageSource:
    """The Slack message a note is taken from: its conversation, ts, author and permalink."""

    channel: str
    ts: str
    author: str = ""
    permalink: str = ""

    @property
    def key(self) -> str:
        """What names the message within the workspace."""
        return f"{self.channel}/{self.ts}"


@dataclass(frozen=True)
class MessageNote:
    """A note taken from a message; `added` is False when that message was already noted."""

    note: NoteRow
    customer_name: str
    added: bool


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
    # Set for a note taken from a Slack message: who wrote the message, and a link to it.
    source_author: str = ""
    source_permalink: str = ""


def _row(note: Note, customer_uid: str) -> NoteRow:
    return NoteRow(
        id=note.id,
        customer_uid=customer_uid,
        author=note.author,
        content=note.content,
        created_at=note.created_at,
        updated_at=note.updated_at,
        updated_by=note.updated_by,
        source_author=note.source_author or "",
        source_permalink=note.source_permalink or "",
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


def _insert(
    uow: UnitOfWork, actor: Actor, customer: Customer, text: str, source: MessageSource | None
) -> Note:
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
    changes: dict[str, list[str | None]] = {"content": [None, history.clip(text)]}
    detail = ""
    if source is not None:
        note.source_message = source.key
        note.source_author = source.author or None
        note.source_permalink = source.permalink or None
        if source.author:
            changes["message_by"] = [None, source.author]
        if source.permalink:
            changes["message_link"] = [None, source.permalink]
        detail = " from a message"
    uow.session.add(note)
    uow.session.flush()
    history.record(
        uow, actor.user_id, customer, NOTE_ADDED, changes=changes, detail=f"note #{note.id}{detail}"
    )
    return note


def add_note(uow: UnitOfWork, actor: Actor, uid: str, content: str) -> NoteRow:
    """Add a note by the acting staff member to customer `uid`."""
    customer = load_for_change(uow, actor, uid)
    return _row(_insert(uow, actor, customer, _content(content), None), customer.uid)


def _checked(source: MessageSource) -> MessageSource:
    """`source` with what is not shaped as Slack sends it left out; the message must be named."""
    if not (_CHANNEL.fullmatch(source.channel) and _TS.fullmatch(source.ts)):
        raise ValidationFailed({"source": "This form no longer names a Slack message."})
    author = source.author if _USER.fullmatch(source.author) else ""
    link = source.permalink if _PERMALINK.fullmatch(source.permalink) else ""
    return MessageSource(source.channel, source.ts, author, link)


def add_message_note(
    uow: UnitOfWork, actor: Actor, uid: str, content: str, source: MessageSource
) -> MessageNote:
    """Add a note taken from a Slack message to customer `uid`, once: the same message noted
    again for the same customer (a retried shortcut or submission) returns the note there."""
    source = _checked(source)
    # The customer's row lock makes two submissions of one message take turns, so the second
    # sees the first one's note (a unique index could not let a merge bring two together).
    customer = load_for_change(uow, actor, uid)
    text = _content(content)
    existing = uow.session.scalars(
        select(Note)
        .where(Note.customer_id == customer.id, Note.source_message == source.key)
        .order_by(Note.id)
    ).first()
    if existing is not None:
        return MessageNote(_row(existing, customer.uid), customer.full_name, added=False)
    note = _insert(uow, actor, customer, text, source)
    return MessageNote(_row(note, customer.uid), customer.full_name, added=True)


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
