"""Customer details: account information (the eight tabs and chart arrive with issue #5)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from bot.views.blocks import actions, button, context, escape, fields, modal, section
from bot.views.origin import Origin
from core.formatting import format_phone, format_when
from core.models import CustomerStatus
from core.services.customers import CustomerRecord

CALLBACK_ID = "customer_details.view"
EDIT_ACTION = "customer_details.edit"


class DetailsMeta(BaseModel):
    """Whose details these are and the hub they were opened from."""

    uid: str = Field(max_length=16)
    origin: Origin = Field(default_factory=Origin)

    @classmethod
    def parse(cls, raw: str | None) -> DetailsMeta | None:
        """None when the metadata is missing or not ours."""
        try:
            return cls.model_validate(json.loads(raw or ""))
        except (ValueError, ValidationError):
            return None


def customer_details(
    customer: CustomerRecord, *, timezone: str, origin: Origin | None = None
) -> dict[str, Any]:
    """UID, name, email (mailto), mobile (tel), updated; says plainly what is not built yet."""
    phone = format_phone(customer.mobile)
    status = " (archived)" if customer.status is CustomerStatus.ARCHIVED else ""
    blocks = [
        fields(
            [
                ("UID", customer.uid),
                ("Name", escape(customer.full_name) + status),
                ("Email", f"<mailto:{escape(customer.email)}|{escape(customer.email)}>"),
                ("Mobile", f"<tel:{customer.mobile}|{escape(phone)}>"),
                ("Updated", format_when(customer.updated_at, timezone)),
            ]
        ),
        actions([button("Edit", EDIT_ACTION, value=customer.uid)], block_id="details_actions"),
        section(
            ":construction: *Not available yet:* the sales chart and the Bookings, Appointments, "
            "Passes, Videos, Subscriptions, Questionnaires, Notes and Account tabs are being "
            "built and will appear here in a coming release."
        ),
        context("Until then, use Edit Contact, Archive and Delete from the customer list."),
    ]
    return modal(
        "Customer",
        blocks,
        callback_id=CALLBACK_ID,
        private_metadata=DetailsMeta(uid=customer.uid, origin=origin or Origin()).model_dump_json(),
    )
