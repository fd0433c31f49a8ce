"""Tags and marketing consent on screen: the type-ahead tag picker, the details' Tags and
Marketing consent lines with their small forms, and the admins' Tags modal (rename, merge)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from bot.views.blocks import (
    Block,
    actions,
    button,
    clip,
    context,
    divider,
    escape,
    form_modal,
    header,
    modal,
    option,
    section,
)
from bot.views.inputs import TextField, input_block, radio_buttons, text_input
from bot.views.notice import Notice, notice_block
from bot.views.payload import as_row_id, chosen_in, read_metadata, typed_text
from bot.views.tabs import ReturnTo
from core.formatting import format_when
from core.models import TAG_MAX, ConsentSource, ConsentState
from core.services.consent import SOURCE_LABELS, STAFF_SOURCES, STATE_LABELS, Consent
from core.services.tags import TAGS_PER_CUSTOMER, TagUse, tag_key

# The one type-ahead picker of tags, in Create/Edit and in Edit tags; its options listener.
PICK_ACTION = "tags.pick"
TAGS_BLOCK = "tags"
EDIT_ACTION = "customer_details.tags"
CONSENT_ACTION = "customer_details.consent"
TAGS_CALLBACK = "customer_tags.submit"
CONSENT_CALLBACK = "customer_consent.submit"
CONSENT_STATE_BLOCK = "consent_state"
CONSENT_STATE_ACTION = "customer_consent.state"
CONSENT_SOURCE_BLOCK = "consent_source"
CONSENT_SOURCE_ACTION = "customer_consent.source"
PROFILE_BLOCK = "details_profile"
# The admins' Tags modal, opened from Home.
OPEN_ACTION = "tags.open"
ADMIN_CALLBACK = "tags_admin.submit"
SECTION_BLOCK = "tags_section"
ADMIN_TAG_BLOCK = "tag"
ADMIN_TAG_ACTION = "tags_admin.tag"
ADMIN_DO_BLOCK = "do"
ADMIN_DO_ACTION = "tags_admin.do"
NEW_NAME_BLOCK = "new_name"
NEW_NAME_ACTION = "tags_admin.new_name"
TARGET_BLOCK = "target"
TARGET_ACTION = "tags_admin.target"
# A static select holds at most 100 options; the list shows this many lines per section.
SELECT_MAX = 100
LINES_PER_SECTION = 40
CREATE_PREFIX = "New tag: "


class TagsFormMeta(ReturnTo):
    """Edit tags over a customer's details: the details to refresh afterwards."""

    @classmethod
    def parse(cls, raw: object) -> TagsFormMeta | None:
        """None when the metadata is missing or not ours."""
        return read_metadata(cls, raw)


class ConsentFormMeta(ReturnTo):
    """Marketing consent over a customer's details: the details to refresh afterwards."""

    @classmethod
    def parse(cls, raw: object) -> ConsentFormMeta | None:
        """None when the metadata is missing or not ours."""
        return read_metadata(cls, raw)


class TagsAdminMeta(BaseModel):
    """The admins' Tags modal: nothing to carry but that it is ours."""

    kind: Literal["tags_admin"] = "tags_admin"

    @classmethod
    def parse(cls, raw: object) -> TagsAdminMeta | None:
        """None when the metadata is missing or not ours."""
        return read_metadata(cls, raw)


def _tag_option(name: str, label: str = "") -> dict[str, Any]:
    return option(label or name, name)


def tag_options(known: list[str], typed: str) -> list[dict[str, Any]]:
    """The picker's suggestions: the tags matching what is typed, and the typed text as a new
    tag when no tag has that name (Slack's multi-select takes only offered options)."""
    offered = [_tag_option(name) for name in known]
    name = " ".join(typed.split())[:TAG_MAX]
    if name and all(tag_key(name) != tag_key(k) for k in known):
        offered.insert(0, _tag_option(name, f"{CREATE_PREFIX}{name}"))
    return offered


def tags_element(tags: list[str]) -> dict[str, Any]:
    """The type-ahead multi-select, holding `tags` to begin with."""
    element: dict[str, Any] = {
        "type": "multi_external_select",
        "action_id": PICK_ACTION,
        "placeholder": {"type": "plain_text", "text": "Type to find or add a tag"},
        "min_query_length": 0,
        "max_selected_items": TAGS_PER_CUSTOMER,
    }
    if tags:
        element["initial_options"] = [_tag_option(name) for name in tags[:TAGS_PER_CUSTOMER]]
    return element


