"""Merge Customer: choose the customer to keep, see what moves, confirm (it cannot be undone)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.views.blocks import (
    Block,
    clip,
    context,
    escape,
    fields,
    form_modal,
    option,
    plain,
    section,
    warning,
)
from bot.views.inputs import TextField, external_select, text_input
from bot.views.payload import chosen_in, read_metadata, typed_text
from bot.views.tabs import ReturnTo
from core.formatting import counted, format_phone
from core.services.account import MERGE_REASON_MAX, MergePreview
from core.services.customers import CustomerRecord

CALLBACK_ID = "merge.submit"
# The block_id is the service's field name, so a refusal lands under the select.
TARGET_BLOCK = "target"
TARGET_ACTION = "merge.target"
# The block_id is the service's field name too, so a missing reason shows under the box.
REASON_BLOCK = "reason"
REASON_ACTION = "merge.reason"
MAX_CANDIDATES = 20
# What one moved row of each kind is called, and many.
MOVED_NOUNS = {
    "bookings": ("booking", "bookings"),
    "appointments": ("appointment", "appointments"),
    "passes": ("pass", "passes"),
    "videos": ("video", "videos"),
    "subscriptions": ("subscription", "subscriptions"),
    "questionnaires": ("questionnaire", "questionnaires"),
    "notes": ("note", "notes"),
    "history": ("history entry", "history entries"),
}
COUNT_LABELS = {
    "bookings": "Bookings",
    "appointments": "Appointments",
    "passes": "Passes",
    "videos": "Videos",
    "subscriptions": "Subscriptions",
    "questionnaires": "Questionnaires",
    "notes": "Notes",
    "history": "History entries",
}


class MergeMeta(ReturnTo):
    """The merge modal over a details view (`view_id`), or over the possible duplicates
    (`report_view_id`, no details view); the source is `details.uid`."""

    report_view_id: str = Field(default="", max_length=64)

    @classmethod
    def parse(cls, raw: object) -> MergeMeta | None:
        """None when the metadata is missing or not ours."""
        return read_metadata(cls, raw)


def candidate_option(customer: CustomerRecord) -> dict[str, Any]:
    """One customer in the select: name and email (clipped to the option limit), value the UID."""
    return option(f"{customer.full_name} · {customer.email}", customer.uid)


def candidate_options(candidates: list[CustomerRecord]) -> list[dict[str, Any]]:
    """The external select's options for what was typed."""
    return [candidate_option(c) for c in candidates[:MAX_CANDIDATES]]


def _who(customer: CustomerRecord) -> str:
    return (
        f"*{escape(clip(customer.full_name, 210))}* · {escape(clip(customer.email, 320))} · "
        f"{escape(format_phone(customer.mobile))} · UID {customer.uid}"
    )


def _target_block(preview: MergePreview | None) -> Block:
    select = external_select(
        TARGET_ACTION,
        placeholder="Type a name, email or mobile",
        min_query_length=1,
        chosen=candidate_option(preview.target) if preview is not None else None,
    )
    return {
        "type": "input",
        "block_id": TARGET_BLOCK,
        "label": plain("Customer to keep", 2000),
        "element": select,
        "dispatch_action": True,
    }


def _preview_blocks(preview: MergePreview, name: str) -> list[Block]:
    kept = escape(clip(preview.target.full_name, 210))
    counts = [
        (COUNT_LABELS.get(tab, tab.title()), f"{count:,}") for tab, count in preview.counts.items()
    ]
    return [
        section(f"*Keep:* {_who(preview.target)}", block_id="merge_keep"),
        fields(counts),
        section(
            f":warning: *This cannot be undone.* The records above move to {kept}; {name} "
            f"is archived and marked as merged into {kept}, and their portal login stops "
            "working.",
            block_id="merge_warning",
        ),
    ]


def merge_form(
    source: CustomerRecord,
    meta: MergeMeta,
    *,
    preview: MergePreview | None = None,
    problem: str = "",
) -> dict[str, Any]:
    """The merge modal; once a customer to keep is chosen, the counts that move and a warning."""
    name = escape(clip(source.full_name, 210))
    blocks: list[Block] = [
        section(
            f"Merge {_who(source)} into another customer. Everything of {name}'s moves to the "
            f"customer you keep, and {name} is archived."
        ),
        _target_block(preview),
    ]
    blocks.append(
        text_input(
            TextField(
                REASON_BLOCK,
                "Reason",
                REASON_ACTION,
                placeholder="e.g. same mobile, signed up twice",
                hint="Kept in both customers' account history.",
                max_length=MERGE_REASON_MAX,
            )
        )
    )
    blocks.extend(warning(problem, block_id="merge_problem"))
    if preview is not None:
        blocks.extend(_preview_blocks(preview, name))
    else:
        blocks.append(context("Choose the customer to keep to see what will move."))
    return form_modal("Merge Customer", blocks, meta, callback_id=CALLBACK_ID, submit="Merge")


def submitted_target(state_values: dict[str, Any]) -> str:
    """The UID of the customer chosen to keep ('' when none)."""
    return chosen_in(state_values, TARGET_BLOCK, TARGET_ACTION)


def submitted_reason(state_values: dict[str, Any]) -> str:
    """The reason typed for the merge ('' when none)."""
    return typed_text(state_values, REASON_BLOCK, REASON_ACTION)


def moved_text(counts: dict[str, int]) -> str:
    """'3 bookings, 1 note': what a merge moved, or that it moved nothing."""
    moved = [
        counted(count, *MOVED_NOUNS.get(kind, (kind, kind)))
        for kind, count in counts.items()
        if count
    ]
    return ", ".join(moved) if moved else "nothing (they had no history yet)"
