"""Input blocks, and the elements they hold: text boxes, selects, date and time pickers, numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Any

from bot.views.blocks import Block, plain

MAX_OPTIONS = 100


@dataclass(frozen=True)
class TextField:
    """A text box: the block and action it is read back by, and what it says around it."""

    block_id: str
    label: str
    action_id: str
    placeholder: str = ""
    hint: str = ""
    optional: bool = False
    max_length: int | None = None
    multiline: bool = False
    # Sends block_actions as the person types (an as-you-type search).
    dispatch: bool = False


def input_block(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    hint: str = "",
    optional: bool = False,
    dispatch: bool = False,
) -> Block:
    """An input block around any element; `dispatch` sends block_actions when it changes."""
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    if dispatch:
        block["dispatch_action"] = True
    return block


def text_input(field: TextField, initial: str = "") -> Block:
    """An input block holding `field`'s text box, with `initial` already typed in."""
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": field.action_id}
    if initial:
        # Slack refuses a view whose initial value is longer than the field allows; only a
        # forged submission can bring such a value back to be redrawn.
        element["initial_value"] = initial[: field.max_length]
    if field.placeholder:
        element["placeholder"] = plain(field.placeholder, 150)
    if field.max_length is not None:
        element["max_length"] = field.max_length
    if field.multiline:
        element["multiline"] = True
    if field.dispatch:
        element["dispatch_action_config"] = {"trigger_actions_on": ["on_character_entered"]}
    return input_block(
        field.block_id,
        field.label,
        element,
        hint=field.hint,
        optional=field.optional,
        dispatch=field.dispatch,
    )


def _element(kind: str, action_id: str, placeholder: str, **settings: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "action_id": action_id,
        "placeholder": plain(placeholder, 150),
        **settings,
    }


def static_select(
    action_id: str,
    options: list[dict[str, Any]],
    *,
    placeholder: str,
    chosen: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A static select; `chosen` stays selected when it is still among the options."""
    element = _element("static_select", action_id, placeholder, options=options[:MAX_OPTIONS])
    values = {o["value"]: o for o in element["options"]}
    if chosen is not None and chosen.get("value") in values:
        element["initial_option"] = values[chosen["value"]]
    return element


def radio_buttons(
    action_id: str, options: list[dict[str, Any]], *, chosen: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Radio buttons; `chosen` stays selected when it is one of the options."""
    element: dict[str, Any] = {"type": "radio_buttons", "action_id": action_id, "options": options}
    values = {o["value"]: o for o in options}
    if chosen is not None and chosen.get("value") in values:
        element["initial_option"] = values[chosen["value"]]
    return element


def external_select(
    action_id: str,
    *,
    placeholder: str,
    min_query_length: int,
    chosen: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A select whose options the app suggests (block_suggestion) once that much is typed."""
    element = _element("external_select", action_id, placeholder, min_query_length=min_query_length)
    if chosen is not None:
        element["initial_option"] = chosen
    return element


def date_picker(action_id: str, *, initial: date | None = None, placeholder: str) -> dict[str, Any]:
    """A date picker, optionally with a date already chosen."""
    element = _element("datepicker", action_id, placeholder)
    if initial is not None:
        element["initial_date"] = initial.isoformat()
    return element


def time_picker(
    action_id: str, *, timezone: str, initial: time | None = None, placeholder: str
) -> dict[str, Any]:
    """A time picker in the business time zone."""
    element = _element("timepicker", action_id, placeholder, timezone=timezone)
    if initial is not None:
        element["initial_time"] = initial.strftime("%H:%M")
    return element


def number_input(
    action_id: str, *, initial: str = "", placeholder: str, low: int, high: int
) -> dict[str, Any]:
    """A whole-number input between `low` and `high`."""
    element: dict[str, Any] = {
        "type": "number_input",
        "action_id": action_id,
        "is_decimal_allowed": False,
        "min_value": str(low),
        "max_value": str(high),
        "placeholder": plain(placeholder, 150),
    }
    if initial:
        element["initial_value"] = initial
    return element
