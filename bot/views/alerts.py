"""The channel alerts form: which happenings post into one channel."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from bot.views.blocks import actions, button, context, divider, escape, header, section
from core.services.alerts import KINDS, ChannelAlerts

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


EDIT_ACTION = "alerts.edit"
REMOVE_ACTION = "alerts.remove"


def _line(channel: ChannelAlerts) -> str:
    chosen = ", ".join(KINDS[kind][0] for kind in channel.kinds)
    state = (
        f"\n:double_vertical_bar: Paused: {escape(channel.pause_reason)}" if channel.paused else ""
    )
    return f"<#{channel.channel_id}>: {chosen}{state}"


def alerts_section(channels: list[ChannelAlerts] | None) -> list[dict[str, Any]]:
    """Home's *Channel alerts* (admins; None for staff): each channel's, with Edit and Remove."""
    if channels is None:
        return []
    blocks: list[dict[str, Any]] = [divider(), header("Channel alerts")]
    if not channels:
        blocks.append(
            context(
                "No channel gets alerts yet: `/customers alerts #channel` chooses what a "
                "staff-only channel hears about."
            )
        )
        return blocks
    for channel in channels:
        blocks.append(section(_line(channel)))
        remove = {
            "title": {"type": "plain_text", "text": "Turn off alerts?"},
            "text": {"type": "plain_text", "text": "This channel will get no more alerts."},
            "confirm": {"type": "plain_text", "text": "Turn off"},
            "deny": {"type": "plain_text", "text": "Keep them"},
        }
        blocks.append(
            actions(
                [
                    button("Edit", EDIT_ACTION, value=channel.channel_id),
                    button(
                        "Remove",
                        REMOVE_ACTION,
                        value=channel.channel_id,
                        style="danger",
                        confirm=remove,
                    ),
                ],
                block_id=f"alerts.{channel.channel_id}",
            )
        )
    return blocks
