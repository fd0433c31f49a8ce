"""A one-off line shown at the top of a view after an action (with an optional Undo)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.views.blocks import Block, button, escape, section

UNDO_ACTION = "hub.undo"


@dataclass(frozen=True)
class Notice:
    """What just happened (`ok`) or what went wrong (`problem`), already worded for staff."""

    text: str
    ok: bool = True
    undo_value: str | None = None
    # The customer details have their own Undo, which refreshes them instead of the hub.
    undo_action: str = UNDO_ACTION


def notice_block(notice: Notice) -> Block:
    """The notice as a section; an Undo button when the action can be reversed."""
    icon = ":white_check_mark:" if notice.ok else ":warning:"
    accessory = None
    if notice.undo_value is not None:
        accessory = button("Undo", notice.undo_action, value=notice.undo_value)
    return section(f"{icon} {escape(notice.text)}", accessory=accessory, block_id="notice")
