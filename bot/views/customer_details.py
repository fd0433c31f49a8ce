"""A customer's details: account information, 12-month sales activity, and the eight tabs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.views.blocks import (
    Block,
    actions,
    button,
    clip,
    context,
    divider,
    escape,
    fields,
    header,
    modal,
    plain,
    section,
)
from bot.views.figures import figures_block
from bot.views.history import history_entry
from bot.views.household import household_blocks
from bot.views.notice import Notice, notice_block
from bot.views.origin import DetailsState
from bot.views.sales_text import LEGEND, text_chart
from bot.views.tabs import PAGE_SIZES, DetailsMeta, pager, search_input, shown_of, tab_buttons
from core.formatting import format_phone, format_when
from core.models import CustomerStatus
from core.services.account import HistoryRow
from core.services.customers import CustomerRecord
from core.services.figures import Figures
from core.services.household import Member
from core.services.paging import Page
from core.services.sales import SalesSeries

CALLBACK_ID = "customer_details.view"
EDIT_ACTION = "customer_details.edit"
POST_CHART_ACTION = "customer_details.post_chart"
ARCHIVE_ACTION = "customer_details.archive"
ACTIVATE_ACTION = "customer_details.activate"
UNDO_ACTION = "customer_details.undo"
MERGE_ACTION = "customer_details.merge"
OPEN_ACTION = "customer_details.open"
PASSWORD_RESET_ACTION = "customer_details.password_reset"  # noqa: S105 - an action id
EXPORT_DATA_ACTION = "customer_details.export_data"
ANONYMISE_ACTION = "customer_details.anonymise"
COPY_LINK_ACTION = "customer_details.copy_link"
LINK_CALLBACK = "customer_details.link"
IMAGE_URL_MAX = 3000


@dataclass(frozen=True)
class SalesActivity:
    """What the details show above the tabs besides the contact details: the last 12 months'
    sales, where their chart can be fetched as an image (if it can), the customer's figures
    and the people linked to them."""

    series: SalesSeries
    chart_url: str | None = None
    figures: Figures | None = None
    household: list[Member] | None = None


def _status(customer: CustomerRecord, timezone: str) -> Block | None:
    if customer.anonymised_at is not None:
        return context(
            f":bust_in_silhouette: *Anonymised* {format_when(customer.anonymised_at, timezone)} — "
            "personal details erased; bookings and payments kept for the accounts."
        )
    if customer.merged_into_uid is not None:
        return section(
            f":twisted_rightwards_arrows: *Archived* — merged into UID {customer.merged_into_uid}. "
            "Their bookings, passes and history now belong to that customer.",
            accessory=button("Open kept customer", OPEN_ACTION, value=customer.merged_into_uid),
            block_id="details_status",
        )
    if customer.status is CustomerStatus.ARCHIVED:
        return context(":file_cabinet: *Archived* — hidden from the active list; all data is kept.")
    return None


def _mobile(mobile: str) -> str:
    # Customers imported from another system may come without one.
    return f"<tel:{mobile}|{escape(format_phone(mobile))}>" if mobile else "—"


def _account_information(customer: CustomerRecord, timezone: str) -> list[Block]:
    email = escape(customer.email)
    blocks: list[Block] = [
        header(customer.full_name),
        fields(
            [
                ("UID", customer.uid),
                ("Name", escape(customer.full_name)),
                ("Email", f"<mailto:{email}|{email}>"),
                ("Mobile", _mobile(customer.mobile)),
                ("Updated", format_when(customer.updated_at, timezone)),
            ]
        ),
    ]
    status = _status(customer, timezone)
    if status is not None:
        blocks.append(status)
    # An anonymised record takes no contact details again.
    buttons = [] if customer.anonymised_at else [button("Edit", EDIT_ACTION, value=customer.uid)]
    buttons.append(button("Post chart", POST_CHART_ACTION, value=customer.uid))
    blocks.append(actions(buttons, block_id="details_actions"))
    return blocks


def _sales(sales: SalesActivity, name: str) -> list[Block]:
    blocks: list[Block] = [
        section(
            f"*Sales activity* · last 12 months\n{text_chart(sales.series)}",
            block_id="details_sales",
        )
    ]
    if sales.chart_url and len(sales.chart_url) <= IMAGE_URL_MAX:
        blocks.append(
            {
                "type": "image",
                "block_id": "details_chart",
                "image_url": sales.chart_url,
                "alt_text": clip(f"Sales of {name} per month: bookings, passes and videos", 2000),
            }
        )
    blocks.append(context(LEGEND + " · *Post chart* shares it as an image."))
    return blocks


def _confirm_reset(customer: CustomerRecord) -> dict[str, Any]:
    return {
        "title": plain("Send a new password?", 100),
        "text": plain(
            f"{customer.full_name} gets a new password by email at {customer.email}; the one they "
            "have now stops working.",
            300,
        ),
        "confirm": plain("Send it", 30),
        "deny": plain("Cancel", 30),
    }


def account_tab(
    customer: CustomerRecord,
    state: DetailsState,
    history: Page[HistoryRow],
    *,
    timezone: str,
    admin: bool = False,
) -> list[Block]:
    """Archive (or Activate), Merge and Anonymise (for admins), and the account history, newest
    first; an anonymised record offers none of them."""
    if customer.anonymised_at is not None:
        return [
            section(f"*Account* · UID {customer.uid}", block_id="details_header"),
            context(
                "*Anonymised*: nothing about the person is left to change; it cannot be undone."
            ),
            *_history_blocks(customer, state, history, timezone),
        ]
    archived = customer.status is CustomerStatus.ARCHIVED
    buttons = [
        button("Activate Customer", ACTIVATE_ACTION, value=customer.uid)
        if archived
        else button("Archive Customer", ARCHIVE_ACTION, value=customer.uid)
    ]
    if not archived:
        buttons.append(
            button(
                "Send password reset",
                PASSWORD_RESET_ACTION,
                value=customer.uid,
                confirm=_confirm_reset(customer),
            )
        )
    if admin:
        # Subject access: everything held about them, as a file in the admin's DM.
        buttons.append(button("Export data (JSON)", EXPORT_DATA_ACTION, value=customer.uid))
    if customer.merged_into_uid is None and admin:
        buttons.append(button("Merge Customer", MERGE_ACTION, value=customer.uid, style="danger"))
        buttons.append(button("Anonymise", ANONYMISE_ACTION, value=customer.uid, style="danger"))
    blocks: list[Block] = [
        section(f"*Account* · UID {customer.uid}", block_id="details_header"),
        actions(buttons, block_id="details_account"),
        context(
            "*Archive* hides them from the active list and keeps everything; it can be undone."
            + (
                " *Export data* sends everything held about them to your DM as a JSON file."
                " *Merge* moves everything to another customer and archives this one; "
                "*Anonymise* erases their personal details and keeps their bookings and payments. "
                "Neither can be undone."
                if admin
                else ""
            )
        ),
        *_history_blocks(customer, state, history, timezone),
    ]
    return blocks


def _history_blocks(
    customer: CustomerRecord, state: DetailsState, history: Page[HistoryRow], timezone: str
) -> list[Block]:
    blocks: list[Block] = []
    if history.total:
        summary = shown_of(history, "entry", "entries")
    elif state.q:
        summary = f"no entries match '{escape(clip(state.q, 60))}' — clear the search to see all"
    else:
        summary = "no changes recorded yet"
    blocks.append(search_input(state))
    blocks.append(section(f"*Account History* · {summary}", block_id="details_history"))
    blocks.extend(
        history_entry(entry, uid=customer.uid, timezone=timezone)
        for entry in history.rows[: PAGE_SIZES[state.tab]]
    )
    blocks.extend(pager(history))
    return blocks


def customer_details(
    meta: DetailsMeta,
    customer: CustomerRecord,
    sales: SalesActivity,
    body: list[Block],
    *,
    timezone: str,
    notice: Notice | None = None,
) -> dict[str, Any]:
    """The details modal: account information, sales activity, figures and household, tabs,
    and the tab's `body`."""
    blocks = _account_information(customer, timezone)
    blocks.extend(_sales(sales, customer.full_name))
    if sales.figures is not None:
        blocks.append(figures_block(sales.figures, timezone))
    if sales.household is not None:
        blocks.extend(household_blocks(customer, sales.household))
    blocks.append(divider())
    blocks.append(tab_buttons(meta.state.tab))
    if notice is not None:
        blocks.append(notice_block(notice))
    blocks.extend(body)
    # Slack requires a submit button beside input blocks: on a tab with a search box it searches.
    searchable = any(block.get("type") == "input" for block in body)
    return modal(
        "Customer",
        blocks,
        callback_id=CALLBACK_ID,
        private_metadata=meta.model_dump_json(),
        submit="Search" if searchable else None,
    )


def with_link(view: dict[str, Any], uid: str) -> dict[str, Any]:
    """The details with a *Copy link* button under the contact details, for a customer whose
    link unfurls as a card (bot/views/unfurls.py)."""
    blocks = list(view["blocks"])
    share = section(
        ":link: A link to this customer, to share with staff",
        accessory=button("Copy link", COPY_LINK_ACTION, value=uid),
    )
    # After the header and the contact fields.
    blocks.insert(2, share)
    return {**view, "blocks": blocks}


def link_modal(name: str, link: str) -> dict[str, Any]:
    """The customer's link, shown alone to be selected and copied (Slack has no clipboard
    button); pasted into a conversation it unfurls as a card."""
    return modal(
        "Link to this customer",
        [
            section(f"*{escape(clip(name, 200))}*"),
            {
                "type": "rich_text",
                "elements": [
                    {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": link}]}
                ],
            },
            context(
                "Paste it where staff talk: it shows the customer's details only in "
                "conversations whose members are all staff, and opens the record for staff only."
            ),
        ],
        callback_id=LINK_CALLBACK,
        close="Done",
    )
