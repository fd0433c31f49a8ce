"""Possible duplicates (admins): pairs ranked by evidence, each with Compare & merge and Not a
duplicate; the Home tab's section opens the list."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from bot.views.blocks import (
    Block,
    actions,
    button,
    clip,
    context,
    divider,
    escape,
    header,
    modal,
    section,
)
from bot.views.notice import Notice, notice_block
from bot.views.payload import read_metadata
from core.formatting import format_phone
from core.services.customers import CustomerRecord
from core.services.duplicates import DuplicatePair, DuplicatesReport

CALLBACK_ID = "duplicates.view"
OPEN_ACTION = "duplicates.open"
COMPARE_ACTION = "duplicates.compare"
DISMISS_ACTION = "duplicates.dismiss"
SECTION_BLOCK = "duplicates_section"
# Three blocks a pair (who, buttons, divider) and a few around them: within Slack's 100.
MAX_PAIRS = 25


class DuplicatesMeta(BaseModel):
    """private_metadata of the list: nothing to remember but that it is ours."""

    kind: str = Field(default="duplicates", max_length=16)

    @classmethod
    def parse(cls, raw: object) -> DuplicatesMeta | None:
        """None when the metadata is missing or not ours."""
        return read_metadata(cls, raw)


def pair_value(pair: DuplicatePair) -> str:
    """A pair's buttons' value: the UID kept by a merge, then the other one."""
    return f"{pair.keep.uid}|{pair.other.uid}"


def read_pair(value: str) -> tuple[str, str] | None:
    """The (keep, other) UIDs of a pair's button value, or None when it is not one."""
    keep, bar, other = value.partition("|")
    if not bar or not keep.isalnum() or not other.isalnum() or len(keep) > 16 or len(other) > 16:
        return None
    return keep, other


def _who(customer: CustomerRecord) -> str:
    archived = " · _archived_" if customer.status.value == "archived" else ""
    return (
        f"*{escape(clip(customer.full_name, 200))}* · {escape(clip(customer.email, 320))} · "
        f"{escape(format_phone(customer.mobile))} · UID {customer.uid}{archived}"
    )


def _pair_blocks(pair: DuplicatePair) -> list[Block]:
    why = ", ".join(item.value for item in pair.evidence)
    value = pair_value(pair)
    return [
        section(f"{_who(pair.keep)}\n{_who(pair.other)}\n_{escape(why)}_"),
        actions(
            [
                button("Compare & merge", COMPARE_ACTION, value=value, style="primary"),
                button("Not a duplicate", DISMISS_ACTION, value=value),
            ],
            block_id=f"pair_{pair.keep.uid}_{pair.other.uid}",
        ),
        divider(),
    ]


def _summary(report: DuplicatesReport) -> str:
    if not report.total:
        return "No possible duplicates: no two customers share a mobile, a mailbox, or a name and email name."
    shown = len(report.pairs[:MAX_PAIRS])
    noun = "pair" if report.total == 1 else "pairs"
    scope = (
        f"Showing the top {shown} of {report.total:,} {noun}"
        if shown < report.total
        else (f"{report.total:,} {noun}")
    )
    return (
        f"{scope}, strongest evidence first. *Compare & merge* shows what would move; "
        "*Not a duplicate* keeps a pair off this list for good."
    )


def duplicates_modal(report: DuplicatesReport, notice: Notice | None = None) -> dict[str, Any]:
    """The list of possible duplicates."""
    blocks: list[Block] = [notice_block(notice)] if notice is not None else []
    blocks.append(section(_summary(report)))
    for pair in report.pairs[:MAX_PAIRS]:
        blocks.extend(_pair_blocks(pair))
    return modal(
        "Possible duplicates",
        blocks,
        callback_id=CALLBACK_ID,
        private_metadata=DuplicatesMeta().model_dump_json(),
    )


def loading_modal() -> dict[str, Any]:
    """Shown at once, while the list is worked out (the trigger expires in three seconds)."""
    return modal(
        "Possible duplicates",
        [section("Looking for customers who may be one person…")],
        callback_id=CALLBACK_ID,
        private_metadata=DuplicatesMeta().model_dump_json(),
    )


def duplicates_section(*, admin: bool) -> list[Block]:
    """The Home tab's section (admins only): what the list is, and the button opening it."""
    if not admin:
        return []
    return [
        divider(),
        header("Possible duplicates"),
        context(
            "Customers who may be one person (same mobile, same mailbox, or a similar name "
            "with the same email name), ranked by evidence."
        ),
        actions([button("Review duplicates", OPEN_ACTION, value="open")], block_id=SECTION_BLOCK),
    ]
