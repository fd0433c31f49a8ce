"""The commerce modals: a form over the details, its confirmation, and a slow change's result."""

from __future__ import annotations

from typing import Any

from bot.views.blocks import Block, clip, escape, form_modal, modal, section, warning
from bot.views.commerce.form_state import CommerceMeta

CONFIRM_CALLBACK = "commerce_confirm.submit"
WORKING_CALLBACK = "commerce.working"
RESULT_CALLBACK = "commerce.result"


def problem_block(problem: str) -> list[Block]:
    """A warning at the top of a form (none when there is no problem)."""
    return warning(problem, block_id="problem")


def nothing_to_offer(title: str, what: str) -> dict[str, Any]:
    """In place of a form whose catalog is empty: what is missing and who adds it."""
    return modal(
        title,
        [
            section(
                f"There are no {what} yet, or all of them are archived. An admin adds them with "
                "`customer-bot catalog import FILE` (see the README)."
            )
        ],
        callback_id=RESULT_CALLBACK,
    )


def confirmation(
    meta: CommerceMeta, *, title: str, question: str, consequences: list[str], submit: str
) -> dict[str, Any]:
    """Asks before a change that is hard to take back; the close button keeps things as they are."""
    blocks: list[Block] = [section(question, block_id="question")]
    blocks.extend(section(line) for line in consequences if line)
    return form_modal(
        title, blocks, meta, callback_id=CONFIRM_CALLBACK, submit=submit, close="Keep it"
    )


def working_view(name: str) -> dict[str, Any]:
    """Shown in place of a form whose change takes longer than Slack waits for an answer."""
    return modal(
        "Working…",
        [
            section(
                ":hourglass_flowing_sand: Still working on it — Stripe or the database is slow "
                "to answer. The result shows here in a moment; "
                f"{escape(clip(name, 200)) or 'the customer'}'s details update by themselves."
            )
        ],
        callback_id=WORKING_CALLBACK,
    )


def result_view(text: str, *, ok: bool) -> dict[str, Any]:
    """The outcome of a slow change, in the modal that waited for it."""
    icon = ":white_check_mark:" if ok else ":warning:"
    return modal(
        "Done" if ok else "Not done",
        [section(f"{icon} {escape(text)}", block_id="result")],
        callback_id=RESULT_CALLBACK,
    )
