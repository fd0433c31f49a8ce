"""Confirmation modals for actions that cannot be undone."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from bot.views.blocks import context, escape, form_modal, section
from bot.views.origin import Origin
from bot.views.payload import read_metadata
from core.formatting import format_phone
from core.services.customers import CustomerRecord

DELETE_CALLBACK_ID = "customer_delete.submit"


class DeleteMeta(BaseModel):
    """Which customer the confirmation is about and where to go back to."""

    uid: str = Field(max_length=16)
    origin: Origin = Field(default_factory=Origin)

    @classmethod
    def parse(cls, raw: object) -> DeleteMeta | None:
        """None when the metadata is missing or not ours."""
        return read_metadata(cls, raw)


def delete_confirmation(customer: CustomerRecord, meta: DeleteMeta) -> dict[str, Any]:
    """Ask before erasing a person: the overflow menu is one misclick away from Delete."""
    blocks = [
        section(
            f":warning: Permanently delete *{escape(customer.full_name)}* "
            f"({escape(customer.email)}, {escape(format_phone(customer.mobile))})?"
        ),
        section(
            "Their record and all of their history are erased and *cannot be restored*. "
            "Only an entry with their UID stays in the audit log."
        ),
        context(f"UID {customer.uid}  ·  To keep the data but hide them, use *Archive* instead."),
    ]
    return form_modal(
        "Delete customer?",
        blocks,
        meta,
        callback_id=DELETE_CALLBACK_ID,
        submit="Delete permanently",
        close="Keep customer",
    )
