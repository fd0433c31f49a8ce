"""The channel alerts form: which happenings post into one channel."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from bot.views.blocks import escape
from core.services.alerts import KINDS

CALLBACK_ID = "alerts.submit"
KINDS_BLOCK = "kinds"
KINDS_ACTION = "alerts.kinds"


def _option(kind: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": KINDS[kind][0]}, "value": kind}


def alerts_form(channel_id: str, chosen: Collection[str], *, paused: str = "") -> dict[str, Any]:
    """The modal for `channel_id`'s alerts; `paused` says why they are held back, if they are."""
    intro = (
        f"Choose what <#{channel_id}> hears about. Alerts go only to channels whose members "
        "are all staff. Choose nothing to turn them off."
    )
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": intro}},
    ]
    if paused:
        note = f":double_vertical_bar: Paused: {escape(paused)}. Saving turns them on again."
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
    checkboxes: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": KINDS_ACTION,
        "options": [_option(kind) for kind in KINDS],
    }
    initial = [_option(kind) for kind in KINDS if kind in set(chosen)]
    if initial:
        checkboxes["initial_options"] = initial
    blocks.append(
        {
            "type": "input",
            "block_id": KINDS_BLOCK,
            "optional": True,
            "label": {"type": "plain_text", "text": "Post alerts about"},
            "element": checkboxes,
        }
    )
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": channel_id,
        "title": {"type": "plain_text", "text": "Channel alerts"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def chosen_kinds(state: dict[str, Any]) -> list[str]:
    """The kinds ticked in a submitted form's state values (unknown values dropped)."""
    field = state.get(KINDS_BLOCK, {}).get(KINDS_ACTION, {})
    selected = field.get("selected_options") if isinstance(field, dict) else None
    values = [o.get("value") for o in selected or [] if isinstance(o, dict)]
    return [kind for kind in KINDS if kind in values]


def alert_text(text: str) -> str:
    """One alert as posted."""
    return f":bell: {escape(text)}"
