"""The Anonymise confirmation: exactly what is erased and what is kept, before it happens."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from bot.views.blocks import Block, context, escape, form_modal, section
from bot.views.origin import Origin
from bot.views.payload import read_metadata
from core.formatting import format_phone
from core.services.customers import CustomerRecord

ANONYMISE_CALLBACK_ID = "customer_anonymise.submit"
REFUSED_CALLBACK_ID = "customer_anonymise.refused"

ERASED_TEXT = (
    "*Erased for good:* name, email, mobile, date of birth and portal password; notes; "
    "questionnaires and their answers; mail to them; the address payment links went to; and "
    "every name, email and number in their account history. The same goes for the records "
    "merged into them."
)
KEPT_TEXT = (
    "*Kept for the accounts:* bookings, appointments, passes, videos and subscriptions with "
    "their amounts, dates, refunds and Stripe payment ids, so sales and the chart still add "
    "up; the account history of what was done and when. The record stays as "
    "_Anonymised customer <UID>_ on the Archived tab and takes nothing new."
)
STRIPE_TEXT = (
    "This cannot be undone. Stripe keeps its own copy of payments and of the email a payment "
    "link went to: erase those in the Stripe dashboard if they must go too."
)


class AnonymiseMeta(BaseModel):
    """Which customer the confirmation is about, and the hub (and details) to refresh after."""

    uid: str = Field(max_length=16)
    origin: Origin = Field(default_factory=Origin)

    @classmethod
    def parse(cls, raw: object) -> AnonymiseMeta | None:
        """None when the metadata is missing or not ours."""
        return read_metadata(cls, raw)


def anonymise_confirmation(
    customer: CustomerRecord, meta: AnonymiseMeta, *, instead_of_delete: bool = False
) -> dict[str, Any]:
    """Ask before erasing a person's details; offered in Delete's place when they have payments."""
    who = (
        f"*{escape(customer.full_name)}* ({escape(customer.email)}, "
        f"{escape(format_phone(customer.mobile))})"
    )
    blocks: list[Block] = []
    if instead_of_delete:
        blocks.append(
            section(
                f":no_entry: {who} has payments the studio must keep for its accounts, so they "
                "cannot be deleted. *Anonymise* them instead?"
            )
        )
    else:
        blocks.append(section(f":warning: Anonymise {who}?"))
    blocks += [
        section(ERASED_TEXT),
        section(KEPT_TEXT),
        context(f"UID {customer.uid} · {STRIPE_TEXT}"),
    ]
    return form_modal(
        "Anonymise customer?",
        blocks,
        meta,
        callback_id=ANONYMISE_CALLBACK_ID,
        submit="Anonymise instead" if instead_of_delete else "Anonymise",
        close="Keep customer",
    )
