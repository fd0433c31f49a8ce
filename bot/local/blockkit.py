"""Block Kit as the Slack client sees it: interactive elements, their state, and Slack's limits."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

# Element type → (its key in view.state.values, the element key holding its initial value).
STATE_KEYS: dict[str, tuple[str, str]] = {
    "plain_text_input": ("value", "initial_value"),
    "email_text_input": ("value", "initial_value"),
    "url_text_input": ("value", "initial_value"),
    "number_input": ("value", "initial_value"),
    "static_select": ("selected_option", "initial_option"),
    "external_select": ("selected_option", "initial_option"),
    "radio_buttons": ("selected_option", "initial_option"),
    "multi_static_select": ("selected_options", "initial_options"),
    "multi_external_select": ("selected_options", "initial_options"),
    "checkboxes": ("selected_options", "initial_options"),
    "users_select": ("selected_user", "initial_user"),
    "multi_users_select": ("selected_users", "initial_users"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "channels_select": ("selected_channel", "initial_channel"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
    "datetimepicker": ("selected_date_time", "initial_date_time"),
    # Slack offers no initial file: the key is only ever missing.
    "file_input": ("files", "initial_files"),
}
TEXT_INPUTS = frozenset({"plain_text_input", "email_text_input", "url_text_input", "number_input"})
INTERACTIVE = frozenset({"button", "overflow", *STATE_KEYS})
_LIST_KEYS = frozenset(
    {"selected_options", "selected_users", "selected_conversations", "selected_channels", "files"}
)

MODAL_BLOCK_LIMIT = 100
MESSAGE_BLOCK_LIMIT = 50
VIEW_BYTES_LIMIT = 250_000

_LINK = re.compile(r"<[^|>]+\|([^>]+)>")


def plain(text: str) -> str:
    """Text as a reader sees it: link labels instead of `<url|label>`, no bold/strike marks."""
    return _LINK.sub(r"\1", text).replace("*", "").replace("~", "").strip()


def text_of(obj: object) -> str:
    """The `text` of a text object, or "" for anything else."""
    if isinstance(obj, Mapping):
        value = obj.get("text")
        return value if isinstance(value, str) else ""
    return ""


@dataclass(frozen=True)
class Element:
    """One interactive element of a surface, described the way a person would point at it."""

    kind: str
    label: str
    action_id: str
    block_id: str
    block_type: str
    # The text of the list row an accessory sits in; "" elsewhere.
    context: str = ""
    # An input whose block has dispatch_action: typing or choosing there sends block_actions.
    dispatch: bool = False
    element: JSON = field(default_factory=dict, compare=False, repr=False)

    @property
    def options(self) -> list[JSON]:
        """Every option the element offers, option groups flattened."""
        return flat_options(self.element)


def flat_options(menu: Mapping[str, Any]) -> list[JSON]:
    """The `options` of a menu (or an options answer), then those of its `option_groups`."""
    groups = menu.get("option_groups") or []
    nested = [option for group in groups for option in group.get("options", [])]
    return list(menu.get("options") or []) + nested


def elements(blocks: Iterable[Mapping[str, Any]]) -> list[Element]:
    """Every interactive element in the blocks, in reading order."""
    found: list[Element] = []
    for block in blocks:
        block_type = str(block.get("type", ""))
        block_id = str(block.get("block_id", ""))
        if block_type == "section":
            row = plain(text_of(block.get("text")))
            accessory = block.get("accessory")
            if isinstance(accessory, Mapping) and accessory.get("type") in INTERACTIVE:
                found.append(_element(accessory, block_id, block_type, row, row))
        elif block_type == "actions":
            for item in block.get("elements", []):
                if item.get("type") in INTERACTIVE:
                    found.append(_element(item, block_id, block_type, "", ""))
        elif block_type == "input":
            item = block.get("element")
            if isinstance(item, Mapping) and item.get("type") in INTERACTIVE:
                label = plain(text_of(block.get("label")))
                dispatch = bool(block.get("dispatch_action", False))
                found.append(_element(item, block_id, block_type, label, "", dispatch))
    return found


# A notice's controls (an Undo) come and go; a pager shows Previous, Next or both.
NOTICE_BLOCK = "notice"
PAGER_SIDES = (".page.prev", ".page.next")


def control_numbers(found: Sequence[Element], late: Collection[str] = ()) -> list[int]:
    """The number each element (in reading order) is shown under, from 1.

    So that a number means the same control from one page or redraw of a view to the next: a
    pager always takes two numbers, Previous then Next, whether or not both show; fields in
    `late` blocks (that a redraw added) come after the rest; a notice's controls come last."""
    numbers = [0] * len(found)
    count = 0
    pager: int | None = None
    for i, element in enumerate(found):
        if element.block_id == NOTICE_BLOCK or element.block_id in late:
            continue
        side = next(
            (s for s, end in enumerate(PAGER_SIDES) if element.action_id.endswith(end)), None
        )
        if side is None:
            count += 1
            numbers[i] = count
            continue
        if pager is None:
            pager, count = count + 1, count + 2
        numbers[i] = pager + side
    for i, element in enumerate(found):
        if element.block_id in late and element.block_id != NOTICE_BLOCK:
            count += 1
            numbers[i] = count
    for i, element in enumerate(found):
        if element.block_id == NOTICE_BLOCK:
            count += 1
            numbers[i] = count
    return numbers


