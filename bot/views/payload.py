"""Reading back what Slack sends with an interaction: private_metadata and the form's state.

Slack returns what the app put in a view, but a stale or forged payload can carry anything:
metadata that is not a string, not JSON, JSON nested too deep to read, or values the model
refuses; state that is not an object. Readers here answer None or {} instead of failing."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def load_json(raw: object) -> Any:
    """The JSON value in `raw`; None when `raw` is not a string of readable JSON."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def validated(model: type[M], data: object) -> M | None:
    """`data` (a JSON object) as a `model`; None when it is not one."""
    if not isinstance(data, dict):
        return None
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


def read_metadata(model: type[M], raw: object) -> M | None:
    """`raw` as a `model`; None when it is missing, unreadable or not one."""
    return validated(model, load_json(raw))


def state_values(view: object) -> dict[str, Any]:
    """`view.state.values` (block_id → action_id → state); {} when there is none."""
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values") if isinstance(state, dict) else None
    return values if isinstance(values, dict) else {}


def _element_state(state_values: dict[str, Any], block_id: str, action_id: str) -> dict[str, Any]:
    block = state_values.get(block_id)
    element = block.get(action_id) if isinstance(block, dict) else None
    return element if isinstance(element, dict) else {}


def typed_text(state_values: dict[str, Any], block_id: str, action_id: str) -> str:
    """The text in an input of a view_submission's state ('' when there is none)."""
    value = _element_state(state_values, block_id, action_id).get("value")
    return value if isinstance(value, str) else ""


def chosen_in(state_values: dict[str, Any], block_id: str, action_id: str) -> str:
    """The value of the option chosen in a select of a view_submission's state ('' when none)."""
    return chosen_value(_element_state(state_values, block_id, action_id))


def answered_in(state_values: dict[str, Any], block_id: str, action_id: str) -> str:
    """What an input of any kind holds: the text typed, the option chosen or the date picked."""
    element = _element_state(state_values, block_id, action_id)
    if "selected_option" in element:
        return chosen_value(element)
    value = element.get("selected_date", element.get("value"))
    return value if isinstance(value, str) else ""


# The largest number a database id (BIGINT) holds: a larger one in metadata names no row.
DB_INT_MAX = 2**63 - 1


def as_row_id(text: object) -> int | None:
    """'12' → 12; anything else (not ASCII digits, longer than a database id) → None."""
    if not isinstance(text, str) or not (text.isascii() and text.isdigit() and len(text) <= 19):
        return None
    return int(text) if int(text) <= DB_INT_MAX else None


def chosen_value(action: dict[str, Any]) -> str:
    """The value of the option chosen in a menu, select or radio buttons ('' when none)."""
    option = action.get("selected_option")
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) else ""


def first_action(body: dict[str, Any]) -> dict[str, Any]:
    """The (only) action of a block_actions payload, or {}."""
    acted = body.get("actions") or [{}]
    first = acted[0]
    return first if isinstance(first, dict) else {}
