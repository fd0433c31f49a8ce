"""The catalog's items on screen: Home's buttons per kind, the list modal of a kind with its
menus, and the admins' modal to add or edit one item."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.views.blocks import (
    Block,
    actions,
    button,
    clip,
    context,
    escape,
    form_modal,
    header,
    modal,
    option,
    overflow,
    section,
)
from bot.views.commerce.form_state import FormValues
from bot.views.inputs import TextField, input_block, static_select, text_input
from bot.views.notice import Notice, notice_block
from bot.views.payload import DB_INT_MAX, as_row_id
from core.formatting import counted
from core.services.catalog_items import ItemList, ItemRow, LinkOption
from core.services.catalog_rules import INTERVALS, NAME_MAX, RULES, ItemDraft, ItemKind

OPEN_ACTION_PREFIX = "catalog.items."
LIST_CALLBACK_ID = "catalog_items.list"
CALLBACK_ID = "catalog_item.submit"
MESSAGE_CALLBACK_ID = "catalog_item.message"
ADD_ACTION = "catalog_items.add"
MENU_ACTION = "catalog_items.menu"
# Each input's block_id is the field's name in ItemDraft; its action_id `catalog_item.<name>`.
LINKS_FIELD = "links"
# The most a plain_text_input holds.
SLACK_TEXT_MAX = 3000
FieldKind = Literal["text", "long", "select", "links", "user"]


@dataclass(frozen=True)
class FieldSpec:
    """One field of an item's modal."""

    name: str
    label: str
    kind: FieldKind = "text"
    placeholder: str = ""
    hint: str = ""
    optional: bool = False
    max_length: int | None = 9
    choices: tuple[tuple[str, str], ...] = ()


def _name(placeholder: str, label: str = "Name") -> FieldSpec:
    return FieldSpec("name", label, placeholder=placeholder, max_length=NAME_MAX)


_PRICE = FieldSpec(
    "price",
    "Price",
    placeholder="45.00",
    hint="In the studio's currency; 0 for free.",
    max_length=20,
)
FORMS: dict[ItemKind, tuple[FieldSpec, ...]] = {
    ItemKind.SERVICE: (
        _name("Massage (60 min)"),
        FieldSpec("duration", "Length in minutes", placeholder="60"),
        _PRICE,
        FieldSpec(
            "credits",
            "Credits",
            placeholder="1",
            hint="Pass credits it costs; blank: 1.",
            optional=True,
        ),
        FieldSpec(
            LINKS_FIELD, "Given by", "links", hint="The facilitators who give it.", optional=True
        ),
    ),
    ItemKind.FACILITATOR: (
        _name("Jo Smith"),
        FieldSpec(
            "slack_user",
            "Slack user",
            "user",
            hint="Their Slack account, if they have one.",
            optional=True,
        ),
        FieldSpec(LINKS_FIELD, "Gives", "links", hint="The services they give.", optional=True),
    ),
    ItemKind.PASS_TYPE: (
        _name("10-class pass"),
        FieldSpec("credits", "Credits", placeholder="10", hint="How many credits the pass holds."),
        FieldSpec(
            "validity",
            "Valid for (days)",
            placeholder="90",
            hint="Counted from the day it is assigned.",
        ),
        _PRICE,
    ),
    ItemKind.VIDEO: (
        _name("Yin Yoga basics", "Title"),
        _PRICE,
        FieldSpec(
            "credits",
            "Credits",
            placeholder="1",
            hint="Blank: it can't be paid with a pass.",
            optional=True,
        ),
        FieldSpec(
            "access_days",
            "Access (days)",
            placeholder="30",
            hint="Blank: watchable for ever.",
            optional=True,
        ),
    ),
    ItemKind.PLAN: (
        _name("Monthly unlimited"),
        _PRICE,
        FieldSpec(
            "interval",
            "Billed every",
            "select",
            choices=tuple((i.capitalize(), i) for i in INTERVALS),
        ),
        FieldSpec(
            "stripe_price",
            "Stripe price id",
            placeholder="price_1Abc…",
            hint="The price in your Stripe account that bills this plan; blank for manual billing.",
            optional=True,
            max_length=64,
        ),
    ),
    ItemKind.QUESTIONNAIRE: (
        _name("Health questionnaire"),
        FieldSpec(
            "questions",
            "Questions",
            "long",
            placeholder="Any injuries we should know of?\nDo you agree to the waiver? [yes/no]",
            hint="One question a line; a type in brackets at its end: [long], [yes/no], "
            "[choice: A, B, C], [date] or [number] (none: a short text answer).",
            max_length=SLACK_TEXT_MAX,
        ),
    ),
}


class ItemsMeta(BaseModel):
    """private_metadata of a kind's list modal."""

    kind: ItemKind


class ItemMeta(BaseModel):
    """private_metadata of the item modal: its kind, the item edited (0: new), the list under it."""

    kind: ItemKind
    item_id: int = Field(default=0, ge=0, le=DB_INT_MAX)
    list_view: str = Field(default="", max_length=32, pattern=r"^[A-Z0-9]*$")


def open_action(kind: ItemKind) -> str:
    """The action_id of Home's button that lists `kind`."""
    return f"{OPEN_ACTION_PREFIX}{kind.value}"


def kind_buttons() -> Block:
    """Home's row of buttons, one per kind, each opening that kind's list."""
    buttons = [button(RULES[kind].plural, open_action(kind), value=kind.value) for kind in FORMS]
    return actions(buttons, block_id="catalog_kinds")