def _element(
    item: Mapping[str, Any],
    block_id: str,
    block_type: str,
    fallback: str,
    context: str,
    dispatch: bool = False,
) -> Element:
    kind = str(item.get("type"))
    if kind == "button":
        label = plain(text_of(item.get("text")))
    else:
        label = fallback or plain(text_of(item.get("placeholder"))) or kind
    return Element(
        kind=kind,
        label=label,
        action_id=str(item.get("action_id", "")),
        block_id=block_id,
        block_type=block_type,
        context=context,
        dispatch=dispatch,
        element=dict(item),
    )


def initial_value(element: Element) -> JSON:
    """The state Slack reports for an element nobody has touched yet."""
    key, initial_key = STATE_KEYS[element.kind]
    default: object = [] if key in _LIST_KEYS else None
    return {"type": element.kind, key: element.element.get(initial_key, default)}


def state_values(
    blocks: Iterable[Mapping[str, Any]], typed: Mapping[str, Mapping[str, JSON]]
) -> JSON:
    """`view.state.values`: initial values overlaid with what the user has typed or chosen."""
    values: JSON = {}
    for element in elements(blocks):
        if element.kind not in STATE_KEYS:
            continue
        value = typed.get(element.block_id, {}).get(element.action_id) or initial_value(element)
        values.setdefault(element.block_id, {})[element.action_id] = value
    return values


class _Problems:
    """Collects Slack-style `[ERROR] … [json-pointer:…]` messages."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, pointer: str, message: str) -> None:
        self.messages.append(f"[ERROR] {message} [json-pointer:{pointer}]")

    def string(self, value: object, pointer: str, limit: int) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self.add(pointer, "must be a string")
        elif len(value) > limit:
            self.add(pointer, f"must be less than {limit + 1} characters")

    def text(
        self,
        obj: object,
        pointer: str,
        limit: int,
        *,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        if obj is None:
            if required:
                self.add(pointer, "missing required field")
            return
        if not isinstance(obj, Mapping) or not isinstance(obj.get("text"), str):
            self.add(pointer, "must be a text object with a text string")
            return
        kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if obj.get("type") not in kinds:
            self.add(f"{pointer}/type", f"must be one of {', '.join(kinds)}")
        if not obj["text"]:
            self.add(f"{pointer}/text", "must be more than 0 characters")
        self.string(obj["text"], f"{pointer}/text", limit)

    def items(self, value: object, pointer: str, low: int, high: int) -> list[Any]:
        if not isinstance(value, list):
            self.add(pointer, "must be an array")
            return []
        if len(value) < low:
            self.add(pointer, f"must provide at least {low} items")
        if len(value) > high:
            self.add(pointer, f"no more than {high} items allowed")
        return value


def view_problems(view: object, *, expected_type: str) -> list[str]:
    """What Slack would reject in a view, as `response_metadata.messages` lines."""
    p = _Problems()
    if not isinstance(view, Mapping):
        p.add("/view", "must be an object")
        return p.messages
    if view.get("type") != expected_type:
        p.add("/view/type", f"must be {expected_type}")
    if len(json.dumps(view)) > VIEW_BYTES_LIMIT:
        p.add("/view", "view is too large")
    if expected_type == "modal":
        p.text(view.get("title"), "/view/title", 24, plain_only=True)
        p.text(view.get("submit"), "/view/submit", 24, plain_only=True, required=False)
        p.text(view.get("close"), "/view/close", 24, plain_only=True, required=False)
    p.string(view.get("private_metadata"), "/view/private_metadata", 3000)
    p.string(view.get("callback_id"), "/view/callback_id", 255)
    p.string(view.get("external_id"), "/view/external_id", 255)
    blocks = p.items(view.get("blocks"), "/view/blocks", 0, MODAL_BLOCK_LIMIT)
    _check_blocks(p, blocks, "/view/blocks")
    has_input = any(isinstance(b, Mapping) and b.get("type") == "input" for b in blocks)
    if expected_type == "modal" and has_input and view.get("submit") is None:
        p.add("/view", "must provide a submit property when using input blocks")
    return p.messages


def message_problems(blocks: object) -> list[str]:
    """What Slack would reject in a message's blocks."""
    p = _Problems()
    _check_blocks(p, p.items(blocks, "/blocks", 0, MESSAGE_BLOCK_LIMIT), "/blocks")
    return p.messages


