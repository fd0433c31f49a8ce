"""The Notes tab (cards with View, Edit, Delete), the note form and the full note."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from bot.views.blocks import (
    SECTION_TEXT_MAX,
    Block,
    actions,
    button,
    clip,
    context,
    escape,
    form_modal,
    modal,
    plain,
    section,
    warning,
)
from bot.views.inputs import TextField, text_input
from bot.views.message_notes import source_line
from bot.views.origin import DetailsState
from bot.views.payload import DB_INT_MAX, read_metadata, typed_text
from bot.views.tabs import (
    ReturnTo,
    tab_listing,
    who,
)
from core.formatting import format_when
from core.models import NOTE_MAX
from core.services.notes import NoteRow
from core.services.paging import Page

ADD_ACTION = "note.add"
VIEW_ACTION = "note.view"
EDIT_ACTION = "note.edit"
DELETE_ACTION = "note.delete"
FORM_CALLBACK = "note_form.submit"
VIEW_CALLBACK = "note.details"
# The block_id is the service's field name, so its errors land under the box as they are.
CONTENT_BLOCK = "content"
CONTENT_ACTION = "note_form.content"
CARD_PREVIEW = 600
CONTENT_FIELD = TextField(
    CONTENT_BLOCK,
    "Note",
    CONTENT_ACTION,
    placeholder="Special requirements, a phone call, anything the team should know",
    hint=f"Up to {NOTE_MAX:,} characters. Only staff see notes, never the customer.",
    max_length=NOTE_MAX,
    multiline=True,
)


class NoteFormMeta(ReturnTo):
    """Add Note (no `note_id`) or Edit of one note, and the details view to refresh afterwards."""

    note_id: int | None = Field(default=None, ge=1, le=DB_INT_MAX)
    # The edited note's version: saving over someone else's newer edit is refused.
    updated_at: datetime | None = None

    @classmethod
    def parse(cls, raw: object) -> NoteFormMeta | None:
        """None when the metadata is missing or not ours."""
        return read_metadata(cls, raw)


def escaped_chunks(text: str, limit: int = SECTION_TEXT_MAX) -> list[str]:
    """`text` escaped for mrkdwn and cut into pieces of at most `limit` characters, none lost."""
    chunks: list[str] = []
    current = ""
    for char in text:
        piece = escape(char)
        if len(current) + len(piece) > limit:
            chunks.append(current)
            current = ""
        current += piece
    if current or not chunks:
        chunks.append(current)
    return chunks


def _byline(note: NoteRow, timezone: str) -> str:
    line = f"{format_when(note.created_at, timezone)} · by {who(note.author)}"
    if note.source_author or note.source_permalink:
        line += " · " + source_line(
            note.source_author, note.source_permalink, lead="from a message"
        )
    if note.updated_at != note.created_at:
        line += f" · edited {format_when(note.updated_at, timezone)} by {who(note.updated_by)}"
    return line


def _confirm_delete(note: NoteRow) -> dict[str, Any]:
    return {
        "title": plain("Delete this note?", 100),
        "text": plain(f"Note #{note.id} will be deleted for good; this cannot be undone.", 300),
        "confirm": plain("Delete", 30),
        "deny": plain("Keep it", 30),
        "style": "danger",
    }


def _card(note: NoteRow, timezone: str) -> list[Block]:
    head = f"*Note #{note.id}* · {_byline(note, timezone)}\n"
    body = escape(clip(note.content, CARD_PREVIEW))
    return [
        section(clip(head + body, SECTION_TEXT_MAX), block_id=f"note_{note.id}"),
        actions(
            [
                button("View", VIEW_ACTION, value=str(note.id)),
                button("Edit", EDIT_ACTION, value=str(note.id)),
                button(
                    "Delete",
                    DELETE_ACTION,
                    value=str(note.id),
                    style="danger",
                    confirm=_confirm_delete(note),
                ),
            ],
            block_id=f"note_actions_{note.id}",
        ),
    ]


def notes_tab(state: DetailsState, page: Page[NoteRow], *, timezone: str) -> list[Block]:
    """Internal notes, newest first, as cards; Add Note beside the count."""
    add = button("Add Note", ADD_ACTION, value="add")
    return tab_listing(state, page, lambda note: _card(note, timezone), add)


def note_form(meta: NoteFormMeta, content: str = "", *, problem: str = "") -> dict[str, Any]:
    """Add Note or Edit Note: one multi-line box of at most NOTE_MAX characters."""
    blocks = [*warning(problem), text_input(CONTENT_FIELD, content)]
    title = "Add Note" if meta.note_id is None else f"Edit Note #{meta.note_id}"
    return form_modal(title, blocks, meta, callback_id=FORM_CALLBACK, submit="Save")


def submitted_content(state_values: dict[str, Any]) -> str:
    """What was typed into the note box ('' when nothing)."""
    return typed_text(state_values, CONTENT_BLOCK, CONTENT_ACTION)


def note_view(note: NoteRow, *, timezone: str) -> dict[str, Any]:
    """The whole note, however long, with who wrote and last changed it."""
    blocks: list[Block] = [context(f"*Note #{note.id}* · {_byline(note, timezone)}")]
    blocks.extend(section(chunk) for chunk in escaped_chunks(note.content))
    return modal(f"Note #{note.id}", blocks, callback_id=VIEW_CALLBACK)