def tags_input(tags: list[str]) -> Block:
    """The Tags field of a form."""
    return input_block(
        TAGS_BLOCK,
        "Tags",
        tags_element(tags),
        hint=f"Free tags such as VIP or Beginner; a new one is made as you type it (at most "
        f"{TAG_MAX} characters, no ';' or ',').",
        optional=True,
    )


def chosen_tags(state_values: dict[str, Any]) -> list[str]:
    """The tags chosen in a form's Tags field ([] when none or missing)."""
    block = state_values.get(TAGS_BLOCK)
    element = block.get(PICK_ACTION) if isinstance(block, dict) else None
    chosen = element.get("selected_options") if isinstance(element, dict) else None
    if not isinstance(chosen, list):
        return []
    return [str(o["value"]) for o in chosen if isinstance(o, dict) and o.get("value")][:100]


def consent_text(consent: Consent, timezone: str) -> str:
    """'Granted · 5 Jan 2026 10:00 · staff, on the phone', or 'Unknown'."""
    parts = [STATE_LABELS[consent.state]]
    if consent.at is not None:
        parts.append(format_when(consent.at, timezone))
    if consent.source is not None:
        parts.append(f"through {SOURCE_LABELS[consent.source]}")
    return " · ".join(parts)


def profile_blocks(
    tags: list[str], consent: Consent, timezone: str, *, editable: bool
) -> list[Block]:
    """The details' Tags and Marketing consent lines, with Edit tags and Change when the
    record takes changes."""
    shown = " ".join(f"`{escape(name)}`" for name in tags) if tags else "none"
    tag_button = button("Edit tags", EDIT_ACTION, value="tags") if editable else None
    consent_button = button("Change", CONSENT_ACTION, value="consent") if editable else None
    return [
        section(f"*Tags* {shown}", accessory=tag_button, block_id=PROFILE_BLOCK),
        section(
            f"*Marketing consent* {escape(consent_text(consent, timezone))}",
            accessory=consent_button,
            block_id="details_consent",
        ),
    ]


def with_profile(view: dict[str, Any], blocks: list[Block]) -> dict[str, Any]:
    """The details with the Tags and consent lines under the contact details."""
    shown = list(view["blocks"])
    # After the header and the contact fields.
    shown[2:2] = blocks
    return {**view, "blocks": shown}


def tags_form(meta: TagsFormMeta, name: str, tags: list[str]) -> dict[str, Any]:
    """Edit tags of customer `name`."""
    blocks: list[Block] = [
        section(f"Tags of *{escape(clip(name, 200))}*"),
        tags_input(tags),
        context("Remove a tag with its ×; an empty field removes them all."),
    ]
    return form_modal("Edit tags", blocks, meta, callback_id=TAGS_CALLBACK, submit="Save")


def _state_option(state: ConsentState) -> dict[str, Any]:
    return option(STATE_LABELS[state], state.value)


def _source_option(source: ConsentSource) -> dict[str, Any]:
    return option(SOURCE_LABELS[source].capitalize(), source.value)


def consent_form(meta: ConsentFormMeta, name: str, consent: Consent) -> dict[str, Any]:
    """Record customer `name`'s marketing consent and how they gave it."""
    source = consent.source if consent.source in STAFF_SOURCES else ConsentSource.PHONE
    blocks: list[Block] = [
        section(f"Marketing consent of *{escape(clip(name, 200))}*"),
        input_block(
            CONSENT_STATE_BLOCK,
            "May we send them marketing mail?",
            radio_buttons(
                CONSENT_STATE_ACTION,
                [_state_option(state) for state in ConsentState],
                chosen=_state_option(consent.state),
            ),
        ),
        input_block(
            CONSENT_SOURCE_BLOCK,
            "How did they say so?",
            radio_buttons(
                CONSENT_SOURCE_ACTION,
                [_source_option(s) for s in STAFF_SOURCES],
                chosen=_source_option(source),
            ),
        ),
        context("Welcome, password and payment mails go out whatever is chosen here."),
    ]
    return form_modal(
        "Marketing consent", blocks, meta, callback_id=CONSENT_CALLBACK, submit="Save"
    )