def _check_blocks(p: _Problems, blocks: list[Any], pointer: str) -> None:
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        here = f"{pointer}/{index}"
        if not isinstance(block, Mapping):
            p.add(here, "must be an object")
            continue
        block_id = block.get("block_id")
        p.string(block_id, f"{here}/block_id", 255)
        if isinstance(block_id, str):
            if block_id in seen:
                p.add(f"{here}/block_id", f"duplicate block_id {block_id!r}")
            seen.add(block_id)
        _check_block(p, block, here)


def _check_block(p: _Problems, block: Mapping[str, Any], here: str) -> None:
    kind = block.get("type")
    if kind == "section":
        if block.get("text") is None and block.get("fields") is None:
            p.add(here, "must provide text or fields")
        p.text(block.get("text"), f"{here}/text", 3000, required=False)
        if block.get("fields") is not None:
            for i, item in enumerate(p.items(block.get("fields"), f"{here}/fields", 1, 10)):
                p.text(item, f"{here}/fields/{i}", 2000)
        accessory = block.get("accessory")
        if isinstance(accessory, Mapping):
            _check_element(p, accessory, f"{here}/accessory")
    elif kind == "header":
        p.text(block.get("text"), f"{here}/text", 150, plain_only=True)
    elif kind == "actions":
        items = p.items(block.get("elements"), f"{here}/elements", 1, 25)
        action_ids: set[str] = set()
        for i, item in enumerate(items):
            _check_element(p, item, f"{here}/elements/{i}")
            action_id = item.get("action_id") if isinstance(item, Mapping) else None
            if isinstance(action_id, str):
                if action_id in action_ids:
                    p.add(f"{here}/elements/{i}/action_id", f"duplicate action_id {action_id!r}")
                action_ids.add(action_id)
    elif kind == "context":
        for i, item in enumerate(p.items(block.get("elements"), f"{here}/elements", 1, 10)):
            if isinstance(item, Mapping) and item.get("type") in ("plain_text", "mrkdwn"):
                p.text(item, f"{here}/elements/{i}", 3000)
    elif kind == "input":
        p.text(block.get("label"), f"{here}/label", 2000, plain_only=True)
        p.text(block.get("hint"), f"{here}/hint", 2000, plain_only=True, required=False)
        element = block.get("element")
        if isinstance(element, Mapping):
            _check_element(p, element, f"{here}/element")
        else:
            p.add(f"{here}/element", "missing required field")
    elif kind == "image":
        p.string(block.get("image_url"), f"{here}/image_url", 3000)
        p.string(block.get("alt_text"), f"{here}/alt_text", 2000)
        p.text(block.get("title"), f"{here}/title", 2000, plain_only=True, required=False)


def _check_element(p: _Problems, element: object, here: str) -> None:
    if not isinstance(element, Mapping):
        p.add(here, "must be an object")
        return
    kind = element.get("type")
    p.string(element.get("action_id"), f"{here}/action_id", 255)
    if isinstance(element.get("confirm"), Mapping):
        _check_confirm(p, element["confirm"], f"{here}/confirm")
    p.text(element.get("placeholder"), f"{here}/placeholder", 150, plain_only=True, required=False)
    if kind == "button":
        p.text(element.get("text"), f"{here}/text", 75, plain_only=True)
        p.string(element.get("value"), f"{here}/value", 2000)
        p.string(element.get("url"), f"{here}/url", 3000)
        if element.get("style") not in (None, "primary", "danger"):
            p.add(f"{here}/style", "must be primary or danger")
    elif kind == "overflow":
        _check_options(p, element.get("options"), f"{here}/options", 1, 5)
    elif kind in ("static_select", "multi_static_select"):
        if element.get("option_groups") is not None:
            groups = p.items(element.get("option_groups"), f"{here}/option_groups", 1, 100)
            for i, group in enumerate(groups):
                where = f"{here}/option_groups/{i}"
                _check_options(p, group.get("options"), f"{where}/options", 1, 100)
        else:
            _check_options(p, element.get("options"), f"{here}/options", 1, 100)
    elif kind in ("checkboxes", "radio_buttons"):
        _check_options(p, element.get("options"), f"{here}/options", 1, 10)
    elif kind in TEXT_INPUTS:
        p.string(element.get("initial_value"), f"{here}/initial_value", 3000)
    elif kind == "file_input":
        max_files = element.get("max_files", 10)
        if not isinstance(max_files, int) or not 1 <= max_files <= 10:
            p.add(f"{here}/max_files", "must be between 1 and 10")
        if element.get("filetypes") is not None:
            p.items(element.get("filetypes"), f"{here}/filetypes", 1, 100)