def _row(row: ItemRow, *, admin: bool) -> Block:
    who = f"<@{row.slack_user}> · " if row.slack_user else ""
    text = f"*{escape(clip(row.title, 150))}*\n{who}{escape(clip(row.summary, 500))}"
    if not admin:
        return section(text, block_id=f"item_{row.id}")
    verbs = [("Restore", "restore")] if row.archived else [("Edit", "edit"), ("Archive", "archive")]
    menu = overflow(MENU_ACTION, [option(label, f"{verb}|{row.id}") for label, verb in verbs])
    return section(text, accessory=menu, block_id=f"item_{row.id}")


def items_modal(
    kind: ItemKind, items: ItemList, notice: Notice | None, *, admin: bool
) -> dict[str, Any]:
    """The list of a kind's items: current ones, then archived ones; menus for admins."""
    rules = RULES[kind]
    blocks: list[Block] = [notice_block(notice)] if notice else []
    if admin:
        blocks.append(
            actions(
                [button(f"Add {rules.noun}", ADD_ACTION, value=kind.value)], block_id="items_add"
            )
        )
    else:
        blocks.append(context("Read only: your admins change the catalog."))
    current = [row for row in items.rows if not row.archived]
    archived = [row for row in items.rows if row.archived]
    if not current:
        blocks.append(context(f"No {rules.plural.lower()} yet."))
    blocks.extend(_row(row, admin=admin) for row in current)
    if archived:
        blocks.append(header("Archived"))
        blocks.append(context("Kept on what already uses them; nothing new can."))
        blocks.extend(_row(row, admin=admin) for row in archived)
    if items.total > len(items.rows):
        more = counted(items.total - len(items.rows), "more", "more")
        blocks.append(context(f"…and {more}; `customer-bot catalog export` lists them all."))
    meta = ItemsMeta(kind=kind).model_dump_json()
    return modal(rules.plural, blocks, callback_id=LIST_CALLBACK_ID, private_metadata=meta)


def _links_element(
    spec: FieldSpec, options: list[LinkOption], chosen: tuple[int, ...]
) -> dict[str, Any]:
    offered = [option(clip(o.title, 75), str(o.id)) for o in options]
    element: dict[str, Any] = {
        "type": "multi_static_select",
        "action_id": f"catalog_item.{spec.name}",
        "options": offered,
    }
    kept = [o for o in offered if as_row_id(o["value"]) in set(chosen)]
    if kept:
        element["initial_options"] = kept
    return element


def _field(spec: FieldSpec, draft: ItemDraft, options: list[LinkOption]) -> Block | None:
    action_id = f"catalog_item.{spec.name}"
    value = draft.text(spec.name)
    if spec.kind in ("text", "long") and spec.max_length and len(value) > spec.max_length:
        return context(
            f"*{spec.label}:* {len(value):,} characters, more than a Slack field holds "
            f"({spec.max_length:,}); they stay as they are. Change them in the catalog file "
            "(`customer-bot catalog export`, then `import`)."
        )
    if spec.kind in ("text", "long"):
        field = TextField(
            spec.name,
            spec.label,
            action_id,
            spec.placeholder,
            spec.hint,
            spec.optional,
            spec.max_length,
            multiline=spec.kind == "long",
        )
        return text_input(field, value)
    if spec.kind == "select":
        offered = [option(label, choice) for label, choice in spec.choices]
        chosen = next((o for o in offered if o["value"] == value), None)
        element = static_select(action_id, offered, placeholder="Choose", chosen=chosen)
    elif spec.kind == "user":
        element = {
            "type": "users_select",
            "action_id": action_id,
            "placeholder": {"type": "plain_text", "text": "Choose a person"},
        }
        if value:
            element["initial_user"] = value
    elif not options:
        return None
    else:
        element = _links_element(spec, options, draft.links)
    return input_block(spec.name, spec.label, element, hint=spec.hint, optional=spec.optional)


def item_modal(draft: ItemDraft, meta: ItemMeta, options: list[LinkOption]) -> dict[str, Any]:
    """The modal adding (`meta.item_id` 0) or editing one item of `meta.kind`, filled with `draft`."""
    rules = RULES[meta.kind]
    blocks = [
        block for spec in FORMS[meta.kind] if (block := _field(spec, draft, options)) is not None
    ]
    editing = meta.item_id > 0
    title = f"{'Edit' if editing else 'Add'} {rules.noun}"
    return form_modal(
        title, blocks, meta, callback_id=CALLBACK_ID, submit="Save" if editing else "Add"
    )


def submitted_item(kind: ItemKind, state: dict[str, Any]) -> ItemDraft:
    """What the item modal's fields held when it was submitted."""
    values = FormValues(state)
    fields: dict[str, str] = {}
    links: tuple[int, ...] = ()
    for spec in FORMS[kind]:
        if spec.kind in ("text", "long"):
            # A field too long to show was left out of the form: it keeps its stored value.
            if spec.name in state:
                fields[spec.name] = values.text(spec.name)
        elif spec.kind == "select":
            fields[spec.name] = values.choice(spec.name) or ""
        elif spec.kind == "user":
            fields[spec.name] = values.user(spec.name)
        else:
            links = tuple(sorted({i for v in values.choices(spec.name) if (i := as_row_id(v))}))
    return ItemDraft(fields, links)


def item_message(text: str) -> dict[str, Any]:
    """What replaces the item modal when it can't be saved for a reason no field shows."""
    return modal("Catalog", [section(text)], callback_id=MESSAGE_CALLBACK_ID)
