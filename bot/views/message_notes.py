"""Add to customer notes (a message shortcut): pick the customer, edit the message's text, save."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from bot.views.blocks import Block, context, escape, form_modal, modal, named_option, section
from bot.views.inputs import TextField, external_select, input_block, text_input
from bot.views.payload import chosen_in, read_metadata, typed_text
from core.models import NOTE_MAX, CustomerStatus
from core.services.customers import CustomerRecord
from core.services.notes import MessageNote

SHORTCUT = "shortcut.add_to_notes"
CALLBACK_ID = "message_note.submit"
DONE_CALLBACK = "message_note.done"
# The block_ids are the service's field names, so its errors land under the right input.
CUSTOMER_BLOCK = "uid"
CUSTOMER_ACTION = "message_note.customer"
CONTENT_BLOCK = "content"
CONTENT_ACTION = "message_note.content"
MAX_CANDIDATES = 20
CONTENT_FIELD = TextField(
    CONTENT_BLOCK,
    "Note",
    CONTENT_ACTION,
    hint=f"Up to {NOTE_MAX:,} characters. Only staff see notes, never the customer.",
    max_length=NOTE_MAX,
    multiline=True,
)


class MessageNoteMeta(BaseModel):
    """The message the note is taken from: conversation, ts, author and permalink."""

    channel: str = Field(max_length=32)
    ts: str = Field(max_length=32)
    author: str = Field(default="", max_length=32)
    permalink: str = Field(default="", max_length=500)

    @classmethod
    def parse(cls, raw: object) -> MessageNoteMeta | None:
        """None when the metadata is missing or not ours."""
        return read_metadata(cls, raw)


def customer_option(customer: CustomerRecord) -> dict[str, Any]:
    """One customer in the picker: name, then email (and whether archived); value the UID."""
    archived = " (archived)" if customer.status is CustomerStatus.ARCHIVED else ""
    return named_option(customer.full_name, f" · {customer.email}{archived}", customer.uid)


def customer_options(found: list[CustomerRecord]) -> list[dict[str, Any]]:
    """The picker's options for what was typed."""
    return [customer_option(c) for c in found[:MAX_CANDIDATES]]


def source_line(author: str, permalink: str, *, lead: str = "From a message") -> str:
    """'From a message by @author · link', as far as it is known."""
    line = lead
    if author:
        line += f" by <@{escape(author)}>"
    if permalink:
        line += f" · <{permalink}|link>"
    return line


def message_note_form(meta: MessageNoteMeta, content: str, *, cut_from: int = 0) -> dict[str, Any]:
    """The form: the customer picker, the note (the message's text) and where it came from.

    `cut_from`: the message's length when it was longer than a note and was cut."""
    picker = external_select(
        CUSTOMER_ACTION, placeholder="Type a name, email or mobile", min_query_length=1
    )
    blocks: list[Block] = [
        context(source_line(meta.author, meta.permalink)),
        input_block(CUSTOMER_BLOCK, "Customer", picker),
        text_input(CONTENT_FIELD, content),
    ]
    if cut_from:
        blocks.append(
            context(
                f":warning: The message has {cut_from:,} characters and a note holds "
                f"{NOTE_MAX:,}: only its start is above. The link keeps the whole message."
            )
        )
    return form_modal("Add to customer notes", blocks, meta, callback_id=CALLBACK_ID, submit="Save")


def submitted(state_values: dict[str, Any]) -> tuple[str, str]:
    """The UID of the customer chosen ('' when none) and the note's text."""
    uid = chosen_in(state_values, CUSTOMER_BLOCK, CUSTOMER_ACTION)
    return uid, typed_text(state_values, CONTENT_BLOCK, CONTENT_ACTION)


def saved_view(saved: MessageNote) -> dict[str, Any]:
    """What the form becomes once saved, or once it finds the message already noted."""
    name = escape(saved.customer_name)
    if saved.added:
        text = f":white_check_mark: Added note #{saved.note.id} to {name}'s notes."
    else:
        text = (
            f"This message is already in {name}'s notes (note #{saved.note.id}); "
            "nothing was added twice."
        )
    blocks = [
        section(text),
        context(f"See it on the Notes tab: `/customers {escape(saved.customer_name)}`."),
    ]
    return modal("Add to customer notes", blocks, callback_id=DONE_CALLBACK, close="Done")


def gone_view(text: str) -> dict[str, Any]:
    """The form replaced by why it can't be saved any more."""
    return modal("Add to customer notes", [section(escape(text))], callback_id=DONE_CALLBACK)