def _check_options(p: _Problems, options: object, here: str, low: int, high: int) -> None:
    for i, option in enumerate(p.items(options, here, low, high)):
        where = f"{here}/{i}"
        if not isinstance(option, Mapping):
            p.add(where, "must be an object")
            continue
        p.text(option.get("text"), f"{where}/text", 75)
        p.string(option.get("value"), f"{where}/value", 150)
        p.text(option.get("description"), f"{where}/description", 75, required=False)
        p.string(option.get("url"), f"{where}/url", 3000)


def _check_confirm(p: _Problems, confirm: Mapping[str, Any], here: str) -> None:
    p.text(confirm.get("title"), f"{here}/title", 100, plain_only=True)
    p.text(confirm.get("text"), f"{here}/text", 300)
    p.text(confirm.get("confirm"), f"{here}/confirm", 30, plain_only=True)
    p.text(confirm.get("deny"), f"{here}/deny", 30, plain_only=True)


# Work Objects (chat.unfurl's metadata.entities, entity.presentDetails' metadata).
ENTITY_TYPES = frozenset(
    {
        "slack#/entities/item",
        "slack#/entities/task",
        "slack#/entities/file",
        "slack#/entities/incident",
        "slack#/entities/content_item",
    }
)
ENTITY_KEYS = frozenset({"app_unfurl_url", "url", "external_ref", "entity_type", "entity_payload"})
PAYLOAD_KEYS = frozenset(
    {"attributes", "fields", "custom_fields", "slack_file", "display_order", "actions"}
)
CUSTOM_FIELD_TYPES = frozenset({"string", "integer", "boolean", "array", "slack#/types/date"})
MAX_PRIMARY_ACTIONS = 2


def entity_problems(entity: object) -> list[str]:
    """What Slack would reject in a Work Object entity."""
    p = _Problems()
    if not isinstance(entity, Mapping):
        p.add("", "must be an object")
        return p.messages
    for key in sorted(set(entity) - ENTITY_KEYS):
        p.add(f"/{key}", "is not a property of an entity")
    if entity.get("entity_type") not in ENTITY_TYPES:
        p.add("/entity_type", "must be one of Slack's entity types")
    for key in ("url", "app_unfurl_url"):
        p.string(entity.get(key), f"/{key}", 3000)
    if not entity.get("url"):
        p.add("/url", "is required")
    ref = entity.get("external_ref")
    if not isinstance(ref, Mapping) or not isinstance(ref.get("id"), str) or not ref["id"]:
        p.add("/external_ref/id", "is required")
    payload = entity.get("entity_payload")
    if not isinstance(payload, Mapping):
        p.add("/entity_payload", "is required")
        return p.messages
    _check_entity_payload(p, payload)
    return p.messages


def _check_entity_payload(p: _Problems, payload: Mapping[str, Any]) -> None:
    for key in sorted(set(payload) - PAYLOAD_KEYS):
        p.add(f"/entity_payload/{key}", "is not a property of an entity payload")
    title = (payload.get("attributes") or {}).get("title") or {}
    if (
        not isinstance(title, Mapping)
        or not isinstance(title.get("text"), str)
        or not title["text"]
    ):
        p.add("/entity_payload/attributes/title/text", "is required")
    for index, item in enumerate(payload.get("custom_fields") or []):
        here = f"/entity_payload/custom_fields/{index}"
        if not isinstance(item, Mapping) or not all(item.get(k) for k in ("key", "label")):
            p.add(here, "needs a key and a label")
        elif item.get("type") not in CUSTOM_FIELD_TYPES:
            p.add(f"{here}/type", "must be a custom field type")
    primary = (payload.get("actions") or {}).get("primary_actions") or []
    if len(primary) > MAX_PRIMARY_ACTIONS:
        p.add("/entity_payload/actions/primary_actions", "must provide at most 2 items")
    for index, action in enumerate(primary):
        if not isinstance(action, Mapping) or not (action.get("text") and action.get("action_id")):
            p.add(f"/entity_payload/actions/primary_actions/{index}", "needs text and action_id")
