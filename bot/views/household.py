"""Linked people: the Household section of a customer's details and the Link someone form."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.views.blocks import (
    BUTTON_TEXT_MAX,
    Block,
    actions,
    button,
    clip,
    context,
    escape,
    form_modal,
    option,
    plain,
    section,
)
from bot.views.inputs import external_select, input_block, static_select
from bot.views.payload import chosen_in, read_metadata
from bot.views.tabs import ReturnTo
from core.models import Relation
from core.services.customers import CustomerRecord
from core.services.household import PERSON_FIELD, Member

ADD_ACTION = "household.add"
OPEN_ACTION = "household.open"
UNLINK_ACTION = "household.unlink"
CALLBACK_ID = "household.submit"
# The block ids are the service's field names, so a refusal lands under its field.
PERSON_BLOCK = PERSON_FIELD
PERSON_ACTION = "household.person"
RELATION_BLOCK = "relation"
RELATION_ACTION = "household.relation"
MAX_CANDIDATES = 20
# Linked people shown on the details, one row each; the modal's 100 blocks hold the tabs too.
SHOWN_MAX = 6


class HouseholdMeta(ReturnTo):
    """The Link someone form over a customer's details (`details.uid`), and their name."""

    name: str = Field(default="", max_length=300)

    @classmethod
    def parse(cls, raw: object) -> HouseholdMeta | None:
        """None when the metadata is missing or not ours."""
        return read_metadata(cls, raw)


def _confirm_unlink(member: Member) -> dict[str, Any]:
    return {
        "title": plain("Unlink?", 100),
        "text": plain(
            f"{member.name} leaves this household; neither record changes otherwise.", 300
        ),
        "confirm": plain("Unlink", 30),
        "deny": plain("Keep", 30),
        "style": "danger",
    }


def _member_row(member: Member) -> Block:
    suffix = " (archived)" if member.archived else ""
    label = clip(member.text, BUTTON_TEXT_MAX - len(suffix)) + suffix
    return actions(
        [
            button(label, OPEN_ACTION, value=member.uid),
            button("Unlink", UNLINK_ACTION, value=member.uid, confirm=_confirm_unlink(member)),
        ],
        block_id=f"household_{member.uid}",
    )


def household_blocks(customer: CustomerRecord, members: list[Member]) -> list[Block]:
    """The Household section: each linked person opens with one click; *Link someone* unless
    the record takes nothing new (anonymised, or merged into another: then no section at all
    once no one is linked)."""
    closed = customer.anonymised_at is not None or customer.merged_into_uid is not None
    if closed and not members:
        return []
    summary = "" if members else " · no one linked yet"
    add = None if closed else button("Link someone", ADD_ACTION, value=customer.uid)
    blocks: list[Block] = [
        section(f"*Household*{summary}", accessory=add, block_id="details_household")
    ]
    blocks.extend(_member_row(member) for member in members[:SHOWN_MAX])
    if len(members) > SHOWN_MAX:
        more = len(members) - SHOWN_MAX
        blocks.append(context(f"…and {more} more; open one of them to see their household."))
    return blocks


def person_option(customer: CustomerRecord) -> dict[str, Any]:
    """One customer in the picker: name and email, value the UID."""
    return option(f"{customer.full_name} · {customer.email}", customer.uid)


def person_options(found: list[CustomerRecord], uid: str) -> list[dict[str, Any]]:
    """The picker's options for what was typed, never the customer themselves."""
    return [person_option(c) for c in found if c.uid != uid][:MAX_CANDIDATES]


def _relation_options(name: str) -> list[dict[str, Any]]:
    return [
        option(f"{clip(name, 50)} is their {relation.value}", relation.value)
        for relation in Relation
    ]


def link_form(meta: HouseholdMeta) -> dict[str, Any]:
    """Choose a customer and what this customer is to them."""
    name = escape(clip(meta.name, 200))
    blocks: list[Block] = [
        section(
            f"Link someone to *{name}*. Each shows in the other's Household; staff booking "
            "for a child see the parent who pays."
        ),
        input_block(
            PERSON_BLOCK,
            "Person",
            external_select(
                PERSON_ACTION, placeholder="Type a name, email or mobile", min_query_length=1
            ),
        ),
        input_block(
            RELATION_BLOCK,
            "Relation",
            static_select(RELATION_ACTION, _relation_options(meta.name), placeholder="Choose one"),
        ),
    ]
    return form_modal("Link someone", blocks, meta, callback_id=CALLBACK_ID, submit="Link")


def submitted(state_values: dict[str, Any]) -> tuple[str, Relation | None]:
    """The chosen person's UID ('' when none) and relation (None when none or not one)."""
    uid = chosen_in(state_values, PERSON_BLOCK, PERSON_ACTION)
    relation = chosen_in(state_values, RELATION_BLOCK, RELATION_ACTION)
    return uid, Relation(relation) if relation in set(Relation) else None


def paid_by(payer: str) -> str:
    """' Paid for by *Sam Adams* (parent).' for a booking form, or '' without a parent."""
    return f" Paid for by *{escape(clip(payer, 300))}* (parent)." if payer else ""