def chosen_consent(
    state_values: dict[str, Any],
) -> tuple[ConsentState | None, ConsentSource | None]:
    """The state and source chosen (None for one missing or not ours)."""
    state = chosen_in(state_values, CONSENT_STATE_BLOCK, CONSENT_STATE_ACTION)
    source = chosen_in(state_values, CONSENT_SOURCE_BLOCK, CONSENT_SOURCE_ACTION)
    states = {s.value: s for s in ConsentState}
    sources = {s.value: s for s in STAFF_SOURCES}
    return states.get(state), sources.get(source)


def tags_section(*, admin: bool) -> list[Block]:
    """Home's section for admins: the button opening the Tags modal."""
    if not admin:
        return []
    return [
        divider(),
        header("Tags"),
        context("The workspace's tags and how many customers hold each; rename or merge them."),
        actions([button("Manage tags", OPEN_ACTION, value="open")], block_id=SECTION_BLOCK),
    ]


def _listing(tags: list[TagUse]) -> list[Block]:
    lines = [
        f"`{escape(tag.name)}` · {tag.customers} customer{'s' if tag.customers != 1 else ''}"
        for tag in tags
    ]
    return [
        section("\n".join(lines[start : start + LINES_PER_SECTION]))
        for start in range(0, len(lines), LINES_PER_SECTION)
    ]


def _tag_select(action_id: str, tags: list[TagUse]) -> dict[str, Any]:
    return {
        "type": "static_select",
        "action_id": action_id,
        "placeholder": {"type": "plain_text", "text": "Choose a tag"},
        "options": [option(tag.name, str(tag.id)) for tag in tags[:SELECT_MAX]],
    }


def tags_admin_modal(tags: list[TagUse], notice: Notice | None = None) -> dict[str, Any]:
    """The admins' Tags modal: every tag with its count, and a form to rename one or merge it
    into another."""
    blocks: list[Block] = [notice_block(notice)] if notice is not None else []
    if not tags:
        blocks.append(section("No tags yet. Staff add them on a customer's details or form."))
        return modal("Tags", blocks, callback_id=ADMIN_CALLBACK, close="Done")
    blocks.extend(_listing(tags))
    if len(tags) > SELECT_MAX:
        blocks.append(context(f"The first {SELECT_MAX} tags (A→Z) can be chosen below."))
    do = [option("Rename it", "rename"), option("Merge it into another tag", "merge")]
    blocks.extend(
        [
            divider(),
            input_block(ADMIN_TAG_BLOCK, "Tag", _tag_select(ADMIN_TAG_ACTION, tags)),
            input_block(ADMIN_DO_BLOCK, "Do", radio_buttons(ADMIN_DO_ACTION, do, chosen=do[0])),
            text_input(
                TextField(
                    NEW_NAME_BLOCK,
                    "New name (to rename)",
                    NEW_NAME_ACTION,
                    optional=True,
                    max_length=TAG_MAX,
                    hint="Only its case? That is a rename too.",
                )
            ),
            input_block(
                TARGET_BLOCK,
                "Merge into (to merge)",
                _tag_select(TARGET_ACTION, tags),
                optional=True,
                hint="Customers holding both end with the one kept.",
            ),
        ]
    )
    return form_modal(
        "Tags",
        blocks,
        TagsAdminMeta(),
        callback_id=ADMIN_CALLBACK,
        submit="Apply",
        close="Done",
    )


def admin_choice(state_values: dict[str, Any]) -> tuple[int | None, str, str, int | None]:
    """What the admin chose: the tag's id, rename or merge, the new name, the target's id."""
    return (
        as_row_id(chosen_in(state_values, ADMIN_TAG_BLOCK, ADMIN_TAG_ACTION)),
        chosen_in(state_values, ADMIN_DO_BLOCK, ADMIN_DO_ACTION) or "rename",
        typed_text(state_values, NEW_NAME_BLOCK, NEW_NAME_ACTION),
        as_row_id(chosen_in(state_values, TARGET_BLOCK, TARGET_ACTION)),
    )


def refused_modal(text: str) -> dict[str, Any]:
    """Said in a form's place when it can't be done (e.g. someone not an admin)."""
    return modal("Tags", [section(escape(text))], callback_id="tags.refused")
